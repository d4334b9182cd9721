import { HakoError } from '../common/errors.ts';
import { freezerOf } from './cgroups.ts';
import type { StateStore } from './state-store.ts';

/**
 * `resume`: thaws a paused container. Asks the freezer rather than `status`: a created
 * container that was paused still reports "created" (its exec fifo is there).
 */
export function resumeContainer(store: StateStore, id: string): void {
  const rec = store.load(id);
  const f = freezerOf(rec.cgroup);
  if (!f || store.status(rec) === 'stopped' || !f.impl.isFrozen(f.dir)) throw new HakoError('invalid-state', 'container not paused');
  f.impl.thaw(f.dir);
}
