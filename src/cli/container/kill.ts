import { parseVerb } from '../args.ts';
import { killContainer } from '../../engine/containers/lifecycle.ts';
import { eachContainer, type ContainerGlobals } from './index.ts';

/** `kill [-s SIG] CONTAINER...` */
export default async function kill(args: string[], g: ContainerGlobals): Promise<number> {
  const { values: o, positionals } = parseVerb('kill', args, { signal: { type: 'string', short: 's' } }, { min: 1, max: Infinity, usage: 'hako kill [OPTIONS] CONTAINER [CONTAINER...]' });
  return eachContainer(g, positionals, async (ref) => {
    killContainer(g.eng, g.eng.resolve(ref), o.signal ?? 'KILL');
    return ref;
  });
}
