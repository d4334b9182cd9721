import { parseVerb } from '../args.ts';
import { runContainer } from '../../runtime/container-run.ts';
import { CREATE_OPTIONS, createOptionsFrom } from './create.ts';
import type { RuntimeGlobals } from './index.ts';

export default async function run(args: string[], g: RuntimeGlobals): Promise<number> {
  const { values, positionals } = parseVerb(
    'run',
    args,
    { ...CREATE_OPTIONS, detach: { type: 'boolean', short: 'd' }, keep: { type: 'boolean' } },
    { min: 1, max: 1, usage: 'run [options] CONTAINER_ID' },
  );
  const opts = { ...createOptionsFrom(values, positionals[0]!, g), detach: !!values.detach, keep: !!values.keep };
  return runContainer(g.store, opts, g.log);
}
