import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { HakoError } from '../common/errors.ts';
import { EXECUTOR_PATH } from './paths.ts';
import { encodeFrame, encodeFrames, FrameReader, type Frame } from './wire.ts';

export type ExitStatus = { code: number; signal?: undefined } | { code?: undefined; signal: number };

export interface LaunchHooks {
  /** the executor process exists but has not read its plan yet */
  beforePlan(executorPid: number): void;
  /** the container's host pid, before it runs any step */
  onPid(pid: number): void;
  /** a `sync NAME` step: resolve with the named values to send with `continue` */
  onSync(name: string): Promise<Record<string, string> | void>;
}

/**
 * A started executor: its plan socket (its fd 3) and its pid. By default the executor is
 * this process's child; the engine has the container's monitor start it instead, so
 * that the container ends up the monitor's child (native/MONITOR.md).
 */
export interface ExecutorHandle {
  sock: Socket;
  pid: Promise<number>;
  /** called when the executor cannot be started */
  onError(cb: (err: Error) => void): void;
  /** lets this process exit without waiting for the executor */
  unref(): void;
}

export function spawnExecutor(): ExecutorHandle {
  const child: ChildProcess = spawn(EXECUTOR_PATH, [], { stdio: ['inherit', 'inherit', 'inherit', 'pipe'] });
  return {
    sock: child.stdio[3] as Socket,
    pid: child.pid === undefined ? new Promise(() => {}) : Promise.resolve(child.pid),
    onError: (cb) => child.on('error', cb),
    unref: () => child.unref(),
  };
}

/**
 * One run of native/hako-exec (native/PROTOCOL.md): sends the plan, answers the
 * handshake, and turns the executor's reports into promises.
 */
export class Launch {
  readonly ready: Promise<void>;
  readonly exited: Promise<ExitStatus>;
  private readonly child: ExecutorHandle;
  private readonly sock: Socket;

  constructor(plan: Frame[], hooks: LaunchHooks, executor: ExecutorHandle = spawnExecutor()) {
    this.child = executor;
    this.sock = this.child.sock;
    let onReady!: () => void;
    let onExit!: (s: ExitStatus) => void;
    let fail!: (err: Error) => void;
    let settled = false;
    this.ready = new Promise((res, rej) => {
      onReady = () => ((settled = true), res());
      fail = (err) => {
        if (!settled) rej(err);
        settled = true;
        exitRej(err);
      };
    });
    let exitRej!: (err: Error) => void;
    this.exited = new Promise((res, rej) => {
      onExit = res;
      exitRej = rej;
    });
    this.exited.catch(() => {}); // only `run` waits for it
    this.child.onError((err) =>
      fail(new HakoError('system', `cannot start the native executor ${EXECUTOR_PATH}: ${err.message} (run ./setup to build it)`)),
    );

    const reader = new FrameReader();
    let lastError: HakoError | undefined;
    this.sock.on('data', (chunk: Buffer) => {
      for (const f of reader.push(chunk)) {
        const [name, a = '', b = '', c = ''] = f;
        if (name === 'pid') hooks.onPid(Number(a));
        else if (name === 'sync') {
          hooks.onSync(a).then(
            (values) => this.send(['continue', ...Object.entries(values ?? {}).map(([k, v]) => `${k}=${v}`)]),
            (err: Error) => {
              this.send(['abort', err.message]);
              fail(err);
            },
          );
        } else if (name === 'ready') onReady();
        else if (name === 'error') {
          lastError = new HakoError('launch-failed', explain(a, Number(b), c || `${a}: errno ${b}`), { errno: Number(b) });
          fail(lastError);
        } else if (name === 'exited') onExit(a === 'signal' ? { signal: Number(b) } : { code: Number(b) });
      }
    });
    this.sock.on('error', () => {});
    this.sock.on('close', () => {
      fail(lastError ?? new HakoError('launch-failed', 'container init exited before it was ready'));
      exitRej(lastError ?? new HakoError('launch-failed', 'lost the native executor before the container exited'));
    });
    this.child.pid.then(
      (pid) => {
        try {
          hooks.beforePlan(pid);
        } catch (err) {
          this.sock.destroy();
          fail(err as Error);
          return;
        }
        this.sock.write(encodeFrames(plan));
      },
      (err: Error) => fail(err),
    );
  }

  private send(frame: Frame): void {
    if (!this.sock.destroyed) this.sock.write(encodeFrame(frame));
  }

  /** Lets the CLI exit while the container lives on (create mode). */
  detach(): void {
    this.sock.destroy();
    this.child.unref();
  }
}

const EPERM = 1;

/** Adds the reason a person needs where the errno alone would mislead. */
function explain(step: string, errno: number, message: string): string {
  if (step === 'rlimit' && errno === EPERM) {
    return `${message} (raising a hard limit above the current one needs CAP_SYS_RESOURCE, which this process lacks)`;
  }
  return message;
}
