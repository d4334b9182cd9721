import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { HakoError } from '../../common/errors.ts';
import { execInContainer } from '../../runtime/container-exec.ts';
import { startFailureStatus } from '../../engine/containers/start.ts';
import { HAKO_HOME } from '../../runtime/paths.ts';
import { parseFlags, checkArgCount } from '../docker-flags.ts';
import { err } from '../output.ts';
import { errorText } from '../image/index.ts';
import type { ContainerGlobals } from './index.ts';
import { execProcess } from './exec-process.ts';

const FLAGS = [
  { name: 'detach', short: 'd', type: 'bool' },
  { name: 'interactive', short: 'i', type: 'bool' },
  { name: 'tty', short: 't', type: 'bool' },
  { name: 'env', short: 'e', type: 'list' },
  { name: 'env-file', type: 'list' },
  { name: 'user', short: 'u', type: 'string' },
  { name: 'workdir', short: 'w', type: 'string' },
  { name: 'privileged', type: 'bool' },
  { name: 'detach-keys', type: 'string' },
] as const;

const TTY_PROXY = join(HAKO_HOME, 'native', 'build', 'hako-tty');

/** `exec [-d] [-i] [-t] [-e K=V] [-u USER] [-w DIR] CONTAINER CMD...` */
export default async function exec(args: string[], g: ContainerGlobals): Promise<number> {
  const { values: o, args: rest } = parseFlags(args, FLAGS, { interspersed: false });
  checkArgCount(rest, 'exec', 'hako exec [OPTIONS] CONTAINER COMMAND [ARG...]', { min: 2 });
  const [ref, ...cmd] = rest;
  const c = g.eng.resolve(ref!);
  const st = g.eng.state(c);
  if (st.Paused) throw new HakoError('invalid-state', `container ${c.id} is paused, unpause the container before exec`);
  if (!st.Running) throw new HakoError('invalid-state', `container ${c.id} is not running`);
  const proc = execProcess(g.eng, c, { cmd, env: o.env ?? [], user: o.user ?? '', workdir: o.workdir ?? '', tty: !!o.tty, privileged: !!o.privileged });
  if (!o.interactive && !o.tty) detachStdin();
  let consoleSocket: string | undefined;
  let proxy: ReturnType<typeof spawn> | undefined;
  if (o.tty && !o.detach) {
    // Node cannot receive a pty master (SCM_RIGHTS): a tiny native proxy holds it.
    // A short path: a socket address holds 108 bytes, container directories can be longer.
    mkdirSync('/run/hako', { recursive: true, mode: 0o711 });
    consoleSocket = join('/run/hako', `tty-${process.pid}-${randomBytes(4).toString('hex')}.sock`);
    proxy = spawn(TTY_PROXY, [consoleSocket], { stdio: 'inherit' });
    await waitForSocket(consoleSocket);
  } else if (o.tty) proc.terminal = false;
  try {
    const code = await execInContainer(g.eng.runtime, { id: c.id, process: proc, consoleSocket, detach: !!o.detach, ignorePaused: false }, { warn: () => {}, error: () => {} });
    if (proxy) await new Promise((r) => (proxy!.exitCode !== null ? r(0) : proxy!.once('exit', r)));
    return code;
  } catch (e) {
    proxy?.kill();
    const status = startFailureStatus(e);
    if (status === 125) throw e;
    err(`hako: ${errorText(e)}\n`);
    return status;
  } finally {
    if (consoleSocket) rmSync(consoleSocket, { force: true });
  }
}

/**
 * Docker: without -i the process's stdin is not attached: it reads EOF at once and never
 * consumes the caller's input (`while read l; do hako exec c …; done <file`). The executor,
 * and so the process, inherits this CLI's fd 0: make that /dev/null (the lowest free fd
 * is the one just closed; nothing in this process reads its stdin).
 */
function detachStdin(): void {
  try {
    closeSync(0);
  } catch {
    // already closed
  }
  const fd = openSync('/dev/null', 'r');
  if (fd !== 0) closeSync(fd); // fd 0 was taken meanwhile: leave it
}

async function waitForSocket(path: string): Promise<void> {
  const { existsSync } = await import('node:fs');
  for (let i = 0; i < 500 && !existsSync(path); i++) await new Promise((r) => setTimeout(r, 5));
}
