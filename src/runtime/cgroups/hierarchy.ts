import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readMountinfo, type MountEntry } from '../../common/mountinfo.ts';

/** Where the cgroup hierarchies are mounted; v1, hybrid and v2 hosts alike. */
export interface Hierarchy {
  /** 'unified' for cgroup2, else the v1 controllers (or name=…) of the mount */
  controllers: string[];
  version: 1 | 2;
  mountPoint: string;
}

export type CgroupLayout = 'v1' | 'hybrid' | 'v2';

const MOUNT_FLAGS = new Set(['rw', 'ro', 'relatime', 'noatime', 'nosuid', 'nodev', 'noexec', 'xattr', 'clone_children']);

export function readHierarchies(mounts: MountEntry[] = readMountinfo()): Hierarchy[] {
  const out: Hierarchy[] = [];
  for (const m of mounts) {
    if (m.root !== '/') continue; // a bind of a sub-cgroup, not the hierarchy's root
    if (m.fstype === 'cgroup2') out.push({ controllers: ['unified'], version: 2, mountPoint: m.mountPoint });
    else if (m.fstype === 'cgroup') {
      const controllers = m.superOptions.filter((o) => !MOUNT_FLAGS.has(o) && !o.startsWith('release_agent='));
      out.push({ controllers, version: 1, mountPoint: m.mountPoint });
    }
  }
  // One hierarchy may be mounted twice; keep the first.
  return out.filter((h, i) => out.findIndex((o) => o.controllers.join() === h.controllers.join()) === i);
}

export function layoutOf(hs: Hierarchy[]): CgroupLayout {
  const v1 = hs.some((h) => h.version === 1);
  const v2 = hs.some((h) => h.version === 2);
  if (v1 && v2) return 'hybrid';
  return v1 ? 'v1' : 'v2';
}

/**
 * The controllers a cgroup2 hierarchy offers (its root's cgroup.controllers). On a
 * hybrid host these are only the ones no v1 hierarchy has taken.
 */
export function v2Controllers(h: Hierarchy): string[] {
  try {
    return readFileSync(join(h.mountPoint, 'cgroup.controllers'), 'utf8').split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}

export function unifiedOf(hs: Hierarchy[]): Hierarchy | undefined {
  return hs.find((h) => h.version === 2);
}
