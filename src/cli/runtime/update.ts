import { readFileSync } from 'node:fs';
import { HakoError } from '../../common/errors.ts';
import { parseVerb } from '../args.ts';
import { updateContainer } from '../../runtime/container-update.ts';
import type { RuntimeGlobals } from './index.ts';

const FLAGS = {
  resources: { type: 'string', short: 'r' },
  memory: { type: 'string' },
  'memory-reservation': { type: 'string' },
  'memory-swap': { type: 'string' },
  'kernel-memory': { type: 'string' },
  'kernel-memory-tcp': { type: 'string' },
  'cpu-share': { type: 'string' },
  'cpu-shares': { type: 'string' },
  'cpu-period': { type: 'string' },
  'cpu-quota': { type: 'string' },
  'cpu-burst': { type: 'string' },
  'cpu-rt-period': { type: 'string' },
  'cpu-rt-runtime': { type: 'string' },
  'cpu-idle': { type: 'string' },
  'cpuset-cpus': { type: 'string' },
  'cpuset-mems': { type: 'string' },
  'pids-limit': { type: 'string' },
  'blkio-weight': { type: 'string' },
} as const;

type Flag = keyof typeof FLAGS;

/** flag → [section, field, parser]; the value lands in linux.resources.SECTION.FIELD */
const TARGETS: [Flag, string, string, (v: string, flag: string) => number | string][] = [
  ['memory', 'memory', 'limit', size],
  ['memory-reservation', 'memory', 'reservation', size],
  ['memory-swap', 'memory', 'swap', size],
  ['kernel-memory', 'memory', 'kernel', size],
  ['kernel-memory-tcp', 'memory', 'kernelTCP', size],
  ['cpu-share', 'cpu', 'shares', integer],
  ['cpu-shares', 'cpu', 'shares', integer],
  ['cpu-period', 'cpu', 'period', integer],
  ['cpu-quota', 'cpu', 'quota', integer],
  ['cpu-burst', 'cpu', 'burst', integer],
  ['cpu-rt-period', 'cpu', 'realtimePeriod', integer],
  ['cpu-rt-runtime', 'cpu', 'realtimeRuntime', integer],
  ['cpu-idle', 'cpu', 'idle', integer],
  ['cpuset-cpus', 'cpu', 'cpus', (v) => v],
  ['cpuset-mems', 'cpu', 'mems', (v) => v],
  ['pids-limit', 'pids', 'limit', integer],
  ['blkio-weight', 'blockIO', 'weight', integer],
];

const USAGE = `update [options] CONTAINER_ID
  -r, --resources FILE   a linux.resources JSON document ("-": standard input)
  --memory, --memory-reservation, --memory-swap SIZE   (e.g. 64m, 1g; -1: unlimited)
  --cpu-shares N, --cpu-period US, --cpu-quota US, --cpuset-cpus LIST, --cpuset-mems LIST
  --pids-limit N, --blkio-weight N`;

export default async function update(args: string[], g: RuntimeGlobals): Promise<number> {
  const { values, positionals } = parseVerb('update', joinNegatives(args), FLAGS, { min: 1, max: 1, usage: USAGE });
  let changes: Record<string, Record<string, unknown>> = {};
  if (values.resources !== undefined) {
    if (TARGETS.some(([f]) => values[f] !== undefined)) throw new HakoError('invalid-argument', 'update: --resources cannot be combined with other flags');
    changes = readResources(values.resources);
  } else {
    for (const [flag, section, field, parse] of TARGETS) {
      const v = values[flag];
      if (v !== undefined) (changes[section] ??= {})[field] = parse(v, flag);
    }
  }
  if (Object.keys(changes).length === 0) throw new HakoError('invalid-argument', `update: nothing to update\nUsage: ${USAGE}`);
  updateContainer(g.store, positionals[0]!, changes);
  return 0;
}

/** `--memory-swap -1`: parseArgs takes "-1" for an option; runc's users write it so. */
function joinNegatives(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const next = args[i + 1];
    if (/^--?[a-z-]+$/.test(a) && a.replace(/^--?/, '') in FLAGS && next !== undefined && /^-\d/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

function readResources(path: string): Record<string, Record<string, unknown>> {
  const where = path === '-' ? 'standard input' : path;
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (err) {
    throw new HakoError('invalid-argument', `update: read ${where}: ${(err as Error).message}`);
  }
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
    return v as Record<string, Record<string, unknown>>;
  } catch (err) {
    throw new HakoError('invalid-config', `update: ${where}: ${(err as Error).message}`);
  }
}

function integer(v: string, flag: string): number {
  if (!/^-?\d+$/.test(v)) throw new HakoError('invalid-argument', `update: --${flag}: invalid number "${v}"`);
  return Number(v);
}

const UNITS: Record<string, number> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };

/** Sizes as runc takes them (go-units RAMInBytes): 512, 64k, 128m, 1.5g, 2GiB; -1 = unlimited. */
export function size(v: string, flag: string): number {
  if (v === '-1') return -1;
  const m = /^(\d+(?:\.\d+)?) ?([kmgtp])?i?b?$/i.exec(v);
  if (!m) throw new HakoError('invalid-argument', `update: --${flag}: invalid size "${v}" (e.g. 512, 64k, 128m, 1g; -1: unlimited)`);
  return Math.floor(Number(m[1]) * UNITS[(m[2] ?? '').toLowerCase()]!);
}
