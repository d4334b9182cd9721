import { dirname, join, relative } from 'node:path';
import { HakoError } from '../../../common/errors.ts';
import { readCg, writeCg } from '../files.ts';

/**
 * A v2 controller works in a cgroup only once every ancestor has it in
 * cgroup.subtree_control. Enables them from the root down to the container's parent:
 * all that the root offers (runc does the same, so that stats work without limits),
 * but only a controller the config needs (`needed`: controller → field) may fail the
 * create; an ancestor holding processes refuses domain controllers (EBUSY).
 */
export function enableControllers(mountPoint: string, cgroupDir: string, offered: readonly string[], needed: ReadonlyMap<string, string>): void {
  const ancestors = [mountPoint];
  for (const part of relative(mountPoint, dirname(cgroupDir)).split('/').filter(Boolean)) ancestors.push(join(ancestors.at(-1)!, part));
  for (const dir of ancestors) {
    const on = new Set((readCg(dir, 'cgroup.subtree_control') ?? '').split(/\s+/));
    const missing = offered.filter((c) => !on.has(c));
    if (missing.length === 0) continue;
    try {
      writeCg(dir, 'cgroup.subtree_control', missing.map((c) => `+${c}`).join(' '), 'cgroup');
      continue;
    } catch {
      // one of them was refused: find out which, one by one
    }
    for (const c of missing) {
      try {
        writeCg(dir, 'cgroup.subtree_control', `+${c}`, needed.get(c) ?? 'cgroup');
      } catch (err) {
        const field = needed.get(c);
        if (field) throw new HakoError('invalid-config', `${field}: cannot enable the ${c} controller in ${join(dir, 'cgroup.subtree_control')}: ${(err as Error).message.replace(/^.*?: write [^:]*: /, '')}`, { cause: err });
      }
    }
  }
}
