import { parseVerb } from '../args.ts';
import { startContainer } from '../../runtime/container-start.ts';
import type { RuntimeGlobals } from './index.ts';

export default async function start(args: string[], g: RuntimeGlobals): Promise<number> {
  const { positionals } = parseVerb('start', args, {}, { min: 1, max: 1, usage: 'start CONTAINER_ID' });
  await startContainer(g.store, positionals[0]!, g.log);
  return 0;
}
