import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { HakoError } from '../common/errors.ts';

const run = promisify(execFile);

/**
 * Network namespaces pinned by name under /run/netns (iproute2's convention, so
 * `ip netns` sees them): a container's network outlives its processes, so CNI DEL can
 * still find the interfaces and addresses to tear down after the container exited,
 * and a restart keeps its address.
 */
export const NETNS_DIR = '/run/netns';

export const netnsPath = (name: string) => `${NETNS_DIR}/${name}`;

export async function createNetns(name: string): Promise<string> {
  checkName(name);
  const path = netnsPath(name);
  if (existsSync(path)) return path;
  try {
    await run('ip', ['netns', 'add', name]);
  } catch (err) {
    if (existsSync(path)) return path; // made by a concurrent start
    throw new HakoError('system', `create network namespace ${name}: ${(err as { stderr?: string }).stderr?.trim() || (err as Error).message}`);
  }
  return path;
}

export async function deleteNetns(name: string): Promise<void> {
  checkName(name);
  if (!existsSync(netnsPath(name))) return;
  try {
    await run('ip', ['netns', 'delete', name]);
  } catch (err) {
    if (!existsSync(netnsPath(name))) return;
    throw new HakoError('system', `delete network namespace ${name}: ${(err as { stderr?: string }).stderr?.trim() || (err as Error).message}`);
  }
}

function checkName(name: string): void {
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(name)) throw new HakoError('invalid-argument', `bad network namespace name ${JSON.stringify(name)}`);
}
