import { parseVerb } from '../args.ts';
import { HakoError } from '../../common/errors.ts';
import { stopContainer } from '../../engine/containers/lifecycle.ts';
import { eachContainer, type ContainerGlobals } from './index.ts';

/** `stop [-t N] [-s SIG] CONTAINER...`: prints each name as given, as Docker. */
export default async function stop(args: string[], g: ContainerGlobals): Promise<number> {
  const { values: o, positionals } = parseVerb(
    'stop',
    args,
    { time: { type: 'string', short: 't' }, timeout: { type: 'string' }, signal: { type: 'string', short: 's' } },
    { min: 1, max: Infinity, usage: 'hako stop [OPTIONS] CONTAINER [CONTAINER...]' },
  );
  const t = o.time ?? o.timeout;
  const timeout = t === undefined ? undefined : parseTimeout(t);
  return eachContainer(g, positionals, async (ref) => {
    await stopContainer(g.eng, g.eng.resolve(ref), { timeout, signal: o.signal });
    return ref;
  });
}

export function parseTimeout(t: string): number {
  if (!/^-?\d+$/.test(t)) throw new HakoError('invalid-argument', `invalid argument "${t}" for "-t, --time" flag: strconv.ParseInt: parsing "${t}": invalid syntax`);
  return Number(t);
}
