import { readCg, writeCg } from '../files.ts';

/** -1 (and runc's "any negative") is no limit; 0 is "not set". */
export function applyPids(dir: string, p: { limit: number }): void {
  if (p.limit !== 0) writeCg(dir, 'pids.max', p.limit > 0 ? String(p.limit) : 'max', 'linux.resources.pids.limit');
}

/** runc reports an unlimited pids.max as 0. */
export function pidsStats(dir: string): Record<string, number> {
  const max = readCg(dir, 'pids.max');
  return { current: Number(readCg(dir, 'pids.current') ?? 0), limit: max === undefined || max === 'max' ? 0 : Number(max) };
}
