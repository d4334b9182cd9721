import { Readable } from 'node:stream';
import { HakoError } from '../common/errors.ts';
import { decompress } from '../image/decompress.ts';
import { chainIds, shortId } from '../image/digest.ts';
import { applyLayer } from '../image/layer-apply.ts';
import { checkConfigMatchesManifest, configPlatform, MAX_CONFIG_BYTES, parseImageConfig, parseManifestOrIndex, type Descriptor, type ImageManifest } from '../image/manifest.ts';
import { isForeignLayer } from '../image/media-types.ts';
import { formatPlatform, hostPlatform, isCompatible, parsePlatform, selectManifest, type Platform } from '../image/platform.ts';
import { BlobDownload } from '../registry/blob-download.ts';
import { RegistryClient } from '../registry/client.ts';
import type { NewLayer } from '../storage/metadata.ts';
import type { ImageService } from './image-service.ts';
import { familiarName, familiarRepository, formatReference, parseReference } from './reference.ts';

/** Progress as Docker's pull reports it: a status per layer (id = short digest) or for the whole pull. */
export interface PullEvent {
  id?: string;
  status: string;
  current?: number;
  total?: number;
}

export interface PullOptions {
  platform?: string;
  onEvent?: (e: PullEvent) => void;
  /** parallel layer downloads (Docker's max-concurrent-downloads) */
  concurrency?: number;
  client?: RegistryClient;
}

export interface PullResult {
  id: string;
  /** the digest the reference resolved to (an index's, for a multi-platform image) */
  digest: string;
  /** the full name, e.g. docker.io/library/busybox:latest */
  name: string;
  upToDate: boolean;
}

/** Splits docker.io/library/busybox into the registry and the repository path. */
export function splitRepository(repository: string): { host: string; path: string } {
  const slash = repository.indexOf('/');
  return { host: repository.slice(0, slash), path: repository.slice(slash + 1) };
}

/**
 * `hako pull`: resolves the reference (choosing the platform from an index), then fetches
 * the layers in parallel and unpacks each while it arrives: download → digest →
 * decompress → apply in one pass, a layer made visible only once its blob and diff id
 * are verified. Nothing of a failed pull stays but a resumable partial download.
 */
