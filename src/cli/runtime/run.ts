import { parseVerb } from '../args.ts';
import { runContainer } from '../../runtime/container-run.ts';
import { checkPreserveFds, CREATE_OPTIONS } from './create.ts';
import type { RuntimeGlobals } from './index.ts';

export default async function run(args: string[], g: RuntimeGlobals): Promise<number> {
  const { values, positionals } = parseVerb(
    'run',
    args,
    { ...CREATE_OPTIONS, detach: { type: 'boolean', short: 'd' }, keep: { type: 'boolean' } },
    { min: 1, max: 1, usage: 'run [options] CONTAINER_ID' },
  );
  checkPreserveFds(values['preserve-fds']);
  return runContainer(
    g.store,
    {
      id: positionals[0]!,
      bundle: values.bundle,
      pidFile: values['pid-file'],
      consoleSocket: values['console-socket'],
      noPivot: !!values['no-pivot'],
      warn: g.warn,
      detach: !!values.detach,
      keep: !!values.keep,
    },
    g.log,
  );
}
