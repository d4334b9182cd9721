import { createGzip } from 'node:zlib';
import { HakoError } from '../common/errors.ts';
import { applyConfigChanges } from '../image/config-changes.ts';
import { chainIds, digestOf } from '../image/digest.ts';
import { writeLayerTar, type DiffLayer } from '../image/layer-diff.ts';
import { parseImageConfig, type ContainerConfig, type Descriptor, type HistoryEntry, type ImageConfig, type ImageManifest } from '../image/manifest.ts';
import { MediaType } from '../image/media-types.ts';
import type { ImageRuntimeConfig } from '../image/runtime-config.ts';
import type { ImageService } from './image-service.ts';
import { register } from './image-load.ts';
import { formatReference, parseReference } from './reference.ts';

export interface CommitOptions {
  /** the container's file system (a ContainerLayer: its driver and upper directory) */
  layer: DiffLayer;
  /** the image the container was created from (its id) */
  baseImageId: string;
  /** what the layer is compared with (Snapshotter.lowerDirs); by default the base image's layers */
  lowerDirs?: readonly string[];
  /** the container's own config (Docker's Config: Cmd, Entrypoint, Env, …); the image's config is this with `changes` applied */
  containerConfig: ContainerConfig;
  /** `-c`: Dockerfile instructions (CMD, ENV, …) applied on top of containerConfig */
  changes?: readonly string[];
  /** `-m` */
  comment?: string;
  /** `-a` */
  author?: string;
  /** REPO[:TAG] to name the image */
  reference?: string;
  /** recorded as the config's `container` */
  containerId: string;
}

export interface CommitResult {
  /** the new image's id (its config digest) */
  id: string;
}

/** sha256 of a tar with no entries (1024 zero bytes): Docker's DigestSHA256EmptyTar. */
export const EMPTY_LAYER_DIFF_ID = digestOf(Buffer.alloc(1024));

// An OCI manifest names OCI layer types; the blobs themselves are the same.
const TO_OCI: Record<string, string> = {
  [MediaType.DockerLayer]: MediaType.OciLayer,
  [MediaType.DockerLayerGzip]: MediaType.OciLayerGzip,
  [MediaType.DockerLayerZstd]: MediaType.OciLayerZstd,
  [MediaType.DockerForeignLayer]: MediaType.OciLayerNondistributableGzip,
};

/**
 * `hako commit`: the container's changes become a new gzip layer on top of its image's,
 * as Docker's NewChildImage does it: the config is the container's (with `changes`), the
 * history gains an entry (created_by: the container's Cmd joined by spaces; author; the
 * comment), `container` and `container_config` record where it came from. A container
 * without changes gives a new image with the same layers and an `empty_layer` history
 * entry, as Docker. The layer is unpacked from the content store like any pulled layer
 * (its diff id checked) and the image recorded with leases, as a load.
 *
 * The caller pauses or stops the container first. On error nothing stays: the image is
 * not recorded, blobs already written are pruned again and a layer already unpacked is
 * removed.
 */
