import { parseVerb } from '../args.ts';
import { waitContainer } from '../../engine/containers/lifecycle.ts';
import { eachContainer, type ContainerGlobals } from './index.ts';

/** `wait CONTAINER...`: prints each exit code. */
export default async function wait(args: string[], g: ContainerGlobals): Promise<number> {
  const { positionals } = parseVerb('wait', args, {}, { min: 1, max: Infinity, usage: 'hako wait CONTAINER [CONTAINER...]' });
  return eachContainer(g, positionals, async (ref) => String(await waitContainer(g.eng, g.eng.resolve(ref))));
}
