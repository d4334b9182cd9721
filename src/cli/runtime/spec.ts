import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { HakoError } from '../../common/errors.ts';
import { atomicWriteFile } from '../../common/fs.ts';
import { parseVerb } from '../args.ts';
import { defaultSpec } from '../../runtime/spec-default.ts';
import type { RuntimeGlobals } from './index.ts';

export default async function spec(args: string[], _g: RuntimeGlobals): Promise<number> {
  const { values } = parseVerb(
    'spec',
    args,
    { bundle: { type: 'string', short: 'b', default: '.' }, rootless: { type: 'boolean' } },
    { min: 0, max: 0, usage: 'spec [--bundle DIR] [--rootless]' },
  );
  const file = join(resolve(values.bundle), 'config.json');
  if (existsSync(file)) throw new HakoError('already-exists', `${file} exists: remove it first`);
  atomicWriteFile(file, JSON.stringify(defaultSpec(!!values.rootless), null, 2) + '\n', 0o644);
  return 0;
}
