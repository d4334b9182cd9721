import { setTimeout as sleep } from 'node:timers/promises';
import { HakoError } from '../common/errors.ts';
import { collectStats, oomKillCount, readHierarchies } from './cgroups.ts';
import type { ContainerRecord, StateStore } from './state-store.ts';

export interface EventsOptions {
  /** ms between stats events */
  interval: number;
  /** print one stats event and return */
  statsOnly: boolean;
  emit: (line: string) => void;
}

/** How often the OOM counter is read: often enough that a kill is reported at once. */
const OOM_POLL_MS = 100;

/**
 * `events`: runc's JSON lines — {"type":"stats",…} every interval and {"type":"oom",…}
 * when the OOM killer strikes in the container — until the container stops. Node has no
 * eventfd for memory.oom_control, so the kill counter is polled instead.
 */
export async function containerEvents(store: StateStore, id: string, opts: EventsOptions): Promise<void> {
  const rec = store.load(id);
  if (store.status(rec) === 'stopped') throw new HakoError('invalid-state', `container "${id}" is not running`);
  const hs = readHierarchies();
  const stats = () => opts.emit(JSON.stringify({ type: 'stats', id, data: collectStats(rec.cgroup, hs) }));
  if (opts.statsOnly) return stats();
  let kills = oomKillCount(rec.cgroup, hs);
  let nextStats = Date.now() + opts.interval;
  for (;;) {
    // Liveness first: a kill that ends the container is still read and reported.
    const alive = running(store, rec);
    const now = oomKillCount(rec.cgroup, hs);
    if (now > kills) opts.emit(JSON.stringify({ type: 'oom', id }));
    kills = now;
    if (!alive) return;
    if (Date.now() >= nextStats) {
      stats();
      nextStats += opts.interval;
    }
    await sleep(Math.max(1, Math.min(OOM_POLL_MS, nextStats - Date.now())));
  }
}

function running(store: StateStore, rec: ContainerRecord): boolean {
  return store.exists(rec.id) && store.status(rec) !== 'stopped';
}
