import { parseVerb } from '../args.ts';
import { pauseContainer } from '../../runtime/container-pause.ts';
import type { RuntimeGlobals } from './index.ts';

export default async function pause(args: string[], g: RuntimeGlobals): Promise<number> {
  const { positionals } = parseVerb('pause', args, {}, { min: 1, max: 1, usage: 'pause CONTAINER_ID' });
  pauseContainer(g.store, positionals[0]!);
  return 0;
}
