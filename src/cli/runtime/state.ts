import { parseVerb } from '../args.ts';
import { runcState } from '../../runtime/state-store.ts';
import { out } from '../output.ts';
import type { RuntimeGlobals } from './index.ts';

export default async function state(args: string[], g: RuntimeGlobals): Promise<number> {
  const { positionals } = parseVerb('state', args, {}, { min: 1, max: 1, usage: 'state CONTAINER_ID' });
  const rec = g.store.load(positionals[0]!);
  out(JSON.stringify(runcState(rec, g.store.status(rec)), null, 2) + '\n');
  return 0;
}
