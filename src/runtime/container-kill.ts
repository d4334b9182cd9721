import { HakoError } from '../common/errors.ts';
import { cgroupPids } from './cgroups.ts';
import type { StateStore } from './state-store.ts';

/** `kill`: signals the init (or, with all, every process in the container's cgroup). */
export function killContainer(store: StateStore, id: string, signal: number, all: boolean): void {
  const rec = store.load(id);
  const status = store.status(rec);
  if (status === 'stopped') throw new HakoError('invalid-state', `container "${id}" is not running`);
  const pids = all ? cgroupPids(rec.cgroup) : [rec.pid];
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }
}
