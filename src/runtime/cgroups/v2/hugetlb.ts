import { counter } from '../counter.ts';
import { hasCg, readCg, readKeyValues, writeCg } from '../files.ts';
import { pageSizes } from '../v1/hugetlb.ts';

const F = 'linux.resources.hugepageLimits';
const max = (n: number) => (n === -1 ? 'max' : String(n));

export function applyHugetlb(dir: string, limits: readonly { pageSize: string; limit: number }[]): void {
  limits.forEach(({ pageSize, limit }, i) => {
    writeCg(dir, `hugetlb.${pageSize}.max`, max(limit), `${F}[${i}].limit`);
    const rsvd = `hugetlb.${pageSize}.rsvd.max`;
    if (hasCg(dir, rsvd)) writeCg(dir, rsvd, max(limit), `${F}[${i}].limit`);
  });
}

export function hugetlbStats(dir: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const size of pageSizes(dir, /^hugetlb\.(\d+[KMGT]B)\.max$/)) {
    out[size] = { usage: counter(readCg(dir, `hugetlb.${size}.current`)), failcnt: counter(readKeyValues(dir, `hugetlb.${size}.events`).get('max')) };
  }
  return out;
}
