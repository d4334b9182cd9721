import { cgroupPids } from './cgroups.ts';
import type { StateStore } from './state-store.ts';

/** `ps`: the pids in the container's cgroup (every hierarchy, so nothing escapes), sorted. */
export function containerPids(store: StateStore, id: string): number[] {
  const rec = store.load(id);
  return cgroupPids(rec.cgroup).sort((a, b) => a - b);
}
