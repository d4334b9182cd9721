import * as v1 from './v1/freezer.ts';
import * as v2 from './v2/freezer.ts';
import { hasCg } from './files.ts';
import type { CgroupPlacement } from './placement.ts';

/**
 * The freezer that holds the container: v1's freezer hierarchy when there is one (a
 * hybrid host has both, and its tasks are in both), else cgroup v2's core freezer.
 * Found from the placement alone, so that `state` needs no mount table.
 */
export function freezerOf(placement: CgroupPlacement): { dir: string; impl: typeof v1 } | undefined {
  const d1 = placement.dirs.find((d) => hasCg(d, 'freezer.state'));
  if (d1) return { dir: d1, impl: v1 };
  const d2 = placement.dirs.find((d) => hasCg(d, 'cgroup.freeze'));
  return d2 ? { dir: d2, impl: v2 } : undefined;
}

export function isFrozen(placement: CgroupPlacement): boolean {
  const f = freezerOf(placement);
  return !!f && f.impl.isFrozen(f.dir);
}
