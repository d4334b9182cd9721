import { closeSync, createReadStream, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { extract } from 'tar-stream';
import { HakoError } from '../../common/errors.ts';
import type { BeforeCommit, BlobInfo, ContentStore } from '../content-store.ts';
import { parseDigest, quote } from '../digest.ts';
import { checkConfigMatchesManifest, parseImageConfig, parseIndex, parseManifestOrIndex, type Descriptor, type ImageConfig, type ImageManifest } from '../manifest.ts';
import { isIndexType, MediaType } from '../media-types.ts';

/** One image found in an archive, its blobs already in the content store. */
export interface LoadedImage {
  manifestDigest: string;
  manifest: ImageManifest;
  config: ImageConfig;
  /** references the archive names it by (`repo:tag`); may be empty */
  names: string[];
}

const MAX_JSON = 4 << 20;
const bad = (msg: string) => new HakoError('invalid-argument', `image archive: ${msg}`);

/**
 * Reads a `docker save` archive or an OCI image layout packed as a tar, in one pass:
 * every file goes straight into the content store (hashed as it streams), and only then
 * is the archive's own index interpreted. Names in the archive are keys, never paths.
 */
export async function readImageArchive(input: Readable, store: ContentStore, beforeCommit?: BeforeCommit): Promise<LoadedImage[]> {
  const files = new Map<string, BlobInfo>();
  const links = new Map<string, string>();
  // The archive's own index files are read from memory, never stored: as blobs nothing
  // would reference them, and nothing would ever delete them.
  const meta = new Map<string, Buffer>();
  const ex = extract();
  input.on('error', (err) => ex.destroy(err));
  input.pipe(ex);
  for await (const entry of ex) {
    const name = entryName(entry.header.name);
    if ((entry.header.type === 'file' || entry.header.type === 'contiguous-file') && INDEX_FILES.has(name)) {
      meta.set(name, await readSmall(entry as AsyncIterable<Buffer>, name));
    } else if (entry.header.type === 'file' || entry.header.type === 'contiguous-file') {
      files.set(name, await store.ingest(entry as AsyncIterable<Uint8Array>, undefined, beforeCommit));
    } else {
      if (entry.header.type === 'symlink' && entry.header.linkname) {
        links.set(name, posix.normalize(posix.join(posix.dirname(name), entry.header.linkname)));
      }
      entry.resume();
    }
  }
  const lookup = (name: string): BlobInfo | undefined => {
    let n = entryName(name);
    for (let hops = 0; hops < 8 && !files.has(n) && links.has(n); hops++) n = links.get(n)!;
    return files.get(n);
  };
  const json = (name: string): unknown => {
    const data = meta.get(name);
    if (!data) throw bad(`${name} is missing`);
    try {
      return JSON.parse(data.toString('utf8'));
    } catch (err) {
      throw bad(`${name}: invalid JSON: ${(err as Error).message}`);
    }
  };
  if (meta.has('index.json') && meta.has('oci-layout')) {
    return readOci(json('index.json'), store, (digest) => {
      const { algorithm, hex } = parseDigest(digest);
      const info = lookup(`blobs/${algorithm}/${hex}`);
      if (info && info.digest !== digest) throw bad(`blobs/${algorithm}/${hex}: its content does not match its name (${info.digest})`);
      return info;
    });
  }
  if (meta.has('manifest.json')) return readDockerArchive(json('manifest.json'), store, lookup, beforeCommit);
  throw bad('neither manifest.json (docker save) nor index.json + oci-layout (OCI layout) found');
}

const INDEX_FILES = new Set(['manifest.json', 'index.json', 'oci-layout', 'repositories']);

async function readSmall(source: AsyncIterable<Buffer>, name: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of source) {
    size += c.length;
    if (size > MAX_JSON) throw bad(`${name} is larger than ${MAX_JSON} bytes`);
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

/** An OCI image layout directory: blobs are ingested from their files, verified by name. */
export async function readOciLayoutDir(dir: string, store: ContentStore, beforeCommit?: BeforeCommit): Promise<LoadedImage[]> {
  if (!existsSync(posix.join(dir, 'oci-layout'))) throw bad(`${dir} is not an OCI image layout (no oci-layout file)`);
  const index = JSON.parse(readFileSync(posix.join(dir, 'index.json'), 'utf8')) as unknown;
  const blobs = new Map<string, BlobInfo>();
  for (const digest of referencedDigests(index, dir)) {
    const { algorithm, hex } = parseDigest(digest);
    blobs.set(digest, await store.ingest(createReadStream(posix.join(dir, 'blobs', algorithm, hex)), { digest }, beforeCommit));
  }
  return readOci(index, store, (d) => blobs.get(d));
}

/** Every digest the layout's index reaches, read from the directory (for the dir form). */
function referencedDigests(index: unknown, dir: string): string[] {
  const out = new Set<string>();
  const visit = (d: Descriptor) => {
    out.add(d.digest);
    const { algorithm, hex } = parseDigest(d.digest);
    if (isIndexType(d.mediaType) || d.mediaType === MediaType.OciManifest || d.mediaType === MediaType.DockerManifest) {
      const parsed = parseManifestOrIndex(readFileSync(posix.join(dir, 'blobs', algorithm, hex)), d.mediaType);
      if (parsed.kind === 'index') parsed.index.manifests.forEach(visit);
      else [parsed.manifest.config, ...parsed.manifest.layers].forEach((x) => out.add(x.digest));
    }
  };
  parseIndex(JSON.stringify(index)).manifests.forEach(visit);
  return [...out];
}

async function readOci(indexRaw: unknown, store: ContentStore, blob: (digest: string) => BlobInfo | undefined): Promise<LoadedImage[]> {
  const index = parseIndex(JSON.stringify(indexRaw));
  const images: LoadedImage[] = [];
  const need = (d: Descriptor, what: string): BlobInfo => {
    const info = blob(d.digest);
    if (!info) throw bad(`${what} ${d.digest} is missing from the archive`);
    if (info.size !== d.size) throw bad(`${what} ${d.digest}: ${info.size} bytes, the descriptor says ${d.size}`);
    return info;
  };
  const visit = (d: Descriptor, names: string[]) => {
    need(d, 'manifest');
    const parsed = parseManifestOrIndex(store.read(d.digest, MAX_JSON), d.mediaType);
    if (parsed.kind === 'index') {
      for (const m of parsed.index.manifests) visit(m, names);
      return;
    }
    const manifest = parsed.manifest;
    need(manifest.config, 'config');
    manifest.layers.forEach((l, i) => need(l, `layer ${i}`));
    const config = parseImageConfig(store.read(manifest.config.digest, MAX_JSON), manifest);
    checkConfigMatchesManifest(config, manifest);
    images.push({ manifestDigest: d.digest, manifest, config, names });
  };
  for (const d of index.manifests) visit(d, refNames(d));
  return images;
}

/** containerd's full name annotation, else the OCI ref name when it is a full reference. */
function refNames(d: Descriptor): string[] {
  const full = d.annotations?.['io.containerd.image.name'];
  if (full) return [full];
  const ref = d.annotations?.['org.opencontainers.image.ref.name'];
  return ref && /[:/]/.test(ref) ? [ref] : [];
}

interface DockerArchiveEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

async function readDockerArchive(raw: unknown, store: ContentStore, lookup: (name: string) => BlobInfo | undefined, beforeCommit?: BeforeCommit): Promise<LoadedImage[]> {
  if (!Array.isArray(raw)) throw bad('manifest.json must be a list');
  const images: LoadedImage[] = [];
  for (const [i, e] of (raw as DockerArchiveEntry[]).entries()) {
    if (typeof e?.Config !== 'string' || !Array.isArray(e.Layers)) throw bad(`manifest.json[${i}] needs Config and Layers`);
    const configInfo = lookup(e.Config);
    if (!configInfo) throw bad(`manifest.json[${i}].Config ${quote(e.Config)} is missing from the archive`);
    const layers: Descriptor[] = e.Layers.map((name, j) => {
      const info = typeof name === 'string' ? lookup(name) : undefined;
      if (!info) throw bad(`manifest.json[${i}].Layers[${j}] ${quote(name)} is missing from the archive`);
      return { mediaType: layerMediaType(store.path(info.digest)), digest: info.digest, size: info.size };
    });
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaType.DockerManifest,
      config: { mediaType: MediaType.DockerConfig, digest: configInfo.digest, size: configInfo.size },
      layers,
    };
    const config = parseImageConfig(store.read(configInfo.digest, MAX_JSON), manifest);
    checkConfigMatchesManifest(config, manifest);
    // An uncompressed layer's digest is its diff id: check it now, not at unpack.
    layers.forEach((l, j) => {
      const diffId = config.rootfs.diff_ids[j];
      if (l.mediaType === MediaType.DockerLayer && diffId !== l.digest) {
        throw bad(`layer ${j} (${e.Layers[j]}) does not match the image's diff_id ${diffId}`);
      }
    });
    const bytes = Buffer.from(JSON.stringify(manifest));
    const m = await store.ingest(bytes, undefined, beforeCommit);
    const names = (e.RepoTags ?? []).filter((t): t is string => typeof t === 'string');
    images.push({ manifestDigest: m.digest, manifest, config, names });
  }
  return images;
}

/** docker save writes layers uncompressed, but nothing stops an archive holding gzip or zstd. */
function layerMediaType(path: string): string {
  const head = Buffer.alloc(4);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, head, 0, 4, 0);
  } finally {
    closeSync(fd);
  }
  if (head[0] === 0x1f && head[1] === 0x8b) return MediaType.DockerLayerGzip;
  if (head.readUInt32LE(0) === 0xfd2fb528) return MediaType.DockerLayerZstd;
  return MediaType.DockerLayer;
}

/** Archive member names, normalised; anything absolute or climbing out is refused. */
function entryName(raw: string): string {
  const n = posix.normalize(raw.replace(/^\.\//, '')).replace(/\/$/, '');
  if (n.startsWith('/') || n === '..' || n.startsWith('../')) throw bad(`member ${quote(raw)} is not a relative name inside the archive`);
  return n;
}
