import { parseVerb } from '../args.ts';
import { eraseCredentials } from '../../registry/credentials.ts';
import { out } from '../output.ts';
import type { ImageGlobals } from './index.ts';
import { registryHost } from './login.ts';

/** `hako logout [SERVER]` */
export default async function logout(args: string[], _g: ImageGlobals): Promise<number> {
  const { positionals } = parseVerb('logout', args, {}, { min: 0, max: 1, usage: 'hako logout [SERVER]' });
  const server = registryHost(positionals[0] ?? 'docker.io');
  if (await eraseCredentials(server)) out(`Removing login credentials for ${server}\n`);
  else out(`Not logged in to ${server}\n`);
  return 0;
}
