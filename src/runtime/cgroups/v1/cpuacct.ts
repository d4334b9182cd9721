import { counter, type Counter } from '../counter.ts';
import { readCg, readKeyValues } from '../files.ts';

/** cpuacct.stat counts USER_HZ ticks (100 a second on Linux); runc reports nanoseconds. */
const NS_PER_TICK = 10_000_000;

export function cpuUsage(dir: string): Record<string, unknown> {
  const stat = readKeyValues(dir, 'cpuacct.stat');
  const perCpu = (file: string): Counter[] => (readCg(dir, file) ?? '').split(/\s+/).filter(Boolean).map(counter);
  return {
    total: counter(readCg(dir, 'cpuacct.usage')),
    percpu: perCpu('cpuacct.usage_percpu'),
    percpu_kernel: perCpu('cpuacct.usage_percpu_sys'),
    percpu_user: perCpu('cpuacct.usage_percpu_user'),
    kernel: Number(stat.get('system') ?? 0) * NS_PER_TICK,
    user: Number(stat.get('user') ?? 0) * NS_PER_TICK,
  };
}