export async function commitContainer(svc: ImageService, opts: CommitOptions): Promise<CommitResult> {
  let name: string | undefined;
  if (opts.reference) {
    const r = parseReference(opts.reference);
    if (r.digest) throw new HakoError('invalid-argument', `commit: the reference cannot carry a digest: ${opts.reference}`);
    name = formatReference(r);
  }
  // Bad changes are refused before anything is written.
  const config = applyConfigChanges(opts.containerConfig as ImageRuntimeConfig, opts.changes ?? []) as ContainerConfig;
  const base = svc.detail(svc.resolve(opts.baseImageId));
  const baseChains = chainIds(base.config.rootfs.diff_ids);

  const lease = svc.meta.newLease();
  const written: string[] = [];
  let prune: string[] = [];
  let newChain: string | undefined;
  let failed = false;
  try {
    const claim = (digest: string) => {
      svc.meta.addToLease(lease, [digest]);
      written.push(digest);
    };
    // The new image shares the base image's blobs and layers: held from now on, so an rmi of the base meanwhile frees none of them.
    svc.meta.addToLease(lease, [...new Set([...base.manifest.layers.map((l) => l.digest), ...baseChains])]);
    for (const l of base.manifest.layers) {
      if (!svc.content.has(l.digest)) throw new HakoError('not-found', `commit: layer ${l.digest} of image ${base.record.id} is gone (was the image removed?)`);
    }
    const lowerDirs = opts.lowerDirs ?? (await svc.snapshots.lowerDirs(baseChains));

    const layer = await storeLayer(svc, opts.layer, lowerDirs, claim);
    const empty = layer.diffId === EMPTY_LAYER_DIFF_ID;
    const created = new Date().toISOString();
    const history: HistoryEntry = {
      created,
      created_by: (opts.containerConfig.Cmd ?? []).join(' '),
      ...(opts.author ? { author: opts.author } : {}),
      ...(opts.comment ? { comment: opts.comment } : {}),
      ...(empty ? { empty_layer: true } : {}),
    };
    const raw: ImageConfig & Record<string, unknown> = {
      architecture: base.config.architecture,
      ...(base.config.variant ? { variant: base.config.variant } : {}),
      os: base.config.os,
      ...(base.config['os.version'] ? { 'os.version': base.config['os.version'] } : {}),
      ...(base.config['os.features'] ? { 'os.features': base.config['os.features'] } : {}),
      created,
      ...(opts.author ? { author: opts.author } : {}),
      // hako's inspect reads the image comment here, as for import
      ...(opts.comment ? { comment: opts.comment } : {}),
      config,
      container: opts.containerId,
      container_config: opts.containerConfig,
      rootfs: { type: 'layers', diff_ids: [...base.config.rootfs.diff_ids, ...(empty ? [] : [layer.diffId])] },
      history: [...(base.config.history ?? []), history],
    };
    if (!empty) newChain = chainIds(raw.rootfs.diff_ids).at(-1);
    const configBytes = Buffer.from(JSON.stringify(raw));
    const baseLayers: Descriptor[] = base.manifest.layers.map((l) => ({ ...l, mediaType: TO_OCI[l.mediaType] ?? l.mediaType }));
    const configInfo = await svc.content.ingest(configBytes, undefined, claim);
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: configInfo.digest, size: configInfo.size },
      layers: [...baseLayers, ...(empty ? [] : [{ mediaType: MediaType.OciLayerGzip, digest: layer.digest, size: layer.size }])],
    };
    const m = await svc.content.ingest(Buffer.from(JSON.stringify(manifest)), undefined, claim);
    const parsed = parseImageConfig(configBytes, manifest);
    const res = await register(svc, { manifestDigest: m.digest, manifest, config: parsed, names: name ? [name] : [] }, lease);
    // Docker stores no empty layer: its blob is garbage now.
    if (empty) prune = [layer.digest];
    return { id: res.id };
  } catch (err) {
    prune = written;
    failed = true;
    throw err;
  } finally {
    svc.meta.releaseLease(lease);
    // Garbage left behind at worst if this fails: the commit's own outcome stands.
    await svc.discardUnused(prune, failed && newChain ? [newChain] : []).catch(() => {});
  }
}

/** The layer tar, gzipped on its way into the content store; its diff id hashed in the same pass. */
async function storeLayer(svc: ImageService, layer: DiffLayer, lowerDirs: readonly string[], claim: (digest: string) => void): Promise<{ digest: string; size: number; diffId: string }> {
  const gzip = createGzip();
  const [blob, tar] = await Promise.allSettled([svc.content.ingest(gzip, undefined, claim), writeLayerTar(layer, lowerDirs, gzip)]);
  if (tar.status === 'rejected') {
    gzip.destroy();
    // A store that failed (a full disk) tears the stream down under the tar writer: its error is the cause.
    if (blob.status === 'rejected' && tornDown(tar.reason)) throw blob.reason;
    throw tar.reason;
  }
  if (blob.status === 'rejected') throw blob.reason;
  return { digest: blob.value.digest, size: blob.value.size, diffId: tar.value.diffId };
}

function tornDown(err: unknown): boolean {
  const code = ((err as Error)?.cause as NodeJS.ErrnoException | undefined)?.code ?? (err as NodeJS.ErrnoException)?.code;
  return code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ERR_STREAM_DESTROYED';
}
