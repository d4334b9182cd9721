import { spawnSync } from 'node:child_process';
import { writeSync } from 'node:fs';
import { HakoError, isErrno } from '../../common/errors.ts';
import { sleepSync } from '../../common/fs.ts';
import { AttachClient, type AttachHandlers } from '../../engine/containers/attach.ts';
import type { ContainerEngine } from '../../engine/containers/engine.ts';
import { removeContainer } from '../../engine/containers/lifecycle.ts';
import type { Container } from '../../engine/containers/record.ts';
import { startContainer } from '../../engine/containers/start.ts';

export interface RelayOptions {
  /** forward this terminal's stdin */
  stdin: boolean;
  /** start the container (run, start -a) rather than attach to a running one */
  start: boolean;
  /** run --rm in the foreground: remove the container once it has exited */
  remove?: boolean;
  /** forward SIGINT/SIGTERM to the container (no tty) */
  sigProxy?: boolean;
  /** which of the container's streams to show */
  streams?: { stdout: boolean; stderr: boolean };
  warn?: (msg: string) => void;
}

/** writeSync that waits out EAGAIN: the terminal may be non-blocking. */
function writeAll(fd: number, data: Buffer): void {
  let off = 0;
  while (off < data.length) {
    try {
      off += writeSync(fd, data, off);
    } catch (err) {
      if (!isErrno(err, 'EAGAIN')) throw err;
      sleepSync(1);
    }
  }
}

/**
 * The foreground of `run`, `start -a` and `attach`: the container's output to ours, our
 * stdin (raw, for a tty) to it, the terminal's size kept in step; returns its exit code.
 */
export async function relayAttached(eng: ContainerEngine, c: Container, opts: RelayOptions): Promise<number> {
  const tty = c.settings.Config.Tty;
  const streams = opts.streams ?? { stdout: true, stderr: true };
  const handlers: AttachHandlers = {
    onStdout: (d) => streams.stdout && writeAll(1, d),
    onStderr: (d) => streams.stderr && writeAll(2, d),
  };
  const size = (client: AttachClient): void => {
    if (tty && process.stdout.isTTY) client.resize(process.stdout.rows, process.stdout.columns);
  };
  let client: AttachClient;
  let release = (): void => {};
  if (opts.start) {
    const started = await startContainer(eng, c, { attach: handlers, removesItself: !!opts.remove, onAttached: size, ...(opts.warn ? { warn: opts.warn } : {}) });
    if (!started?.client) throw new HakoError('invalid-state', `container ${c.name} is already running`);
    client = started.client;
    release = () => started.monitor.release();
  } else {
    const st = eng.state(c);
    if (!st.Running) throw new HakoError('invalid-state', 'You cannot attach to a stopped container, start it first');
    if (st.Paused) throw new HakoError('invalid-state', 'You cannot attach to a paused container, unpause it first');
    client = await AttachClient.open(eng.dir(c.id), handlers);
    size(client);
  }
  const stdin = process.stdin;
  let raw = false;
  const onResize = () => size(client);
  const onSigint = () => client.signal(2);
  const onSigterm = () => client.signal(15);
  if (opts.stdin) {
    if (tty && stdin.isTTY) {
      stdin.setRawMode(true);
      // libuv's raw mode keeps output processing (\n → \r\n) on; the container's tty
      // already did that, so turn it off as Docker's CLI does.
      spawnSync('stty', ['-opost'], { stdio: ['inherit', 'ignore', 'ignore'] });
      raw = true;
    }
    stdin.on('data', (d: Buffer) => client.stdin(d));
    stdin.on('end', () => client.closeStdin());
  }
  if (tty && process.stdout.isTTY) process.stdout.on('resize', onResize);
  if (!tty && opts.sigProxy !== false) {
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigterm);
  }
  try {
    const code = await client.exit;
    if (opts.remove) await removeContainer(eng, c, { force: true, volumes: true });
    return code;
  } finally {
    if (raw) stdin.setRawMode(false);
    stdin.pause();
    stdin.unref?.();
    process.stdout.off('resize', onResize);
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
    client.close();
    release();
  }
}
