import { parseVerb } from '../args.ts';
import { HakoError } from '../../common/errors.ts';
import { pauseContainer } from '../../runtime/container-pause.ts';
import { eachContainer, type ContainerGlobals } from './index.ts';

/** `pause CONTAINER...`: the cgroup freezer. */
export default async function pause(args: string[], g: ContainerGlobals): Promise<number> {
  const { positionals } = parseVerb('pause', args, {}, { min: 1, max: Infinity, usage: 'hako pause CONTAINER [CONTAINER...]' });
  return eachContainer(g, positionals, async (ref) => {
    const c = g.eng.resolve(ref);
    const st = g.eng.state(c);
    if (st.Paused) throw new HakoError('invalid-state', `container ${c.id} is already paused`);
    if (!st.Running) throw new HakoError('invalid-state', `container ${c.id} is not running`);
    pauseContainer(g.eng.runtime, c.id);
    return ref;
  });
}
