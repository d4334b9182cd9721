import { bad } from '../parse.ts';
import { counter, counters } from '../counter.ts';
import { hasCg, readCg, readKeyValues, writeCg } from '../files.ts';
import type { MemoryResources } from '../types.ts';

const F = 'linux.resources.memory';
const SWAP_FILE = 'memory.memsw.limit_in_bytes';

export function applyMemory(dir: string, m: MemoryResources): void {
  if (m.checkBeforeUpdate && m.limit !== undefined && m.limit > 0) {
    const usage = Number(readCg(dir, 'memory.usage_in_bytes') ?? 0);
    if (m.limit < usage) throw bad(`${F}.limit`, `${m.limit} is below the current usage ${usage} (checkBeforeUpdate)`);
  }
  const limit = m.limit || undefined;
  let swap = m.swap || undefined;
  // runc: "unlimited memory" without a word on swap means unlimited swap too.
  if (limit === -1 && swap === undefined && hasCg(dir, SWAP_FILE)) swap = -1;
  const setLimit = () => limit !== undefined && writeCg(dir, 'memory.limit_in_bytes', String(limit), `${F}.limit`);
  const setSwap = () => swap !== undefined && writeCg(dir, SWAP_FILE, String(swap), `${F}.swap`);
  // The kernel keeps limit <= memory+swap at every step: raise the larger one first.
  const curLimit = BigInt(readCg(dir, 'memory.limit_in_bytes') || '0');
  if (swap !== undefined && (swap === -1 || curLimit < BigInt(swap))) {
    setSwap();
    setLimit();
  } else {
    setLimit();
    setSwap();
  }
  if (m.reservation) writeCg(dir, 'memory.soft_limit_in_bytes', String(m.reservation), `${F}.reservation`);
  if (m.kernelTCP) writeCg(dir, 'memory.kmem.tcp.limit_in_bytes', String(m.kernelTCP), `${F}.kernelTCP`);
  // memory.kernel is ignored, as runc does: kernels since 5.16 refuse kmem limits.
  if (m.swappiness !== undefined) writeCg(dir, 'memory.swappiness', String(m.swappiness), `${F}.swappiness`);
  if (m.disableOOMKiller !== undefined) writeCg(dir, 'memory.oom_control', m.disableOOMKiller ? '1' : '0', `${F}.disableOOMKiller`);
  if (m.useHierarchy !== undefined) writeCg(dir, 'memory.use_hierarchy', m.useHierarchy ? '1' : '0', `${F}.useHierarchy`);
}

export function memoryStats(dir: string): Record<string, unknown> {
  const entry = (prefix: string) => ({
    usage: counter(readCg(dir, `${prefix}.usage_in_bytes`)),
    max: counter(readCg(dir, `${prefix}.max_usage_in_bytes`)),
    limit: counter(readCg(dir, `${prefix}.limit_in_bytes`)),
    failcnt: counter(readCg(dir, `${prefix}.failcnt`)),
  });
  const raw = readKeyValues(dir, 'memory.stat');
  return {
    cache: counter(raw.get('cache')),
    usage: entry('memory'),
    swap: hasCg(dir, SWAP_FILE) ? entry('memory.memsw') : {},
    kernel: hasCg(dir, 'memory.kmem.usage_in_bytes') ? entry('memory.kmem') : {},
    kernelTCP: hasCg(dir, 'memory.kmem.tcp.usage_in_bytes') ? entry('memory.kmem.tcp') : {},
    raw: counters(raw),
  };
}

/** How many tasks the OOM killer has killed in this cgroup (kernel 4.13+). */
export function oomKills(dir: string): number {
  return Number(readKeyValues(dir, 'memory.oom_control').get('oom_kill') ?? 0);
}
