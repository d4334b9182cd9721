import { parseVerb } from '../args.ts';
import { removeContainer } from '../../engine/containers/lifecycle.ts';
import { eachContainer, type ContainerGlobals } from './index.ts';

/** `rm [-f] [-v] CONTAINER...` */
export default async function rm(args: string[], g: ContainerGlobals): Promise<number> {
  const { values: o, positionals } = parseVerb(
    'rm',
    args,
    { force: { type: 'boolean', short: 'f' }, volumes: { type: 'boolean', short: 'v' }, link: { type: 'boolean', short: 'l' } },
    { min: 1, max: Infinity, usage: 'hako rm [OPTIONS] CONTAINER [CONTAINER...]' },
  );
  return eachContainer(g, positionals, async (ref) => {
    let c;
    try {
      c = g.eng.resolve(ref);
    } catch (e) {
      if (o.force) return undefined; // Docker: rm -f of a missing container is not an error
      throw e;
    }
    await removeContainer(g.eng, c, { force: !!o.force, volumes: !!o.volumes });
    return ref;
  });
}
