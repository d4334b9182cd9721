import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { HakoError } from '../common/errors.ts';

/** native/build/hako-mount (native/tools/hako-mount.c); this file is dist/src/storage/hako-mount.js. */
export const HAKO_MOUNT_PATH = process.env['HAKO_MOUNT'] ?? join(import.meta.dirname, '..', '..', '..', 'native', 'build', 'hako-mount');

function notStarted(err: Error): HakoError {
  return new HakoError('system', `cannot start ${HAKO_MOUNT_PATH}: ${err.message} (run ./setup to build it)`, { cause: err });
}

/** The helper itself could not be run (not built): never a property of the file system. */
export function isHelperMissing(err: unknown): boolean {
  const cause = err instanceof HakoError ? (err.cause as NodeJS.ErrnoException | undefined) : undefined;
  return typeof cause?.syscall === 'string' && cause.syscall.startsWith('spawn');
}

/**
 * One operation, e.g. `['umount', '/x']`; resolves with what it printed (getxattr's
 * value), rejects with the tool's own message (`umount /x: Invalid argument`).
 */
export function hakoMount(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(HAKO_MOUNT_PATH, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', (err) => reject(notStarted(err)));
    child.on('close', (code, signal) => {
      if (code === 0) return resolve(stdout.trim());
      const msg = stderr.trim() || `${args[0]} failed (${signal ?? `exit status ${code}`})`;
      reject(new HakoError('system', msg));
    });
  });
}

/** An overlay whiteout is a character device 0:0. */
export function whiteoutOp(path: string): string[] {
  return ['mknod', path, 'c', '0', '0', '0', '0', '0'];
}

export function setxattrOp(path: string, name: string, value: Buffer): string[] {
  return ['setxattr', path, name, `0x${value.toString('hex')}`];
}

/** An extended attribute's value (lgetxattr), or undefined when the file has none by that name. */
export async function getxattr(path: string, name: string): Promise<Buffer | undefined> {
  try {
    return Buffer.from((await hakoMount(['getxattr', path, name])).slice(2), 'hex');
  } catch (err) {
    if (err instanceof HakoError && /No data available$/.test(err.message)) return undefined;
    throw err;
  }
}

/**
 * `hako-mount batch`, spawned on first use: many operations, one process. Each call
 * waits for its answer, so operations happen in the order the caller issues them,
 * interleaved correctly with the caller's own file system calls.
 */
export class NativeBatch {
  private child: ChildProcessByStdio<Writable, Readable, Readable> | undefined;
  private pending: { resolve: (out: string) => void; reject: (e: Error) => void }[] = [];
  private buf: Buffer = Buffer.alloc(0);
  private stderr = '';
  private dead: Error | undefined;

  /** Resolves with the operation's output (getxattr's value), or '' */
  run(fields: string[]): Promise<string> {
    if (this.dead) return Promise.reject(this.dead);
    const child = this.child ?? this.start();
    const body = Buffer.concat(fields.map((f) => {
      if (f.includes('\0')) throw new HakoError('invalid-argument', `${fields[0]}: a field contains NUL`);
      return Buffer.from(`${f}\0`);
    }));
    const head = Buffer.alloc(4);
    head.writeUInt32LE(body.length);
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      child.stdin.write(Buffer.concat([head, body]));
    });
  }

  /** Ends the helper; rejects if it did not exit cleanly. */
  async close(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        child.once('close', () => resolve());
        child.stdin.end();
      });
    }
    if (child.exitCode !== 0 && !this.dead) throw new HakoError('system', `hako-mount batch: ${this.stderr.trim() || `exit status ${child.exitCode}`}`);
  }

  private start(): ChildProcessByStdio<Writable, Readable, Readable> {
    const child = spawn(HAKO_MOUNT_PATH, ['batch'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    child.stdin.on('error', () => {}); // a dead helper is reported through 'close'
    child.stderr.setEncoding('utf8').on('data', (s: string) => (this.stderr += s));
    child.stdout.on('data', (chunk: Buffer) => this.onData(chunk));
    child.on('error', (err) => this.die(notStarted(err)));
    child.on('close', (code) => {
      if (this.pending.length) this.die(new HakoError('system', `hako-mount batch ended early: ${this.stderr.trim() || `exit status ${code}`}`));
    });
    return child;
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length >= 4) {
      const len = this.buf.readUInt32LE(0);
      if (this.buf.length < 4 + len) break;
      const fields = this.buf.subarray(4, 4 + len).toString('utf8').replace(/\0$/, '').split('\0');
      this.buf = this.buf.subarray(4 + len);
      const p = this.pending.shift();
      if (!p) continue;
      if (fields[0] === 'ok') p.resolve(fields[1] ?? '');
      else p.reject(new HakoError('system', fields[2] ?? 'hako-mount batch: malformed answer', { errno: Number(fields[1]) }));
    }
  }

  private die(err: Error): void {
    this.dead = err;
    for (const p of this.pending.splice(0)) p.reject(err);
  }
}
