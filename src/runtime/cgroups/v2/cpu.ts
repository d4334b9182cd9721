import { counter } from '../counter.ts';
import { readCg, readKeyValues, writeCg } from '../files.ts';
import { bad } from '../parse.ts';
import type { CpuResources } from '../types.ts';

const F = 'linux.resources.cpu';

export function applyCpu(dir: string, c: CpuResources): void {
  if (c.realtimeRuntime || c.realtimePeriod) {
    throw bad(`${F}.${c.realtimeRuntime ? 'realtimeRuntime' : 'realtimePeriod'}`, 'cgroup v2 has no realtime CPU budget; remove it');
  }
  if (c.shares) writeCg(dir, 'cpu.weight', String(sharesToWeight(c.shares)), `${F}.shares`);
  if (c.idle !== undefined) writeCg(dir, 'cpu.idle', String(c.idle), `${F}.idle`);
  if (c.quota || c.period) {
    // cpu.max holds both; keep the half that is not being changed.
    const [curQuota = 'max', curPeriod = ''] = (readCg(dir, 'cpu.max') ?? '').split(' ');
    const quota = c.quota ? (c.quota > 0 ? String(c.quota) : 'max') : curQuota;
    const period = c.period ? String(c.period) : curPeriod;
    writeCg(dir, 'cpu.max', period ? `${quota} ${period}` : quota, `${F}.${c.quota ? 'quota' : 'period'}`);
  }
  if (c.burst !== undefined) writeCg(dir, 'cpu.max.burst', String(c.burst), `${F}.burst`);
}

/**
 * runc's (≥ 1.3.2) quadratic map of v1 shares [2…262144] onto v2 weight [1…10000]
 * that keeps the defaults together: 2 → 1, 1024 → 100, 262144 → 10000.
 */
export function sharesToWeight(shares: number): number {
  if (shares <= 0) return 0;
  if (shares <= 2) return 1;
  if (shares >= 262144) return 10000;
  const l = Math.log2(shares);
  return Math.ceil(10 ** ((l * l + 125 * l) / 612 - 7 / 34));
}

export function cpuStats(dir: string): Record<string, unknown> {
  const s = readKeyValues(dir, 'cpu.stat');
  const ns = (k: string) => Number(s.get(k) ?? 0) * 1000;
  return {
    usage: { total: ns('usage_usec'), kernel: ns('system_usec'), user: ns('user_usec') },
    throttling: { periods: counter(s.get('nr_periods')), throttled_periods: counter(s.get('nr_throttled')), throttled_time: ns('throttled_usec') },
  };
}
