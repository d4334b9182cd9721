import { writeCg } from '../files.ts';
import type { DeviceRule } from '../types.ts';

const F = 'linux.resources.devices';

/**
 * Deny everything, then replay the rules in order through devices.allow/devices.deny.
 * Only for a fresh cgroup: the deny-all would briefly cut off a running container.
 */
export function applyDevices(dir: string, rules: readonly DeviceRule[]): void {
  writeCg(dir, 'devices.deny', 'a', F);
  rules.forEach((r, i) => {
    for (const line of v1Rules(r)) writeCg(dir, r.allow ? 'devices.allow' : 'devices.deny', line, `${F}[${i}]`);
  });
}

/**
 * "c 1:3 rwm". The kernel reads a line starting with `a` as "reset to allow/deny
 * everything", whatever follows: only a full wildcard rule may be written so; a
 * narrower `a` rule becomes one rule per type.
 */
export function v1Rules(r: DeviceRule): string[] {
  const n = (x: number) => (x < 0 ? '*' : String(x));
  if (r.type !== 'a') return [`${r.type} ${n(r.major)}:${n(r.minor)} ${r.access}`];
  if (r.major < 0 && r.minor < 0 && r.access.length === 3) return ['a'];
  return (['c', 'b'] as const).flatMap((type) => v1Rules({ ...r, type }));
}
