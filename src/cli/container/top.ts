import { spawnSync } from 'node:child_process';
import { parseVerb } from '../args.ts';
import { HakoError } from '../../common/errors.ts';
import { containerPids } from '../../runtime/container-ps.ts';
import { out } from '../output.ts';
import type { ContainerGlobals } from './index.ts';

/** `top CONTAINER [ps OPTIONS]`: the host's ps, limited to the container's processes (Docker's way). */
export default async function top(args: string[], g: ContainerGlobals): Promise<number> {
  const [ref, ...psArgs] = args;
  parseVerb('top', ref ? [ref] : [], {}, { min: 1, max: 1, usage: 'hako top CONTAINER [ps OPTIONS]' });
  const c = g.eng.resolve(ref!);
  if (!g.eng.state(c).Running) throw new HakoError('invalid-state', `container ${c.id} is not running`);
  const pids = new Set(containerPids(g.eng.runtime, c.id));
  const r = spawnSync('ps', psArgs.length ? psArgs : ['-ef'], { encoding: 'utf8' });
  if (r.status !== 0) throw new HakoError('system', `ps: ${(r.stderr || r.error?.message || '').trim()}`);
  const [header = '', ...lines] = r.stdout.trimEnd().split('\n');
  const col = header.trim().split(/\s+/).indexOf('PID');
  if (col < 0) throw new HakoError('invalid-argument', "Couldn't find PID field in ps output");
  const rows = lines.filter((l) => pids.has(Number(l.trim().split(/\s+/)[col])));
  out([header, ...rows].map((l) => `${l}\n`).join(''));
  return 0;
}
