import { bad } from '../parse.ts';
import { counter, counters, MAX_U64 } from '../counter.ts';
import { readCg, readKeyValues, writeCg } from '../files.ts';
import type { MemoryResources } from '../types.ts';

const F = 'linux.resources.memory';
const max = (n: number) => (n === -1 ? 'max' : String(n));

export function applyMemory(dir: string, m: MemoryResources): void {
  if (m.swappiness !== undefined) throw bad(`${F}.swappiness`, 'cgroup v2 has no per-cgroup swappiness; remove it');
  if (m.disableOOMKiller) throw bad(`${F}.disableOOMKiller`, 'cgroup v2 cannot disable the OOM killer; remove it');
  if (m.kernelTCP) throw bad(`${F}.kernelTCP`, 'cgroup v2 has no kernel TCP memory limit; remove it');
  if (m.checkBeforeUpdate && m.limit !== undefined && m.limit > 0) {
    const usage = Number(readCg(dir, 'memory.current') ?? 0);
    if (m.limit < usage) throw bad(`${F}.limit`, `${m.limit} is below the current usage ${usage} (checkBeforeUpdate)`);
  }
  const swap = swapV2(dir, m);
  if (swap !== undefined) writeCg(dir, 'memory.swap.max', max(swap), `${F}.swap`);
  if (m.limit) writeCg(dir, 'memory.max', max(m.limit), `${F}.limit`);
  if (m.reservation) writeCg(dir, 'memory.low', max(m.reservation), `${F}.reservation`);
  // memory.kernel is ignored, as runc does; hierarchy is always on in v2.
}

/**
 * OCI's swap is v1's memory+swap; v2's memory.swap.max is the swap alone. runc's
 * conversion: the difference, with -1 meaning max and "unlimited memory, swap unset"
 * meaning unlimited swap too. Without a new limit the current memory.max counts.
 */
export function swapV2(dir: string, m: MemoryResources): number | undefined {
  const swap = m.swap ?? 0;
  const limit = m.limit || currentLimit(dir);
  if (limit === -1 && swap === 0) return m.limit === -1 ? -1 : undefined;
  if (swap === 0) return undefined;
  if (swap === -1) return -1;
  if (limit === -1 || limit === 0) throw bad(`${F}.swap`, 'a swap limit needs a memory limit');
  if (swap < limit) throw bad(`${F}.swap`, `memory+swap (${swap}) must be >= the memory limit (${limit})`);
  return swap - limit;
}

function currentLimit(dir: string): number {
  const v = readCg(dir, 'memory.max');
  return v === undefined || v === 'max' ? -1 : Number(v);
}

export function memoryStats(dir: string): Record<string, unknown> {
  const events = readKeyValues(dir, 'memory.events');
  const raw = readKeyValues(dir, 'memory.stat');
  const current = readCg(dir, 'memory.current');
  const limit = readCg(dir, 'memory.max');
  const swapCur = readCg(dir, 'memory.swap.current');
  const swapMax = readCg(dir, 'memory.swap.max');
  // runc reports swap as memory+swap, the v1 way.
  const sum = (a?: string, b?: string) => (a === 'max' || b === 'max' ? MAX_U64 : counter(String(BigInt(a || 0) + BigInt(b || 0))));
  return {
    cache: counter(raw.get('file')),
    usage: { usage: counter(current), max: counter(readCg(dir, 'memory.peak')), limit: counter(limit), failcnt: counter(events.get('max')) },
    swap: swapCur === undefined ? {} : { usage: sum(current, swapCur), max: counter(readCg(dir, 'memory.swap.peak')), limit: sum(limit, swapMax), failcnt: counter(readKeyValues(dir, 'memory.swap.events').get('max')) },
    raw: counters(raw),
  };
}

export function oomKills(dir: string): number {
  return Number(readKeyValues(dir, 'memory.events').get('oom_kill') ?? 0);
}
