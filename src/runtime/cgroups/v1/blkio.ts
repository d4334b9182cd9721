import { counter } from '../counter.ts';
import { hasCg, readCg, writeCg } from '../files.ts';
import { THROTTLE_KEYS, type BlockIOResources } from '../types.ts';

const F = 'linux.resources.blockIO';

const THROTTLE_FILES: Record<(typeof THROTTLE_KEYS)[number], string> = {
  throttleReadBpsDevice: 'blkio.throttle.read_bps_device',
  throttleWriteBpsDevice: 'blkio.throttle.write_bps_device',
  throttleReadIOPSDevice: 'blkio.throttle.read_iops_device',
  throttleWriteIOPSDevice: 'blkio.throttle.write_iops_device',
};

/** With the BFQ scheduler the weights live in blkio.bfq.*; CFQ's blkio.weight is older. */
export function applyBlkio(dir: string, b: BlockIOResources): void {
  const prefix = hasCg(dir, 'blkio.bfq.weight') ? 'blkio.bfq.' : 'blkio.';
  if (b.weight) writeCg(dir, `${prefix}weight`, String(b.weight), `${F}.weight`);
  if (b.leafWeight) writeCg(dir, 'blkio.leaf_weight', String(b.leafWeight), `${F}.leafWeight`);
  b.weightDevice?.forEach((d, i) => {
    if (d.weight) writeCg(dir, `${prefix}weight_device`, `${d.major}:${d.minor} ${d.weight}`, `${F}.weightDevice[${i}].weight`);
    if (d.leafWeight) writeCg(dir, 'blkio.leaf_weight_device', `${d.major}:${d.minor} ${d.leafWeight}`, `${F}.weightDevice[${i}].leafWeight`);
  });
  for (const k of THROTTLE_KEYS) {
    b[k]?.forEach((d, i) => writeCg(dir, THROTTLE_FILES[k], `${d.major}:${d.minor} ${d.rate}`, `${F}.${k}[${i}]`));
  }
}

export function blkioStats(dir: string): Record<string, unknown> {
  return {
    ioServiceBytesRecursive: entries(readCg(dir, 'blkio.throttle.io_service_bytes_recursive')),
    ioServicedRecursive: entries(readCg(dir, 'blkio.throttle.io_serviced_recursive')),
  };
}

/** "8:0 Read 4096" lines (and a "Total N" line, dropped) → runc's blkio entries. */
function entries(text: string | undefined): Record<string, unknown>[] {
  return (text ?? '').split('\n').flatMap((line) => {
    const m = /^(\d+):(\d+) (\w+) (\d+)$/.exec(line.trim());
    return m ? [{ major: Number(m[1]), minor: Number(m[2]), op: m[3], value: counter(m[4]) }] : [];
  });
}
