import { parseVerb } from '../args.ts';
import { validateName } from '../../engine/containers/names.ts';
import type { ContainerGlobals } from './index.ts';

/** `rename CONTAINER NEW_NAME` */
export default async function rename(args: string[], g: ContainerGlobals): Promise<number> {
  const { positionals } = parseVerb('rename', args, {}, { min: 2, max: 2, usage: 'hako rename CONTAINER NEW_NAME' });
  const c = g.eng.resolve(positionals[0]!);
  g.eng.meta.renameContainer(c.id, validateName(positionals[1]!));
  return 0;
}