export async function pullImage(svc: ImageService, reference: string, opts: PullOptions = {}): Promise<PullResult> {
  const ref = parseReference(reference);
  const { host, path } = splitRepository(ref.repository);
  const emit = opts.onEvent ?? (() => {});
  const client = opts.client ?? new RegistryClient(host, { mirrors: true });
  const wanted: Platform = opts.platform ? parsePlatform(opts.platform) : hostPlatform();
  const lease = svc.meta.newLease();
  const claim = (digest: string) => svc.meta.addToLease(lease, [digest]);
  const stored: string[] = [];
  const storeClaim = (digest: string) => {
    claim(digest);
    stored.push(digest);
  };
  const prepared: string[] = [];
  let ok = false;
  try {
    emit({ id: ref.digest ?? ref.tag!, status: `Pulling from ${path}` });
    const top = await fetchTop(client, path, ref.digest ?? ref.tag!, host, ref.repository);
    let manifestBytes = top.bytes;
    let manifestDigest = top.digest;
    let mediaType = top.mediaType;
    let indexDigest: string | undefined;
    let parsed = parseManifestOrIndex(top.bytes, top.mediaType);
    // Verified by the client; into the store (leased) before anything refers to them.
    await svc.content.ingest(top.bytes, { digest: top.digest, size: top.bytes.length }, storeClaim);
    if (parsed.kind === 'index') {
      indexDigest = top.digest;
      const chosen = selectManifest(parsed.index, wanted);
      const m = await client.getManifest(path, chosen.digest);
      if (m.bytes.length !== chosen.size) throw new HakoError('invalid-argument', `manifest ${chosen.digest}: the index says ${chosen.size} bytes, the registry sent ${m.bytes.length}`);
      manifestBytes = m.bytes;
      manifestDigest = m.digest;
      mediaType = m.mediaType ?? chosen.mediaType;
      parsed = parseManifestOrIndex(m.bytes, mediaType);
      if (parsed.kind !== 'manifest') throw new HakoError('invalid-argument', `${chosen.digest}: an index inside an index is not an image`);
      await svc.content.ingest(m.bytes, { digest: m.digest, size: m.bytes.length }, storeClaim);
    }
    const manifest = parsed.manifest;
    const config = await fetchConfig(svc, client, path, manifest, storeClaim);
    if (!indexDigest && opts.platform && !isCompatible(configPlatform(config), wanted)) {
      throw new HakoError('not-found', `image with reference ${reference} was found but does not match the specified platform: wanted ${formatPlatform(wanted)}, actual: ${formatPlatform(configPlatform(config))}`);
    }
    const diffIds = config.rootfs.diff_ids;
    const chains = chainIds(diffIds);
    const id = manifest.config.digest;
    const upToDate = !!svc.meta.getImage(id) && (await Promise.all(chains.map((c) => svc.snapshots.layerDir(c)))).every(Boolean);
    // Docker lists no layers for an image it already has.
    const say = upToDate ? () => {} : emit;

    // Downloads run ahead (a few at once); unpacking follows them in chain order.
    const downloads = new Map<number, BlobDownload>();
    // A layer still queued is unpacked from its download once it starts: its promise exists now.
    const started = new Map<number, { promise: Promise<BlobDownload>; resolve: (d: BlobDownload) => void }>();
    const queue: number[] = [];
    for (const [i, desc] of manifest.layers.entries()) {
      svc.meta.addToLease(lease, [chains[i]!]);
      if (isForeignLayer(desc.mediaType)) throw new HakoError('unsupported', `layer ${desc.digest} is a foreign layer (${desc.mediaType}): not for Linux`);
      if (svc.content.has(desc.digest)) {
        claim(desc.digest);
        say({ id: shortId(desc.digest), status: 'Already exists' });
      } else {
        queue.push(i);
        let resolve!: (d: BlobDownload) => void;
        const promise = new Promise<BlobDownload>((r) => (resolve = r));
        started.set(i, { promise, resolve });
        say({ id: shortId(desc.digest), status: 'Pulling fs layer' });
      }
    }
    const abort = new AbortController();
    const limit = Math.max(1, opts.concurrency ?? 3);
    const startNext = (): void => {
      const i = queue.shift();
      if (i === undefined) return;
      const desc = manifest.layers[i]!;
      const id = shortId(desc.digest);
      const d = new BlobDownload(client, path, desc, svc.content, svc.meta, {
        claim: storeClaim,
        onWait: () => say({ id, status: 'Waiting' }),
        onProgress: (current, total) => say({ id, status: 'Downloading', current, total }),
        signal: abort.signal,
      });
      downloads.set(i, d);
      started.get(i)!.resolve(d);
      d.done.then(
        () => {
          say({ id, status: d.fetched ? 'Download complete' : 'Already exists' });
          startNext();
        },
        () => {},
      );
    };
    for (let n = 0; n < limit; n++) startNext();
    for (const [i, desc] of manifest.layers.entries()) if (queue.includes(i)) say({ id: shortId(desc.digest), status: 'Waiting' });

    const layers: NewLayer[] = [];
    try {
      // Every layer unpacks as its bytes arrive, all at once; each is made visible only after its parent.
      const unpacks: Promise<{ created: boolean; size: number }>[] = [];
      for (const [i, desc] of manifest.layers.entries()) {
        const p = unpackLayer(svc, desc, i, diffIds[i]!, chains, started.get(i)?.promise, say, unpacks[i - 1]);
        p.then((l) => l.created && prepared.push(chains[i]!), () => {});
        unpacks.push(p);
      }
      const settled = await Promise.allSettled(unpacks);
      const failed = settled.find((r) => r.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
      settled.forEach((r, i) => layers.push({ chainId: chains[i]!, diffId: diffIds[i]!, size: (r as PromiseFulfilledResult<{ size: number }>).value.size }));
      await Promise.all([...downloads.values()].map((d) => d.done));
    } catch (err) {
      // Stop the other downloads; their partial files stay for a resume.
      abort.abort();
      await Promise.allSettled([...downloads.values()].map((d) => d.done));
      throw err;
    }

    const name = formatReference(ref);
    const repoDigest = `${ref.repository}@${indexDigest ?? manifestDigest}`;
    const names = ref.digest ? [repoDigest] : [name, repoDigest];
    svc.meta.addImage(
      {
        id,
        manifestDigest,
        ...(indexDigest ? { indexDigest } : {}),
        mediaType: mediaType ?? manifest.mediaType ?? 'application/vnd.oci.image.manifest.v1+json',
        ...(config.created ? { created: config.created } : {}),
        os: config.os,
        architecture: config.architecture,
        ...(config.variant ? { variant: config.variant } : {}),
      },
      layers,
      names,
    );
    for (const d of [manifest.config.digest, ...manifest.layers.map((l) => l.digest)]) svc.meta.addBlobSource(d, ref.repository);
    ok = true;
    emit({ status: `Digest: ${indexDigest ?? manifestDigest}` });
    emit({ status: upToDate ? `Status: Image is up to date for ${familiarName(name)}` : `Status: Downloaded newer image for ${familiarName(ref.digest ? repoDigest : name)}` });
    return { id, digest: indexDigest ?? manifestDigest, name: ref.digest ? repoDigest : name, upToDate };
  } finally {
    svc.meta.releaseLease(lease);
    if (!ok) await svc.discardUnused(stored, prepared).catch(() => {});
  }
}

/** The manifest or index the reference names; a refusal reads as Docker's "pull access denied". */
async function fetchTop(client: RegistryClient, path: string, reference: string, host: string, repository: string) {
  try {
    return await client.getManifest(path, reference);
  } catch (err) {
    if (err instanceof HakoError && err.code === 'unauthorized' && !/invalid username or password|refused the credentials/.test(err.message)) {
      throw new HakoError('unauthorized', `pull access denied for ${familiarRepository(repository)}, repository does not exist or may require 'hako login': ${err.message.replace(`${host}: `, '')}`);
    }
    throw err;
  }
}

async function fetchConfig(svc: ImageService, client: RegistryClient, path: string, manifest: ImageManifest, claim: (d: string) => void) {
  const desc = manifest.config;
  if (desc.size > MAX_CONFIG_BYTES) throw new HakoError('invalid-argument', `image config ${desc.digest}: ${desc.size} bytes is more than the ${MAX_CONFIG_BYTES} allowed`);
  if (!svc.content.has(desc.digest)) await new BlobDownload(client, path, desc, svc.content, svc.meta, { claim }).done;
  else claim(desc.digest);
  const config = parseImageConfig(svc.content.read(desc.digest, MAX_CONFIG_BYTES), manifest);
  checkConfigMatchesManifest(config, manifest);
  return config;
}

/**
 * Layer I into the snapshotter, once per chain id: from the download as it arrives, or
 * from the store. The layer becomes visible only after both its blob digest and its diff
 * id are verified.
 */
async function unpackLayer(
  svc: ImageService,
  desc: Descriptor,
  i: number,
  diffId: string,
  chains: string[],
  download: Promise<BlobDownload> | undefined,
  emit: (e: PullEvent) => void,
  parentReady?: Promise<unknown>,
): Promise<{ created: boolean; size: number }> {
  const id = shortId(desc.digest);
  const chainId = chains[i]!;
  const prepared = await svc.snapshots.prepareLayer(chainId, chains[i - 1], async (dir, mode) => {
    const d = await download;
    emit({ id, status: 'Extracting' });
    const source = d ? Readable.from(d.follow()) : svc.content.createReadStream(desc.digest);
    const dec = decompress();
    source.on('error', (e: Error) => dec.destroy(e)); // pipe() would leave a failed download unhandled
    const result = await applyLayer(source.pipe(dec), dir, { mode });
    if (d) await d.done;
    if (result.diffId !== diffId) {
      throw new HakoError('invalid-argument', `layer ${i} (${desc.digest}) unpacks to ${result.diffId}, but the image config says its diff id is ${diffId}`);
    }
    return result;
  }, parentReady);
  emit({ id, status: 'Pull complete' });
  const size = prepared.applied?.size ?? svc.meta.getLayer(chainId)?.size ?? (await svc.uncompressedSize(desc.digest, desc.mediaType).catch(() => 0));
  return { created: prepared.created, size };
}
