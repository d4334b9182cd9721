import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { HakoError } from '../common/errors.ts';
import { ContentStore } from '../image/content-store.ts';
import { parseImageConfig, parseManifest, type ImageConfig, type ImageManifest } from '../image/manifest.ts';
import { chainIds } from '../image/digest.ts';
import { layerCompression } from '../image/media-types.ts';
import { MetadataStore, type ImageRecord, type NewLayer } from '../storage/metadata.ts';
import { Snapshotter } from '../storage/snapshots.ts';
import { StateStore } from '../runtime/state-store.ts';
import { familiarName, parseReference, formatReference } from './reference.ts';
import { storePaths, type StorePaths } from './store-paths.ts';

/** An image as the use cases see it: its record, manifest and config. */
export interface ImageDetail {
  record: ImageRecord;
  manifest: ImageManifest;
  config: ImageConfig;
}

/**
 * The stores of one data root, and what every image use case needs from them: resolving
 * a reference as Docker does, reading an image's manifest and config, unpacking layers.
 * The use cases themselves are in image-*.ts beside this file.
 */
export class ImageService {
  readonly paths: StorePaths;
  readonly content: ContentStore;
  readonly snapshots: Snapshotter;
  private metaStore: MetadataStore | undefined;

  constructor(root: string) {
    this.paths = storePaths(root);
    this.content = new ContentStore(this.paths.content);
    this.snapshots = new Snapshotter(this.paths.snapshots);
  }

  get meta(): MetadataStore {
    this.metaStore ??= new MetadataStore(this.paths.metadata);
    return this.metaStore;
  }

  close(): void {
    this.metaStore?.close();
  }

  /** Finds an image by id, id prefix, name or name@digest; Docker's "No such image" otherwise. */
  resolve(ref: string): ImageRecord {
    let name = ref;
    try {
      name = formatReference(parseReference(ref));
    } catch {
      // not a reference: an id or an id prefix, or nothing
    }
    try {
      return this.meta.resolve(ref, name);
    } catch (err) {
      if (err instanceof HakoError && err.code === 'not-found') throw noSuchImage(ref);
      throw err;
    }
  }

  /** Whether REF named the image by one of its names (not by id). */
  nameOf(ref: string, image: ImageRecord): string | undefined {
    try {
      const name = formatReference(parseReference(ref));
      return image.names.includes(name) ? name : undefined;
    } catch {
      return undefined;
    }
  }

  detail(record: ImageRecord): ImageDetail {
    const manifest = parseManifest(this.content.read(record.manifestDigest));
    const config = parseImageConfig(this.content.read(manifest.config.digest), manifest);
    return { record, manifest, config };
  }

  /**
   * Unpacks the image's layers into the snapshotter, each once (keyed by chain id), and
   * returns them for MetadataStore.addImage. A layer whose content does not hash to the
   * config's diff id is refused (and its directory discarded).
   */
  async unpack(manifest: ImageManifest, config: ImageConfig): Promise<NewLayer[]> {
    // Loaded here, not at start-up: `run` of an image already unpacked never needs the tar code.
    const { applyLayer } = await import('../image/layer-apply.ts');
    const { decompress } = await import('../image/decompress.ts');
    const diffIds = config.rootfs.diff_ids;
    const chains = chainIds(diffIds);
    const layers: NewLayer[] = [];
    for (const [i, chainId] of chains.entries()) {
      const desc = manifest.layers[i]!;
      const diffId = diffIds[i]!;
      const prepared = await this.snapshots.prepareLayer(chainId, chains[i - 1], async (dir, mode) => {
        const result = await applyLayer(this.content.createReadStream(desc.digest).pipe(decompress()), dir, { mode });
        if (result.diffId !== diffId) {
          throw new HakoError('invalid-config', `layer ${i} (${desc.digest}) unpacks to ${result.diffId}, but the image config says its diff id is ${diffId}`);
        }
        return result;
      });
      const size = prepared.applied?.size ?? this.meta.getLayer(chainId)?.size ?? (await this.uncompressedSize(desc.digest, desc.mediaType));
      layers.push({ chainId, diffId, size });
    }
    return layers;
  }

  /** Bytes of the layer's tar once decompressed. */
  async uncompressedSize(digest: string, mediaType: string): Promise<number> {
    if (layerCompression(mediaType) === 'none') return this.content.size(digest);
    const { decompress } = await import('../image/decompress.ts');
    let n = 0;
    await pipeline(
      this.content.createReadStream(digest),
      decompress(),
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          n += chunk.length;
          cb();
        },
      }),
    );
    return n;
  }

  /**
   * Deletes the blobs of removed images that no remaining image references.
   * `candidates`: the removed images' manifest, config and layer digests.
   */
  pruneBlobs(candidates: Iterable<string>): void {
    // Under the write lock: a load leases its blobs (in a write transaction) before they
    // are visible, so a blob is either leased here or not yet there to delete.
    this.meta.exclusive(() => this.pruneBlobsLocked(candidates));
  }

  private pruneBlobsLocked(candidates: Iterable<string>): void {
    const used = new Set<string>();
    for (const img of this.meta.listImages()) {
      used.add(img.manifestDigest);
      if (img.indexDigest) used.add(img.indexDigest);
      try {
        const m = parseManifest(this.content.read(img.manifestDigest));
        used.add(m.config.digest);
        for (const l of m.layers) used.add(l.digest);
      } catch {
        // a damaged image keeps nothing alive beyond its manifest
      }
    }
    for (const d of new Set(candidates)) if (!used.has(d) && !this.meta.isLeased(d)) this.content.delete(d);
  }

  /**
   * After a failed load, pull or commit: the blobs no image references and no one else
   * leases, and the layer snapshots (top first) no image records, are deleted.
   */
  async discardUnused(blobs: string[], chains: string[]): Promise<void> {
    if (blobs.length) this.pruneBlobs(blobs);
    if (!chains.length) return;
    const driver = await this.snapshots.driver();
    for (const chain of [...chains].reverse()) {
      const detached = this.meta.exclusive(() => (this.meta.getLayer(chain) || this.meta.isLeased(chain) ? undefined : this.snapshots.detachLayerSync(driver, chain)));
      if (detached) await this.snapshots.finishRemoval(detached);
    }
  }

  /** A container made from the image (a running one first), if any: the image cannot go then. */
  imageInUse(image: ImageRecord): { id: string; running: boolean } | undefined {
    const ids = this.meta.containersOfImage(image.id);
    if (ids.length === 0) return undefined;
    const runtime = new StateStore(this.paths.runtime);
    const running = ids.find((id) => runtime.exists(id) && runtime.status(runtime.load(id)) !== 'stopped');
    return { id: (running ?? ids[0]!).slice(0, 12), running: !!running };
  }
}

export function noSuchImage(ref: string): HakoError {
  return new HakoError('not-found', `No such image: ${ref}`);
}

/** Every blob an image consists of. */
export function blobsOf(d: ImageDetail): string[] {
  return [d.record.manifestDigest, ...(d.record.indexDigest ? [d.record.indexDigest] : []), d.manifest.config.digest, ...d.manifest.layers.map((l) => l.digest)];
}

export { familiarName };
