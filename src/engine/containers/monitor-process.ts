import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { HakoError } from '../../common/errors.ts';
import { EXECUTOR_PATH } from '../../runtime/paths.ts';
import type { ExecutorHandle } from '../../runtime/executor.ts';
import { parseDecimalSize } from './sizes.ts';
import { HAKO_BIN, MONITOR_PATH } from './native-paths.ts';
import type { Container } from './record.ts';
import { ownsNetwork } from './network.ts';

/**
 * A freshly spawned native monitor (native/MONITOR.md) with its control channel. It
 * starts the executor as its own child, so the container's init becomes the monitor's
 * child once the executor exits, and the monitor outlives this CLI.
 */
export class MonitorProcess {
  readonly proc: ChildProcess;
  private readonly ctl: Socket;
  readonly launched: Promise<number>;
  /** the container's exit code, if this process is still connected when it exits */
  readonly exited: Promise<number>;

  constructor(dataRoot: string, dir: string, c: Container) {
    const logFd = openSync(join(dir, 'monitor.log'), 'a', 0o600);
    try {
      this.proc = spawn(MONITOR_PATH, [...monitorArgs(dataRoot, c), '--', EXECUTOR_PATH], {
        stdio: ['ignore', 'ignore', logFd, 'pipe', 'pipe'],
        detached: true,
        cwd: dir,
      });
    } finally {
      closeSync(logFd);
    }
    this.ctl = this.proc.stdio[4] as Socket;
    let onLaunched!: (pid: number) => void;
    let onExit!: (code: number) => void;
    let fail!: (err: Error) => void;
    this.launched = new Promise((res, rej) => {
      onLaunched = res;
      fail = rej;
    });
    this.exited = new Promise((res) => (onExit = res));
    this.launched.catch(() => {});
    const why = () => {
      try {
        return readFileSync(join(dir, 'monitor.log'), 'utf8').trim().split('\n').at(-1) ?? '';
      } catch {
        return '';
      }
    };
    this.proc.on('error', (err) => fail(new HakoError('system', `cannot start the container monitor ${MONITOR_PATH}: ${err.message} (run ./setup to build it)`)));
    this.proc.on('exit', (code) => fail(new HakoError('system', `the container monitor exited (status ${code}) before launching: ${why()}`)));
    let rest = '';
    this.ctl.on('data', (chunk: Buffer) => {
      rest += chunk.toString();
      let nl;
      while ((nl = rest.indexOf('\n')) >= 0) {
        const [word, arg = ''] = rest.slice(0, nl).split(' ', 2);
        rest = rest.slice(nl + 1);
        if (word === 'launched') onLaunched(Number(arg));
        else if (word === 'exit') onExit(Number(arg));
      }
    });
    this.ctl.on('error', () => {});
  }

  /** The executor as the runtime's Launch sees it: started by the monitor, plan socket = monitor's fd 3. */
  executor(): ExecutorHandle {
    return {
      sock: this.proc.stdio[3] as Socket,
      pid: this.launched,
      onError: (cb) => this.launched.catch(cb),
      unref: () => {},
    };
  }

  send(line: string): void {
    if (!this.ctl.destroyed) this.ctl.write(`${line.replace(/\n/g, ' ')}\n`);
  }

  /** Lets this CLI exit: the monitor carries on alone. */
  release(): void {
    (this.proc.stdio[3] as Socket | null)?.destroy();
    this.ctl.end();
    this.ctl.unref();
    this.proc.unref();
  }
}

function monitorArgs(dataRoot: string, c: Container): string[] {
  const { Config: cfg, HostConfig: host } = c.settings;
  const a = ['--dir', '.', '--announce'];
  if (host.LogConfig?.Type !== 'none') {
    a.push('--log', `${c.id}-json.log`);
    const size = host.LogConfig?.Config?.['max-size'];
    const files = host.LogConfig?.Config?.['max-file'];
    if (size) a.push('--log-max-size', String(parseDecimalSize(size)));
    if (files) a.push('--log-max-file', files);
  }
  if (cfg.Tty) a.push('--tty');
  if (cfg.OpenStdin) a.push('--stdin');
  if (cfg.StdinOnce) a.push('--stdin-once');
  const policy = host.RestartPolicy?.Name || 'no';
  a.push('--restart', policy === 'on-failure' && host.RestartPolicy.MaximumRetryCount ? `on-failure:${host.RestartPolicy.MaximumRetryCount}` : policy);
  const hako = [HAKO_BIN, '--data-root', dataRoot];
  // always: `update --restart` can give a running container a policy later (the `restart` file)
  for (const arg of [...hako, '__relaunch', c.id]) a.push('--relaunch', arg);
  // At the final exit: --rm removes the container; its networks are let go either way.
  if (host.AutoRemove) for (const arg of [...hako, 'rm', '--force', '--volumes', c.id]) a.push('--cleanup', arg);
  else if (ownsNetwork(host.NetworkMode)) for (const arg of [...hako, '__netdown', c.id]) a.push('--cleanup', arg);
  const hc = cfg.Healthcheck;
  if (hc?.Test?.length && hc.Test[0] !== 'NONE') {
    const interval = Math.max(1, Math.round((hc.Interval || 30e9) / 1e9));
    a.push('--tick', String(interval));
    for (const arg of [...hako, '__healthcheck', c.id]) a.push('--tick-cmd', arg);
  }
  return a;
}
