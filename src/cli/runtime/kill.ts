import { parseVerb } from '../args.ts';
import { killContainer } from '../../runtime/container-kill.ts';
import { parseSignal } from '../../runtime/signals.ts';
import type { RuntimeGlobals } from './index.ts';

export default async function kill(args: string[], g: RuntimeGlobals): Promise<number> {
  const { values, positionals } = parseVerb('kill', args, { all: { type: 'boolean', short: 'a' } }, {
    min: 1,
    max: 2,
    usage: 'kill [--all] CONTAINER_ID [SIGNAL]',
  });
  killContainer(g.store, positionals[0]!, parseSignal(positionals[1] ?? 'SIGTERM'), !!values.all);
  return 0;
}
