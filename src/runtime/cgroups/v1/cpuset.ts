import { readCg, writeCg } from '../files.ts';
import type { CpuResources } from '../types.ts';

const F = 'linux.resources.cpu';

/** Same files in v1 and v2; a new v1 cpuset already holds its parent's (placement.ts). */
export function applyCpuset(dir: string, c: CpuResources): void {
  if (c.cpus) writeCg(dir, 'cpuset.cpus', c.cpus, `${F}.cpus`);
  if (c.mems) writeCg(dir, 'cpuset.mems', c.mems, `${F}.mems`);
}

export function cpusetStats(dir: string): Record<string, unknown> {
  const suffix = readCg(dir, 'cpuset.cpus.effective') === undefined ? '' : '.effective';
  return { cpus: parseList(readCg(dir, `cpuset.cpus${suffix}`)), mems: parseList(readCg(dir, `cpuset.mems${suffix}`)) };
}

/** "0-3,5" → [0, 1, 2, 3, 5] */
export function parseList(text: string | undefined): number[] {
  const out: number[] = [];
  for (const part of (text ?? '').split(',')) {
    const [a, b] = part.trim().split('-');
    if (!a) continue;
    for (let i = Number(a); i <= Number(b ?? a); i++) out.push(i);
  }
  return out;
}
