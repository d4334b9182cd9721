import { readFileSync } from 'node:fs';
import { parseVerb } from '../args.ts';
import { HakoError } from '../../common/errors.ts';
import { collectStats, readHierarchies } from '../../runtime/cgroups.ts';
import { dockerTable, formatRows } from '../docker-args.ts';
import type { Container } from '../../engine/containers/record.ts';
import { out } from '../output.ts';
import type { ContainerGlobals } from './index.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

function iec(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) (n /= 1024), i++;
  return `${Number(n.toPrecision(4))}${units[i]}`; // Go's %.4g, as Docker's units.BytesSize
}

function si(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) (n /= 1000), i++;
  return `${Number(n.toPrecision(3))}${units[i]}`;
}

/** A cgroup counter as a number: a limit too big for a double comes as JSON.rawJSON (e.g. v1's "unlimited"). */
function num(c: unknown): number {
  if (c === undefined || c === null) return 0;
  if (typeof c === 'object') return Number(JSON.stringify(c));
  return Number(c);
}

interface Sample {
  cpu: number;
  at: number;
  s: Obj;
}

function sample(g: ContainerGlobals, c: Container): Sample | undefined {
  if (!g.eng.runtime.exists(c.id)) return undefined;
  const rec = g.eng.runtime.load(c.id);
  const s = collectStats(rec.cgroup, readHierarchies()) as Obj;
  return { cpu: num(s['cpu']?.usage?.total), at: Number(process.hrtime.bigint()), s };
}

/** `stats [--no-stream] [-a] [CONTAINER...]`: cgroup figures in Docker's columns (one sample with --no-stream). */
export default async function stats(args: string[], g: ContainerGlobals): Promise<number> {
  const { values: o, positionals } = parseVerb(
    'stats',
    args,
    { 'no-stream': { type: 'boolean' }, all: { type: 'boolean', short: 'a' }, 'no-trunc': { type: 'boolean' }, format: { type: 'string' } },
    { min: 0, max: Infinity, usage: 'hako stats [OPTIONS] [CONTAINER...]' },
  );
  const list = positionals.length ? positionals.map((r) => g.eng.resolve(r)) : g.eng.list().filter((c) => o.all || g.eng.state(c).Running);
  for (;;) {
    const first = new Map(list.map((c) => [c.id, sample(g, c)]));
    await new Promise((r) => setTimeout(r, 500));
    const rows = list.map((c) => {
      const a = first.get(c.id);
      const b = sample(g, c);
      // Docker's figure: usage less the inactive page cache (v1: total_inactive_file, v2: inactive_file)
      const raw = (b?.s['memory']?.raw ?? {}) as Obj;
      const mem = num(b?.s['memory']?.usage?.usage) - num(raw['total_inactive_file'] ?? raw['inactive_file']);
      let limit = num(b?.s['memory']?.usage?.limit);
      const total = Number(readMemTotal());
      if (!limit || limit > total) limit = total;
      const cpuPct = a && b ? ((b.cpu - a.cpu) / (b.at - a.at)) * 100 : 0;
      const io = (b?.s['blkio']?.ioServiceBytesRecursive ?? []) as Obj[];
      const sum = (op: string) => io.filter((e) => String(e['op']).toLowerCase() === op).reduce((n, e) => n + num(e['value']), 0);
      return {
        Container: o['no-trunc'] ? c.id : c.id.slice(0, 12),
        ID: o['no-trunc'] ? c.id : c.id.slice(0, 12),
        Name: c.name,
        CPUPerc: `${cpuPct.toFixed(2)}%`,
        MemUsage: `${iec(Math.max(0, mem))} / ${iec(limit)}`,
        MemPerc: `${limit ? ((Math.max(0, mem) / limit) * 100).toFixed(2) : '0.00'}%`,
        NetIO: '0B / 0B',
        BlockIO: `${si(sum('read'))} / ${si(sum('write'))}`,
        PIDs: String(num(b?.s['pids']?.current)),
      };
    });
    out(
      formatRows(o.format, rows, () =>
        dockerTable([
          ['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'NET I/O', 'BLOCK I/O', 'PIDS'],
          ...rows.map((r) => [r.ID, r.Name, r.CPUPerc, r.MemUsage, r.MemPerc, r.NetIO, r.BlockIO, r.PIDs]),
        ]),
      ),
    );
    if (o['no-stream']) return 0;
    if (list.length === 0) throw new HakoError('invalid-argument', 'no containers to show');
  }
}

function readMemTotal(): number {
  try {
    const m = /MemTotal:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}
