import { parseVerb } from '../args.ts';
import { HakoError } from '../../common/errors.ts';
import { resumeContainer } from '../../runtime/container-resume.ts';
import { eachContainer, type ContainerGlobals } from './index.ts';

/** `unpause CONTAINER...` */
export default async function unpause(args: string[], g: ContainerGlobals): Promise<number> {
  const { positionals } = parseVerb('unpause', args, {}, { min: 1, max: Infinity, usage: 'hako unpause CONTAINER [CONTAINER...]' });
  return eachContainer(g, positionals, async (ref) => {
    const c = g.eng.resolve(ref);
    if (!g.eng.state(c).Paused) throw new HakoError('invalid-state', `container ${c.id} is not paused`);
    resumeContainer(g.eng.runtime, c.id);
    return ref;
  });
}
