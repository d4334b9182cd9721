import type { DeviceRule } from '../types.ts';

/**
 * cgroup v2 has no devices files: the executor attaches an eBPF program built from
 * these rules (native/PROTOCOL.md, `devices-bpf`): five fields a rule, `ALLOW TYPE
 * MAJOR MINOR ACCESS`; the last matching rule wins, no match denies.
 */
export function devicesBpfStep(dir: string, rules: readonly DeviceRule[]): string[] {
  return ['devices-bpf', dir, ...rules.flatMap((r) => [r.allow ? '1' : '0', r.type, String(r.major), String(r.minor), r.access])];
}
