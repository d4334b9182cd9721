import { statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { readImageArchive, readOciLayoutDir, type LoadedImage } from '../image/archive/read-archive.ts';
import { MediaType } from '../image/media-types.ts';
import type { ImageService } from './image-service.ts';
import { familiarName, normalizeName } from './reference.ts';
import { chainIds } from '../image/digest.ts';

export interface LoadResult {
  id: string;
  /** familiar names given to the image */
  names: string[];
  /** names taken from another image: [name, previous image id] */
  retagged: [string, string][];
}

/** `hako load`: an archive (docker save or OCI layout tar) from a stream, or an OCI layout dir. */
export async function loadImages(svc: ImageService, source: Readable | string): Promise<LoadResult[]> {
  // One lease for the whole load: each blob joins it before it becomes visible, each
  // layer before it is unpacked, so a concurrent rmi/prune never deletes them under us.
  const lease = svc.meta.newLease();
  try {
    const claim = (digest: string) => svc.meta.addToLease(lease, [digest]);
    const loaded =
      typeof source === 'string' && statSync(source).isDirectory()
        ? await readOciLayoutDir(source, svc.content, claim)
        : await readImageArchive(source as Readable, svc.content, claim);
    const results: LoadResult[] = [];
    for (const img of loaded) results.push(await register(svc, img, lease));
    return results;
  } finally {
    svc.meta.releaseLease(lease);
  }
}

/** Unpacks an image whose blobs are in the content store (leased) and records it with its names. */
export async function register(svc: ImageService, img: LoadedImage, lease: string): Promise<LoadResult> {
  svc.meta.addToLease(lease, chainIds(img.config.rootfs.diff_ids));
  return record(svc, img, img.names.map(normalizeName), img.manifest.config.digest);
}

async function record(svc: ImageService, img: LoadedImage, names: string[], id: string): Promise<LoadResult> {
  const layers = await svc.unpack(img.manifest, img.config);
  const res = svc.meta.addImage(
    {
      id,
      manifestDigest: img.manifestDigest,
      mediaType: img.manifest.mediaType ?? MediaType.OciManifest,
      ...(img.config.created ? { created: img.config.created } : {}),
      os: img.config.os,
      architecture: img.config.architecture,
      ...(img.config.variant ? { variant: img.config.variant } : {}),
    },
    layers,
    names,
  );
  return { id, names: names.map(familiarName), retagged: res.retagged.map((r) => [familiarName(r.name), r.previous]) };
}
