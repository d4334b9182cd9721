import type { Hierarchy } from './hierarchy.ts';
import { locate } from './locate.ts';
import type { CgroupPlacement } from './placement.ts';
import * as v1blkio from './v1/blkio.ts';
import * as v1cpu from './v1/cpu.ts';
import * as v1cpuacct from './v1/cpuacct.ts';
import * as v1cpuset from './v1/cpuset.ts';
import * as v1hugetlb from './v1/hugetlb.ts';
import * as v1memory from './v1/memory.ts';
import * as v1pids from './v1/pids.ts';
import * as v2cpu from './v2/cpu.ts';
import * as v2cpuset from './v2/cpuset.ts';
import * as v2hugetlb from './v2/hugetlb.ts';
import * as v2io from './v2/io.ts';
import * as v2memory from './v2/memory.ts';
import * as v2pids from './v2/pids.ts';

/** runc's `events` stats object (types.Stats), from whichever hierarchy has each controller. */
export function collectStats(placement: CgroupPlacement, hs: Hierarchy[]): Record<string, unknown> {
  const at = (v1: string, v2: string) => locate(placement, hs, v1, v2);
  const pick = <T>(v1: string, v2: string, f1: (d: string) => T, f2: (d: string) => T, none: T): T => {
    const c = at(v1, v2);
    return !c ? none : c.version === 1 ? f1(c.dir) : f2(c.dir);
  };
  const acct = at('cpuacct', 'core');
  const cpu =
    acct?.version === 1
      ? { usage: v1cpuacct.cpuUsage(acct.dir), throttling: pick('cpu', 'cpu', v1cpu.cpuThrottling, (d) => v2cpu.cpuStats(d)['throttling'], {}) }
      : acct
        ? v2cpu.cpuStats(acct.dir)
        : {};
  return {
    cpu,
    cpuset: pick('cpuset', 'cpuset', v1cpuset.cpusetStats, v2cpuset.cpusetStats, {}),
    memory: pick('memory', 'memory', v1memory.memoryStats, v2memory.memoryStats, {}),
    pids: pick('pids', 'pids', v1pids.pidsStats, v2pids.pidsStats, {}),
    blkio: pick('blkio', 'io', v1blkio.blkioStats, v2io.ioStats, {}),
    hugetlb: pick('hugetlb', 'hugetlb', v1hugetlb.hugetlbStats, v2hugetlb.hugetlbStats, {}),
  };
}

/** The OOM killer's kill count for the container (polled: Node has no eventfd). */
export function oomKillCount(placement: CgroupPlacement, hs: Hierarchy[]): number {
  const m = locate(placement, hs, 'memory', 'memory');
  if (!m) return 0;
  return m.version === 1 ? v1memory.oomKills(m.dir) : v2memory.oomKills(m.dir);
}
