import { randomInt } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HakoError, isErrno } from '../common/errors.ts';
import { readMountinfo } from '../common/mountinfo.ts';
import { hakoMount, isHelperMissing, setxattrOp, whiteoutOp } from './hako-mount.ts';

/**
 * overlayfs details: the short link names that keep lowerdir= small, the mount
 * options, and the probe that decides whether this data root can use overlay at all.
 */

/** mount(2) copies one page of options; longer ones would be cut. */
export const MAX_MOUNT_DATA = 4095;

const LINK_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
/** 36^10 names: "l/XXXXXXXXXX:" is 13 bytes a layer, so 300 layers fit in a page */
const LINK_LEN = 10;

export function randomLinkId(): string {
  let id = '';
  for (let i = 0; i < LINK_LEN; i++) id += LINK_CHARS[randomInt(LINK_CHARS.length)];
  return id;
}

/**
 * Makes `linkDir/ID` → TARGET under a new random ID and returns the ID. Made before
 * the layer directory it names is renamed into place, so a committed layer always
 * has its link; a crash in between leaves only a dangling link.
 */
export async function createLink(linkDir: string, target: string): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const id = randomLinkId();
    try {
      await symlink(target, join(linkDir, id));
      return id;
    } catch (err) {
      if (!isErrno(err, 'EEXIST') || attempt > 10) throw err;
    }
  }
}

export async function removeLink(linkDir: string, id: string): Promise<void> {
  await unlink(join(linkDir, id)).catch((err) => {
    if (!isErrno(err, 'ENOENT')) throw err;
  });
}

/** `lowerdir=l/TOP:…:l/BOTTOM,upperdir=…,workdir=…` with every path relative to the overlay directory. */
export function overlayOptions(lowerIds: readonly string[], upper: string, work: string): string {
  // a link name, or (a container's init layer) a path relative to the driver's root
  const lower = lowerIds.map((id) => (id.includes('/') ? id : `l/${id}`)).join(':');
  const opts = `lowerdir=${lower},upperdir=${upper},workdir=${work}`;
  if (opts.length > MAX_MOUNT_DATA) {
    throw new HakoError('unsupported', `${lowerIds.length} layers do not fit in one overlay mount: the options are ${opts.length} bytes, the kernel takes ${MAX_MOUNT_DATA}`);
  }
  return opts;
}

export function isMountPoint(path: string): boolean {
  return readMountinfo().some((m) => m.mountPoint === path);
}

/** Unmounts PATH until nothing is mounted there (a mount may have been stacked twice). */
export async function unmountAll(path: string): Promise<void> {
  for (let i = 0; i < 8 && isMountPoint(path); i++) await hakoMount(['umount', path]);
  if (isMountPoint(path)) throw new HakoError('system', `umount ${path}: still mounted`);
}

/**
 * Can layers under DIR be overlay lower dirs and a container's upper dir? Mounts a
 * two-layer overlay made there: a whiteout device and an opaque directory in the upper
 * layer must hide the lower one's entries, and a file must be writable through the
 * merged view. Returns undefined if so, else the reason. (Overlay on overlay, some
 * network and FUSE file systems refuse to be an upper dir.)
 */
export async function probeOverlay(dir: string): Promise<string | undefined> {
  await mkdir(dir, { recursive: true, mode: 0o711 });
  const probe = await mkdtemp(join(dir, 'overlay-probe-'));
  const merged = join(probe, 'merged');
  try {
    for (const d of ['l1/d', 'l2', 'upper', 'work', 'merged']) await mkdir(join(probe, d), { recursive: true });
    await writeFile(join(probe, 'l1/f'), 'f');
    await writeFile(join(probe, 'l1/d/x'), 'x');
    await mkdir(join(probe, 'l2/d'));
    try {
      await hakoMount(whiteoutOp(join(probe, 'l2/f')));
      await hakoMount(setxattrOp(join(probe, 'l2/d'), 'trusted.overlay.opaque', Buffer.from('y')));
      await hakoMount(['mount', 'overlay', 'overlay', merged, 'lowerdir=l2:l1,upperdir=upper,workdir=work', probe]);
    } catch (err) {
      if (isHelperMissing(err)) throw err;
      return (err as Error).message;
    }
    const names = readdirSync(merged).sort().join(',');
    const inD = readdirSync(join(merged, 'd')).join(',');
    if (names !== 'd' || inD !== '') return `overlay on ${dir} does not honour whiteouts (saw "${names}", "d/${inD}")`;
    await writeFile(join(merged, 'new'), 'n');
    if (!existsSync(join(probe, 'upper/new'))) return `overlay on ${dir} did not write to its upper directory`;
    return undefined;
  } catch (err) {
    if (isHelperMissing(err)) throw err;
    return `overlay probe in ${dir}: ${(err as Error).message}`;
  } finally {
    await unmountAll(merged).catch(() => {});
    await rm(probe, { recursive: true, force: true });
  }
}
