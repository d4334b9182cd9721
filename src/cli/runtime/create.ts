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

type CreateValues = ReturnType<typeof parseVerb<typeof CREATE_OPTIONS>>['values'];

/** The options `create` and `run` share, from their parsed flags. */
export function createOptionsFrom(values: CreateValues, id: string, g: RuntimeGlobals) {
  checkPreserveFds(values['preserve-fds']);
  return {
    id,
    bundle: values.bundle,
    pidFile: values['pid-file'],
    consoleSocket: values['console-socket'],
    noPivot: !!values['no-pivot'],
    warn: g.warn,
  };
}

export default async function create(args: string[], g: RuntimeGlobals): Promise<number> {
  const { values, positionals } = parseVerb('create', args, CREATE_OPTIONS, { min: 1, max: 1, usage: 'create [options] CONTAINER_ID' });
  const { launch } = await createContainer(g.store, { ...createOptionsFrom(values, positionals[0]!, g), mode: 'create' });
  launch.detach();
  return 0;
}
