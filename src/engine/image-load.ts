import { statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { readImageArchive, readOciLayoutDir, type LoadedImage } from '../image/archive/read-archive.ts';
import { MediaType } from '../image/media-types.ts';
import type { ImageService } from './image-service.ts';
import { familiarName, normalizeName } from './reference.ts';

export interface LoadResult {
  id: string;
  /** familiar names given to the image */
  names: string[];
  /** names taken from another image: [name, previous image id] */
  retagged: [string, string][];
}

/** `hako load`: an archive (docker save or OCI layout tar) from a stream, or an OCI layout dir. */
export async function loadImages(svc: ImageService, source: Readable | string): Promise<LoadResult[]> {
  const loaded = typeof source === 'string' && statSync(source).isDirectory() ? await readOciLayoutDir(source, svc.content) : await readImageArchive(source as Readable, svc.content);
  const results: LoadResult[] = [];
  for (const img of loaded) results.push(await register(svc, img));
  return results;
}

/** Unpacks an image whose blobs are in the content store and records it with its names. */
export async function register(svc: ImageService, img: LoadedImage): Promise<LoadResult> {
  const layers = await svc.unpack(img.manifest, img.config);
  const names = img.names.map(normalizeName);
  const id = img.manifest.config.digest;
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
