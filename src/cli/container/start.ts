import { parseVerb } from '../args.ts';
import { HakoError } from '../../common/errors.ts';
import { startContainer } from '../../engine/containers/start.ts';
import { err } from '../output.ts';
import { eachContainer, type ContainerGlobals } from './index.ts';
import { relayAttached } from './relay.ts';

/** `start [-a] [-i] CONTAINER...` */
export default async function start(args: string[], g: ContainerGlobals): Promise<number> {
  const { values: o, positionals } = parseVerb(
    'start',
    args,
    { attach: { type: 'boolean', short: 'a' }, interactive: { type: 'boolean', short: 'i' }, 'detach-keys': { type: 'string' } },
    { min: 1, max: Infinity, usage: 'hako start [OPTIONS] CONTAINER [CONTAINER...]' },
  );
  if (o.attach || o.interactive) {
    if (positionals.length > 1) throw new HakoError('invalid-argument', 'you cannot start and attach multiple containers at once');
    const c = g.eng.resolve(positionals[0]!);
    return relayAttached(g.eng, c, { stdin: !!o.interactive, start: true, warn: (m) => err(`WARNING: ${m}\n`) });
  }
  return eachContainer(g, positionals, async (ref) => {
    const started = await startContainer(g.eng, g.eng.resolve(ref), { warn: (m) => err(`WARNING: ${m}\n`) });
    started?.monitor.release();
    return ref;
  });
}
