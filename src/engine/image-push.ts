import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { HakoError } from '../common/errors.ts';
import { shortId } from '../image/digest.ts';
import type { Descriptor } from '../image/manifest.ts';
import { isForeignLayer, MediaType } from '../image/media-types.ts';
import { RegistryClient } from '../registry/client.ts';
import type { ImageService } from './image-service.ts';
import { splitRepository, type PullEvent } from './image-pull.ts';
import { formatReference, parseReference } from './reference.ts';

export interface PushOptions {
  onEvent?: (e: PullEvent) => void;
  /** blobs bigger than this go up in PATCH chunks of this size (default: 16 MiB; HAKO_PUSH_CHUNK_SIZE) */
  chunkSize?: number;
  concurrency?: number;
  client?: RegistryClient;
}

export interface PushResult {
  tag: string;
  digest: string;
  size: number;
}

const DEFAULT_CHUNK = 16 << 20;

/**
 * `hako push NAME[:TAG]`: uploads only the blobs the repository lacks (a HEAD first),
 * mounts those another repository of the same registry is known to have, uploads the
 * rest (in chunks when big), then puts the manifest exactly as stored, so its digest is
 * the one the store has.
 */
export async function pushImage(svc: ImageService, reference: string, opts: PushOptions = {}): Promise<PushResult> {
  const ref = parseReference(reference);
  if (ref.digest) throw new HakoError('invalid-argument', `push: a digest cannot be pushed to; give a tag: ${reference}`);
  const name = formatReference(ref);
  const missing = () => new HakoError('not-found', `An image does not exist locally with the tag: ${reference}`);
  let image;
  try {
    image = svc.resolve(name);
  } catch (err) {
    throw err instanceof HakoError && err.code === 'not-found' ? missing() : err;
  }
  if (!image.names.includes(name)) throw missing();
  const { host, path } = splitRepository(ref.repository);
  const client = opts.client ?? new RegistryClient(host);
  const emit = opts.onEvent ?? (() => {});
  const chunk = opts.chunkSize ?? (Number(process.env['HAKO_PUSH_CHUNK_SIZE']) || DEFAULT_CHUNK);
  const d = svc.detail(image);
  const manifestBytes = svc.content.read(image.manifestDigest);
  emit({ status: `The push refers to repository [${ref.repository}]` });

  const blobs: Descriptor[] = [...d.manifest.layers.filter((l) => !isForeignLayer(l.mediaType)), d.manifest.config];
  for (const b of d.manifest.layers) emit({ id: shortId(b.digest), status: 'Preparing' });
  const queue = [...blobs];
  const worker = async () => {
    for (let b = queue.shift(); b; b = queue.shift()) await pushBlob(svc, client, path, ref.repository, host, b, chunk, emit);
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 5) }, worker));

  const mediaType = d.manifest.mediaType ?? (image.mediaType || MediaType.OciManifest);
  const digest = await client.putManifest(path, ref.tag!, manifestBytes, mediaType);
  if (digest !== image.manifestDigest) throw new HakoError('registry', `${host}: the registry stored the manifest as ${digest}, but it is ${image.manifestDigest}`);
  svc.meta.tag(`${ref.repository}@${digest}`, image.id);
  emit({ status: `${ref.tag}: digest: ${digest} size: ${manifestBytes.length}` });
  return { tag: ref.tag!, digest, size: manifestBytes.length };
}

async function pushBlob(svc: ImageService, client: RegistryClient, path: string, repository: string, host: string, b: Descriptor, chunk: number, emit: (e: PullEvent) => void): Promise<void> {
  const id = shortId(b.digest);
  const isLayer = b.mediaType !== MediaType.OciConfig && b.mediaType !== MediaType.DockerConfig;
  const say = (status: string, extra: Partial<PullEvent> = {}) => isLayer && emit({ id, status, ...extra });
  if ((await client.headBlob(path, b.digest)) !== undefined) {
    say('Layer already exists');
    svc.meta.addBlobSource(b.digest, repository);
    return;
  }
  if (!svc.content.has(b.digest)) throw new HakoError('not-found', `blob ${b.digest} of the image is not in the store`);
  // Another repository of this registry that has it: a mount moves no bytes.
  for (const src of svc.meta.blobSources(b.digest)) {
    const s = splitRepository(src);
    if (s.host !== host || s.path === path) continue;
    const r = await client.startUpload(path, { digest: b.digest, from: s.path });
    if (r.mounted) {
      say(`Mounted from ${s.path}`);
      svc.meta.addBlobSource(b.digest, repository);
      return;
    }
    await upload(svc, client, path, r.location, b, chunk, say);
    svc.meta.addBlobSource(b.digest, repository);
    return;
  }
  const r = await client.startUpload(path);
  if (r.mounted) return;
  await upload(svc, client, path, r.location, b, chunk, say);
  svc.meta.addBlobSource(b.digest, repository);
}

async function upload(svc: ImageService, client: RegistryClient, path: string, location: string, b: Descriptor, chunk: number, say: (s: string, e?: Partial<PullEvent>) => void): Promise<void> {
  const file = svc.content.path(b.digest);
  const size = svc.content.size(b.digest);
  if (size <= chunk) {
    say('Pushing', { current: 0, total: size });
    await client.finishUpload(path, location, b.digest, () => createReadStream(file), size);
  } else {
    const fh = await open(file, 'r');
    try {
      const buf = Buffer.allocUnsafe(chunk);
      let loc = location;
      for (let off = 0; off < size; ) {
        const { bytesRead } = await fh.read(buf, 0, Math.min(chunk, size - off), off);
        if (bytesRead === 0) throw new HakoError('system', `${file}: shorter than its ${size} bytes`);
        loc = await client.uploadChunk(path, loc, Buffer.from(buf.subarray(0, bytesRead)), off);
        off += bytesRead;
        say('Pushing', { current: off, total: size });
      }
      await client.finishUpload(path, loc, b.digest);
    } finally {
      await fh.close();
    }
  }
  say('Pushed');
}
