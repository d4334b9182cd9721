import { HakoError } from '../common/errors.ts';
import { shortId } from '../image/digest.ts';
import type { ImageRecord } from '../storage/metadata.ts';
import { blobsOf, type ImageService } from './image-service.ts';
import { familiarName } from './reference.ts';
import type { DetachedLayer } from '../storage/snapshots.ts';

/** One line of Docker's answer: `Untagged: busybox:latest` or `Deleted: sha256:…`. */
export interface RemoveEvent {
  untagged?: string;
  deleted?: string;
}

/**
 * `hako rmi REF`: Docker's rules. A name is untagged; an image whose last name goes is
 * deleted. An id naming an image with several names is refused unless forced (then
 * every name goes). An image in use is refused (the check point is imageInUse).
 */
export async function removeImage(svc: ImageService, ref: string, force: boolean): Promise<RemoveEvent[]> {
  const image = svc.resolve(ref);
  const name = svc.nameOf(ref, image);
  const events: RemoveEvent[] = [];
  if (name && image.names.length > 1) {
    svc.meta.untag(name);
    return [{ untagged: familiarName(name) }];
  }
  if (!name && image.names.length > 1 && !force) {
    throw new HakoError('invalid-state', `conflict: unable to delete ${shortId(image.id)} (must be forced) - image is referenced in multiple repositories`);
  }
  const user = svc.imageInUse(image);
  if (user?.running) throw new HakoError('in-use', `conflict: unable to delete ${shortId(image.id)} (cannot be forced) - image is being used by running container ${user.id}`);
  if (user && !force) throw new HakoError('in-use', `conflict: unable to remove repository reference "${ref}" (must force) - container ${user.id} is using its referenced image ${shortId(image.id)}`);
  if (user) {
    // The container's layer sits on the image's layers: the names go, the image stays
    // (dangling) until its last container is removed.
    for (const n of image.names) svc.meta.untag(n);
    return image.names.map(familiarName).sort().map((n) => ({ untagged: n }));
  }
  return [...events, ...(await deleteImage(svc, image))];
}

/** Deletes an image with its names, its layers no other image uses and its blobs no other image references. */
export async function deleteImage(svc: ImageService, image: ImageRecord): Promise<RemoveEvent[]> {
  let blobs: string[] = [image.manifestDigest];
  try {
    blobs = blobsOf(svc.detail(image));
  } catch {
    // a damaged image is still removed; only its manifest blob is known
  }
  const events: RemoveEvent[] = image.names.map(familiarName).sort().map((n) => ({ untagged: n }));
  // The freed layers are renamed aside inside the metadata transaction, so a concurrent
  // load either sees them still leased/used or finds them gone and unpacks them anew.
  const driver = await svc.snapshots.driver();
  const detached: DetachedLayer[] = [];
  const freed = svc.meta.removeImage(image.id, (chains) => {
    for (const chain of chains) {
      const d = svc.snapshots.detachLayerSync(driver, chain);
      if (d) detached.push(d);
    }
  });
  events.push({ deleted: image.id });
  for (const d of detached) await svc.snapshots.finishRemoval(d);
  for (const chain of freed) events.push({ deleted: chain });
  svc.pruneBlobs(blobs);
  return events;
}

export interface PruneResult {
  events: RemoveEvent[];
  reclaimed: number;
}

/** `hako image prune`: images without names (`all`: every image no container uses). */
export async function pruneImages(svc: ImageService, all: boolean): Promise<PruneResult> {
  const events: RemoveEvent[] = [];
  let reclaimed = 0;
  for (const image of svc.meta.listImages()) {
    if (!all && image.names.length > 0) continue;
    if (svc.imageInUse(image)) continue;
    const sizes = new Map(svc.meta.layersOf(image.id).map((l) => [l.chainId, l.size ?? 0]));
    const ev = await deleteImage(svc, image);
    for (const e of ev) if (e.deleted) reclaimed += sizes.get(e.deleted) ?? 0;
    events.push(...ev);
  }
  return { events, reclaimed };
}
