import { parseVerb } from '../args.ts';
import { createContainer } from '../../runtime/container-create.ts';
import { HakoError } from '../../common/errors.ts';
import type { RuntimeGlobals } from './index.ts';

export const CREATE_OPTIONS = {
  bundle: { type: 'string', short: 'b', default: '.' },
  'console-socket': { type: 'string' },
  'pid-file': { type: 'string' },
  'no-pivot': { type: 'boolean' },
  'no-new-keyring': { type: 'boolean' },
  'preserve-fds': { type: 'string' },
} as const;

export function checkPreserveFds(value: string | undefined): void {
  if (value !== undefined && value !== '0') throw new HakoError('unsupported', '--preserve-fds is not supported yet');
}

export default async function create(args: string[], g: RuntimeGlobals): Promise<number> {
  const { values, positionals } = parseVerb('create', args, CREATE_OPTIONS, { min: 1, max: 1, usage: 'create [options] CONTAINER_ID' });
  checkPreserveFds(values['preserve-fds']);
  const { launch } = await createContainer(g.store, {
    id: positionals[0]!,
    bundle: values.bundle,
    pidFile: values['pid-file'],
    consoleSocket: values['console-socket'],
    noPivot: !!values['no-pivot'],
    warn: g.warn,
    mode: 'create',
  });
  launch.detach();
  return 0;
}
