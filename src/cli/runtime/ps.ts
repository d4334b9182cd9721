import { spawnSync } from 'node:child_process';
import { HakoError } from '../../common/errors.ts';
import { parseVerb } from '../args.ts';
import { containerPids } from '../../runtime/container-ps.ts';
import { out } from '../output.ts';
import type { RuntimeGlobals } from './index.ts';

const USAGE = 'ps [--format table|json] CONTAINER_ID [PS_OPTIONS...]  (PS_OPTIONS default: -ef)';

/**
 * `ps`: as runc, runs the host's ps and keeps the header and the container's rows
 * (everything after the id goes to ps), or prints the pids as JSON.
 */
export default async function ps(args: string[], g: RuntimeGlobals): Promise<number> {
  const at = idIndex(args);
  const { values, positionals } = parseVerb('ps', args.slice(0, at + 1), { format: { type: 'string', short: 'f', default: 'table' } }, { min: 1, max: 1, usage: USAGE });
  const psArgs = args.slice(at + 1);
  if (psArgs[0] === '--') psArgs.shift();
  const pids = containerPids(g.store, positionals[0]!);
  if (values.format === 'json') {
    if (psArgs.length) throw new HakoError('invalid-argument', 'ps: options for ps cannot be used with --format json');
    out(JSON.stringify(pids) + '\n');
    return 0;
  }
  if (values.format !== 'table') throw new HakoError('invalid-argument', `ps: invalid format "${values.format}": use table or json`);
  out(filterPs(runPs(psArgs.length ? psArgs : ['-ef']), new Set(pids)));
  return 0;
}

/** Where the container id is: after our own options, before the ones meant for ps. */
function idIndex(args: string[]): number {
  let i = 0;
  while (i < args.length && args[i]!.startsWith('-')) i += /^--?(format|f)$/.test(args[i]!) ? 2 : 1;
  return i;
}

function runPs(args: string[]): string {
  const r = spawnSync('ps', args, { encoding: 'utf8' });
  if (r.error) throw new HakoError('system', `ps: run ps: ${r.error.message}`);
  if (r.status !== 0) throw new HakoError('system', `ps ${args.join(' ')}: ${r.stderr.trim() || `exit status ${r.status}`}`);
  return r.stdout;
}

/** Keeps the header and the rows whose PID column is one of pids. */
export function filterPs(text: string, pids: Set<number>): string {
  const [header = '', ...rows] = text.split('\n');
  const col = header.trim().split(/\s+/).indexOf('PID');
  if (col < 0) throw new HakoError('invalid-argument', 'ps: the output of ps has no PID column');
  const kept = rows.filter((row) => pids.has(Number(row.trim().split(/\s+/)[col])));
  return [header, ...kept].join('\n') + '\n';
}
