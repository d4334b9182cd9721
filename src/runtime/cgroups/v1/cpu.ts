import { counter } from '../counter.ts';
import { readCg, readKeyValues, writeCg } from '../files.ts';
import { bad } from '../parse.ts';
import type { CpuResources } from '../types.ts';

const F = 'linux.resources.cpu';

export function applyCpu(dir: string, c: CpuResources): void {
  if (c.shares) {
    writeCg(dir, 'cpu.shares', String(c.shares), `${F}.shares`);
    // The kernel clamps silently (2…262144); say so rather than run with another value.
    const got = Number(readCg(dir, 'cpu.shares'));
    if (got !== c.shares) throw bad(`${F}.shares`, `${c.shares} is out of the kernel's range (it set ${got})`);
  }
  // A shorter period may be refused until the quota is lowered: retry it afterwards.
  let periodPending = false;
  if (c.period) {
    try {
      writeCg(dir, 'cpu.cfs_period_us', String(c.period), `${F}.period`);
    } catch (err) {
      if (!c.quota) throw err;
      periodPending = true;
    }
  }
  if (c.quota) writeCg(dir, 'cpu.cfs_quota_us', String(c.quota), `${F}.quota`);
  if (periodPending) writeCg(dir, 'cpu.cfs_period_us', String(c.period), `${F}.period`);
  if (c.burst !== undefined) writeCg(dir, 'cpu.cfs_burst_us', String(c.burst), `${F}.burst`);
  if (c.realtimePeriod) writeCg(dir, 'cpu.rt_period_us', String(c.realtimePeriod), `${F}.realtimePeriod`);
  if (c.realtimeRuntime) writeCg(dir, 'cpu.rt_runtime_us', String(c.realtimeRuntime), `${F}.realtimeRuntime`);
  if (c.idle !== undefined) writeCg(dir, 'cpu.idle', String(c.idle), `${F}.idle`);
}

/** Throttling from the cpu controller (usage comes from cpuacct, see cpuacct.ts). */
export function cpuThrottling(dir: string): Record<string, unknown> {
  const s = readKeyValues(dir, 'cpu.stat');
  return { periods: counter(s.get('nr_periods')), throttled_periods: counter(s.get('nr_throttled')), throttled_time: counter(s.get('throttled_time')) };
}
