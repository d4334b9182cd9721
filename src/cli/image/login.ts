import { readFileSync } from 'node:fs';
import { parseVerb } from '../args.ts';
import { HakoError } from '../../common/errors.ts';
import { RegistryClient } from '../../registry/client.ts';
import { storeCredentials } from '../../registry/credentials.ts';
import { err, out } from '../output.ts';
import type { ImageGlobals } from './index.ts';

/** `hako login [-u USER] [-p PASS | --password-stdin] [SERVER]`: checked against the registry, then stored as Docker does. */
export default async function login(args: string[], _g: ImageGlobals): Promise<number> {
  const { values: o, positionals } = parseVerb(
    'login',
    args,
    { username: { type: 'string', short: 'u' }, password: { type: 'string', short: 'p' }, 'password-stdin': { type: 'boolean' } },
    { min: 0, max: 1, usage: 'hako login [OPTIONS] [SERVER]' },
  );
  const server = registryHost(positionals[0] ?? 'docker.io');
  if (o.password !== undefined && o['password-stdin']) throw new HakoError('invalid-argument', '--password and --password-stdin are mutually exclusive');
  if (o.username === undefined) throw new HakoError('invalid-argument', 'login: give a username with -u (interactive prompts are not supported)');
  let password = o.password;
  if (o['password-stdin']) password = readFileSync(0, 'utf8').replace(/\r?\n$/, '');
  if (password === undefined) throw new HakoError('invalid-argument', 'login: give a password with --password-stdin (or -p)');
  if (o.password !== undefined) err('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
  const auth = { username: o.username, password };
  await new RegistryClient(server, { credentials: auth }).ping();
  const where = await storeCredentials(server, auth);
  if (where.kind === 'file') err(`WARNING! Your password will be stored unencrypted in ${where.path}.\n`);
  out('Login Succeeded\n');
  return 0;
}

/** SERVER as `docker login` takes it: a host[:port], maybe as a URL. */
export function registryHost(server: string): string {
  let s = server.trim();
  s = s.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
  if (!s) throw new HakoError('invalid-argument', `invalid registry server: ${JSON.stringify(server)}`);
  if (s === 'index.docker.io' || s === 'registry-1.docker.io') return 'docker.io';
  return s;
}
