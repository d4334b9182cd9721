import type { Readable } from 'node:stream';
import { HakoError } from '../common/errors.ts';
import { applyConfigChanges } from '../image/config-changes.ts';
import type { ImageRuntimeConfig } from '../image/runtime-config.ts';
import { decompress } from '../image/decompress.ts';
import { parseImageConfig, type ContainerConfig, type ImageConfig, type ImageManifest } from '../image/manifest.ts';
import { MediaType } from '../image/media-types.ts';
import type { ImageService } from './image-service.ts';
import { register } from './image-load.ts';
import { formatReference, parseReference } from './reference.ts';

const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

export interface ImportOptions {
  /** `-c`: Dockerfile instructions applied to an empty config */
  changes?: string[];
  /** `-m`: the history comment */
  message?: string;
  /** what the source was called ("-" for stdin), for the default comment */
  sourceName: string;
  /** REPO[:TAG] */
  reference?: string;
}

/**
 * `hako import`: a tarball (plain, gzip or zstd) of a file system becomes a one-layer
 * image; the layer is stored uncompressed, so its digest is its diff id.
 */
export async function importImage(svc: ImageService, input: Readable, opts: ImportOptions): Promise<string> {
  let name: string | undefined;
  if (opts.reference) {
    const r = parseReference(opts.reference);
    if (r.digest) throw new HakoError('invalid-argument', `import: the reference cannot carry a digest: ${opts.reference}`);
    name = formatReference(r);
  }
  const runtime = applyConfigChanges<ImageRuntimeConfig>({}, opts.changes ?? []);
  // Leased as they are written, as in load: a concurrent prune leaves them alone.
  const lease = svc.meta.newLease();
  try {
    const claim = (digest: string) => svc.meta.addToLease(lease, [digest]);
    const layer = await svc.content.ingest(input.pipe(decompress()), undefined, claim);
    const created = new Date().toISOString();
    const raw: ImageConfig = {
      created,
      architecture: ARCH[process.arch] ?? process.arch,
      os: 'linux',
      config: runtime as ContainerConfig,
      rootfs: { type: 'layers', diff_ids: [layer.digest] },
      history: [{ created, created_by: '', comment: opts.message || `Imported from ${opts.sourceName}` }],
    };
    const configBytes = Buffer.from(JSON.stringify({ ...raw, ...(opts.message ? { comment: opts.message } : {}) }));
    const configInfo = await svc.content.ingest(configBytes, undefined, claim);
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: configInfo.digest, size: configInfo.size },
      layers: [{ mediaType: MediaType.OciLayer, digest: layer.digest, size: layer.size }],
    };
    const m = await svc.content.ingest(Buffer.from(JSON.stringify(manifest)), undefined, claim);
    const config = parseImageConfig(configBytes, manifest);
    const res = await register(svc, { manifestDigest: m.digest, manifest, config, names: name ? [name] : [] }, lease);
    return res.id;
  } finally {
    svc.meta.releaseLease(lease);
  }
}
