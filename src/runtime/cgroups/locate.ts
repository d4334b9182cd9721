import { join } from 'node:path';
import { unifiedOf, v2Controllers, type Hierarchy } from './hierarchy.ts';
import type { CgroupPlacement } from './placement.ts';

export interface ControllerDir {
  version: 1 | 2;
  dir: string;
}

/**
 * Where one controller of the container's cgroup lives. A controller is in at most one
 * hierarchy: a v1 mount that names it, else the cgroup2 mount when its root offers it
 * (on a hybrid host, cgroup2 gets only what v1 left, e.g. hugetlb). v2 `core` files
 * (cgroup.freeze, cpu.stat) need no controller.
 */
export function locate(placement: CgroupPlacement, hs: Hierarchy[], v1: string | undefined, v2: string | undefined): ControllerDir | undefined {
  const h1 = v1 ? hs.find((h) => h.version === 1 && h.controllers.includes(v1)) : undefined;
  if (h1) return { version: 1, dir: join(h1.mountPoint, placement.path) };
  const u = unifiedOf(hs);
  if (u && v2 && (v2 === 'core' || v2Controllers(u).includes(v2))) return { version: 2, dir: join(u.mountPoint, placement.path) };
  return undefined;
}
