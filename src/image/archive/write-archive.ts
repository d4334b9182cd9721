import { createReadStream, createWriteStream, mkdirSync, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { pack, type Pack } from 'tar-stream';
import { HakoError } from '../../common/errors.ts';
import { atomicWriteFile } from '../../common/fs.ts';
import type { ContentStore } from '../content-store.ts';
import { parseDigest } from '../digest.ts';
import type { ImageConfig, ImageManifest } from '../manifest.ts';
import { layerCompression, MediaType } from '../media-types.ts';
import { decompress } from '../decompress.ts';

/** An image to write: its manifest (already in the store) and the names to give it. */
export interface SavedImage {
  manifestDigest: string;
  manifest: ImageManifest;
  config: ImageConfig;
  names: string[];
}

/**
 * `docker save`'s format (what `docker load` reads): `<config hex>.json`, one
 * `<diff id hex>/layer.tar` per layer, uncompressed, and manifest.json naming them.
 */
export async function writeDockerArchive(images: SavedImage[], store: ContentStore, out: NodeJS.WritableStream): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), 'hako-save-'));
  try {
    await intoTar(out, async (tar) => {
      const written = new Set<string>();
      const manifest: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
      for (const img of images) {
        const configName = `${parseDigest(img.manifest.config.digest).hex}.json`;
        if (!written.has(configName)) await addBlob(tar, configName, store, img.manifest.config.digest);
        written.add(configName);
        const layers: string[] = [];
        for (const [i, l] of img.manifest.layers.entries()) {
          const name = `${parseDigest(img.config.rootfs.diff_ids[i]!).hex}/layer.tar`;
          if (!written.has(name)) await addLayer(tar, name, store, l.digest, l.mediaType, scratch);
          written.add(name);
          layers.push(name);
        }
        manifest.push({ Config: configName, RepoTags: img.names, Layers: layers });
      }
      await addBytes(tar, 'manifest.json', Buffer.from(JSON.stringify(manifest)));
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** An OCI image layout, as a tar stream: oci-layout, index.json and blobs as stored. */
export async function writeOciLayoutTar(saved: SavedImage[], store: ContentStore, out: NodeJS.WritableStream): Promise<void> {
  const images = await asOci(saved, store);
  await intoTar(out, async (tar) => {
    await addBytes(tar, 'oci-layout', Buffer.from(OCI_LAYOUT));
    await addBytes(tar, 'index.json', Buffer.from(JSON.stringify(indexFor(images, store))));
    for (const digest of new Set(blobsOf(images))) {
      const { algorithm, hex } = parseDigest(digest);
      await addBlob(tar, `blobs/${algorithm}/${hex}`, store, digest);
    }
  });
}

/** Packs what fill adds into out; on any error the stream is torn down, never left half-open. */
async function intoTar(out: NodeJS.WritableStream, fill: (tar: Pack) => Promise<void>): Promise<void> {
  const tar = pack();
  const done = pipeline(tar, out);
  try {
    await fill(tar);
    tar.finalize();
    await done;
  } catch (err) {
    tar.destroy(err as Error);
    await done.catch(() => {});
    throw err;
  }
}

/** An OCI image layout directory; index.json is written last and atomically. */
export async function writeOciLayoutDir(saved: SavedImage[], store: ContentStore, dir: string): Promise<void> {
  const images = await asOci(saved, store);
  for (const digest of new Set(blobsOf(images))) {
    const { algorithm, hex } = parseDigest(digest);
    mkdirSync(join(dir, 'blobs', algorithm), { recursive: true });
    const target = join(dir, 'blobs', algorithm, hex);
    if (statSync(target, { throwIfNoEntry: false })?.size === store.size(digest)) continue;
    const tmp = `${target}.tmp-${process.pid}`;
    await pipeline(store.createReadStream(digest), createWriteStream(tmp));
    renameSync(tmp, target);
  }
  atomicWriteFile(join(dir, 'oci-layout'), OCI_LAYOUT);
  atomicWriteFile(join(dir, 'index.json'), JSON.stringify(indexFor(images, store)));
}

const OCI_LAYOUT = JSON.stringify({ imageLayoutVersion: '1.0.0' });

const TO_OCI: Record<string, string> = {
  [MediaType.DockerManifest]: MediaType.OciManifest,
  [MediaType.DockerConfig]: MediaType.OciConfig,
  [MediaType.DockerLayer]: MediaType.OciLayer,
  [MediaType.DockerLayerGzip]: MediaType.OciLayerGzip,
  [MediaType.DockerLayerZstd]: MediaType.OciLayerZstd,
  [MediaType.DockerForeignLayer]: MediaType.OciLayerNondistributableGzip,
};

/**
 * An OCI layout holds OCI manifests (skopeo and umoci look for nothing else): a Docker
 * manifest is rewritten with the OCI media types — same config and layers, new digest.
 */
async function asOci(images: SavedImage[], store: ContentStore): Promise<SavedImage[]> {
  return Promise.all(
    images.map(async (img) => {
      if (img.manifest.mediaType !== MediaType.DockerManifest) return img;
      const convert = <T extends { mediaType: string }>(d: T): T => ({ ...d, mediaType: TO_OCI[d.mediaType] ?? d.mediaType });
      const manifest: ImageManifest = { ...img.manifest, mediaType: MediaType.OciManifest, config: convert(img.manifest.config), layers: img.manifest.layers.map(convert) };
      const { digest } = await store.ingest(Buffer.from(JSON.stringify(manifest)));
      return { ...img, manifest, manifestDigest: digest };
    }),
  );
}

function indexFor(images: SavedImage[], store: ContentStore) {
  const manifests = images.flatMap((img) => {
    const desc = { mediaType: img.manifest.mediaType ?? MediaType.OciManifest, digest: img.manifestDigest, size: store.size(img.manifestDigest) };
    const names = img.names.length ? img.names : [undefined];
    return names.map((name) => ({
      ...desc,
      // containerd and docker read the full name; skopeo and umoci the OCI ref name.
      ...(name ? { annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': tagOf(name) } } : {}),
    }));
  });
  return { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests };
}

/** `repo:tag` → tag; `repo@sha256:…` → the digest; a bare name → latest. */
function tagOf(name: string): string {
  const at = name.indexOf('@');
  if (at >= 0) return name.slice(at + 1);
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  return colon > slash ? name.slice(colon + 1) : 'latest';
}

function blobsOf(images: SavedImage[]): string[] {
  return images.flatMap((img) => [img.manifestDigest, img.manifest.config.digest, ...img.manifest.layers.map((l) => l.digest)]);
}

function addBytes(tar: Pack, name: string, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => tar.entry({ name, size: data.length, mode: 0o644 }, data, (err) => (err ? reject(err) : resolve())));
}

/** Streams a blob into the archive (tar needs the size up front: the store knows it). */
async function addBlob(tar: Pack, name: string, store: ContentStore, digest: string): Promise<void> {
  await addFile(tar, name, store.path(digest), store.size(digest));
}

async function addFile(tar: Pack, name: string, path: string, size: number): Promise<void> {
  const entry = tar.entry({ name, size, mode: 0o644 });
  await pipeline(createReadStream(path), entry);
}

/** docker load wants uncompressed layers; a compressed one is expanded to a scratch file first (its size goes in the tar header). */
async function addLayer(tar: Pack, name: string, store: ContentStore, digest: string, mediaType: string, scratch: string): Promise<void> {
  const compression = layerCompression(mediaType);
  if (compression === undefined) throw new HakoError('unsupported', `layer ${digest}: media type ${mediaType} cannot be saved`);
  if (compression === 'none') return addBlob(tar, name, store, digest);
  const tmp = join(scratch, parseDigest(digest).hex);
  await pipeline(store.createReadStream(digest), decompress(), createWriteStream(tmp));
  await addFile(tar, name, tmp, statSync(tmp).size);
  rmSync(tmp, { force: true });
}
