import { counter } from '../counter.ts';
import { hasCg, readCg, writeCg } from '../files.ts';
import { bad } from '../parse.ts';
import { THROTTLE_KEYS, type BlockIOResources } from '../types.ts';

const F = 'linux.resources.blockIO';

const IO_MAX_KEYS: Record<(typeof THROTTLE_KEYS)[number], string> = {
  throttleReadBpsDevice: 'rbps',
  throttleWriteBpsDevice: 'wbps',
  throttleReadIOPSDevice: 'riops',
  throttleWriteIOPSDevice: 'wiops',
};

/** runc: blkio's 10…1000 onto io.weight's 1…10000 (io.bfq.weight takes blkio's range as is). */
export const blkioToIoWeight = (w: number) => (w === 0 ? 0 : 1 + Math.floor(((w - 10) * 9999) / 990));

export function applyIo(dir: string, b: BlockIOResources): void {
  if (b.leafWeight || b.weightDevice?.some((d) => d.leafWeight)) throw bad(`${F}.leafWeight`, 'cgroup v2 has no leaf weight; remove it');
  const bfq = hasCg(dir, 'io.bfq.weight');
  const [file, conv] = bfq ? ['io.bfq.weight', (w: number) => w] : ['io.weight', blkioToIoWeight];
  if (b.weight) writeCg(dir, file, String(conv(b.weight)), `${F}.weight`);
  b.weightDevice?.forEach((d, i) => {
    if (d.weight) writeCg(dir, file, `${d.major}:${d.minor} ${conv(d.weight)}`, `${F}.weightDevice[${i}].weight`);
  });
  for (const k of THROTTLE_KEYS) {
    b[k]?.forEach((d, i) => writeCg(dir, 'io.max', `${d.major}:${d.minor} ${IO_MAX_KEYS[k]}=${d.rate === 0 ? 'max' : d.rate}`, `${F}.${k}[${i}]`));
  }
}

/** io.stat ("8:0 rbytes=… wbytes=… rios=… wios=…") in runc's v1-shaped entries. */
export function ioStats(dir: string): Record<string, unknown> {
  const bytes: Record<string, unknown>[] = [];
  const ios: Record<string, unknown>[] = [];
  for (const line of (readCg(dir, 'io.stat') ?? '').split('\n')) {
    const [dev = '', ...kvs] = line.trim().split(/\s+/);
    const m = /^(\d+):(\d+)$/.exec(dev);
    if (!m) continue;
    const kv = new Map(kvs.map((s) => s.split('=') as [string, string]));
    const at = { major: Number(m[1]), minor: Number(m[2]) };
    bytes.push({ ...at, op: 'Read', value: counter(kv.get('rbytes')) }, { ...at, op: 'Write', value: counter(kv.get('wbytes')) });
    ios.push({ ...at, op: 'Read', value: counter(kv.get('rios')) }, { ...at, op: 'Write', value: counter(kv.get('wios')) });
  }
  return { ioServiceBytesRecursive: bytes, ioServicedRecursive: ios };
}
