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
  return `${Number(n.toFixed(2))}${units[i]}`;
}

function si(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) (n /= 1000), i++;
  return `${Number(n.toPrecision(3))}${units[i]}`;
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
  return { cpu: Number(s['cpu']?.usage?.total ?? 0), at: Number(process.hrtime.bigint()), s };
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
      const mem = Number(b?.s['memory']?.usage?.usage ?? 0) - Number(b?.s['memory']?.stats?.total_inactive_file ?? b?.s['memory']?.stats?.inactive_file ?? 0);
      let limit = Number(b?.s['memory']?.usage?.limit ?? 0);
      const total = Number(readMemTotal());
      if (!limit || limit > total) limit = total;
      const cpuPct = a && b ? ((b.cpu - a.cpu) / (b.at - a.at)) * 100 : 0;
      const io = (b?.s['blkio']?.ioServiceBytesRecursive ?? []) as Obj[];
      const sum = (op: string) => io.filter((e) => String(e['op']).toLowerCase() === op).reduce((n, e) => n + Number(e['value'] ?? 0), 0);
      return {
        Container: o['no-trunc'] ? c.id : c.id.slice(0, 12),
        ID: o['no-trunc'] ? c.id : c.id.slice(0, 12),
        Name: c.name,
        CPUPerc: `${cpuPct.toFixed(2)}%`,
        MemUsage: `${iec(Math.max(0, mem))} / ${iec(limit)}`,
        MemPerc: `${limit ? ((Math.max(0, mem) / limit) * 100).toFixed(2) : '0.00'}%`,
        NetIO: '0B / 0B',
        BlockIO: `${si(sum('read'))} / ${si(sum('write'))}`,
        PIDs: String(b?.s['pids']?.current ?? 0),
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
