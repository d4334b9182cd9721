import { HakoError } from '../../common/errors.ts';
import { parseVerb } from '../args.ts';
import { runcState } from '../../runtime/state-store.ts';
import { out, table } from '../output.ts';
import type { RuntimeGlobals } from './index.ts';

export default async function list(args: string[], g: RuntimeGlobals): Promise<number> {
  const { values } = parseVerb(
    'list',
    args,
    { format: { type: 'string', short: 'f', default: 'table' }, quiet: { type: 'boolean', short: 'q' } },
    { min: 0, max: 0, usage: 'list [--format table|json] [--quiet]' },
  );
  const states = g.store.ids().flatMap((id) => {
    try {
      const rec = g.store.load(id);
      return [runcState(rec, g.store.status(rec))];
    } catch {
      return []; // deleted while we listed
    }
  });
  if (values.quiet) out(states.map((s) => `${s['id']}\n`).join(''));
  else if (values.format === 'json') out(JSON.stringify(states) + '\n');
  else if (values.format === 'table') {
    const rows = states.map((s) => [String(s['id']), String(s['pid']), String(s['status']), String(s['bundle']), String(s['created']), String(s['owner'] || 'root')]);
    out(table([['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'], ...rows]));
  } else throw new HakoError('invalid-argument', `invalid format "${values.format}": use table or json`);
  return 0;
}
