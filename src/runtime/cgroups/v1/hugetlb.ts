import { readdirSync } from 'node:fs';
import { counter } from '../counter.ts';
import { hasCg, readCg, writeCg } from '../files.ts';

const F = 'linux.resources.hugepageLimits';

/** hugetlb.<size>.limit_in_bytes, and the reservation limit where the kernel has one. */
export function applyHugetlb(dir: string, limits: readonly { pageSize: string; limit: number }[]): void {
  limits.forEach(({ pageSize, limit }, i) => {
    writeCg(dir, `hugetlb.${pageSize}.limit_in_bytes`, String(limit), `${F}[${i}].limit`);
    const rsvd = `hugetlb.${pageSize}.rsvd.limit_in_bytes`;
    if (hasCg(dir, rsvd)) writeCg(dir, rsvd, String(limit), `${F}[${i}].limit`);
  });
}

export function hugetlbStats(dir: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const size of pageSizes(dir, /^hugetlb\.(\d+[KMGT]B)\.limit_in_bytes$/)) {
    const f = (k: string) => counter(readCg(dir, `hugetlb.${size}.${k}`));
    out[size] = { usage: f('usage_in_bytes'), max: f('max_usage_in_bytes'), failcnt: f('failcnt') };
  }
  return out;
}

export function pageSizes(dir: string, re: RegExp): string[] {
  try {
    return readdirSync(dir).flatMap((n) => re.exec(n)?.[1] ?? []);
  } catch {
    return [];
  }
}
