import { parseVerb } from '../args.ts';
import { resumeContainer } from '../../runtime/container-resume.ts';
import type { RuntimeGlobals } from './index.ts';

export default async function resume(args: string[], g: RuntimeGlobals): Promise<number> {
  const { positionals } = parseVerb('resume', args, {}, { min: 1, max: 1, usage: 'resume CONTAINER_ID' });
  resumeContainer(g.store, positionals[0]!);
  return 0;
}
