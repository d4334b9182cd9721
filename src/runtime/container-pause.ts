import { HakoError } from '../common/errors.ts';
import { freezerOf } from './cgroups.ts';
import type { StateStore } from './state-store.ts';

/** `pause`: freezes every process in the container's cgroup (runc also pauses a created one). */
export function pauseContainer(store: StateStore, id: string): void {
  const rec = store.load(id);
  const status = store.status(rec);
  if (status !== 'running' && status !== 'created') throw new HakoError('invalid-state', 'container not running');
  const f = freezerOf(rec.cgroup);
  if (!f) throw new HakoError('unsupported', `cannot pause container "${id}": this host has no cgroup freezer`);
  f.impl.freeze(f.dir);
}
