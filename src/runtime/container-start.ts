import { closeSync, constants, openSync, readSync, unlinkSync } from 'node:fs';
import { HakoError, isErrno } from '../common/errors.ts';
import { sleepSync } from '../common/fs.ts';
import type { LogSink } from '../common/log.ts';
import { runHooks } from './hooks.ts';
import { isAlive } from '../common/process-info.ts';
import { ociState, type ContainerRecord, type StateStore } from './state-store.ts';

/** `start`: releases the init waiting on its exec fifo, then runs the poststart hooks. */
export async function startContainer(store: StateStore, id: string, log: LogSink): Promise<ContainerRecord> {
  const rec = store.load(id);
  const status = store.status(rec);
  if (status !== 'created') {
    const why = status === 'stopped' ? 'a container that has stopped' : `an already ${status} container`;
    throw new HakoError('invalid-state', `cannot start ${why}`);
  }
  releaseInit(store, rec);
  await runPoststart(rec, log);
  return rec;
}

/**
 * Opening the fifo for reading lets the init's blocked open for writing return; it then
 * writes one byte. The read end is non-blocking so that a dead init is an error, not a
 * hang: EOF means "no writer", which is only fatal once the init is gone (it may not
 * have reached its open yet: `ready` is sent just before).
 */
export function releaseInit(store: StateStore, rec: ContainerRecord): void {
  const fifo = store.fifoPath(rec.id);
  let fd: number;
  try {
    fd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) throw new HakoError('invalid-state', `container "${rec.id}" was already started`);
    throw err;
  }
  try {
    const buf = Buffer.alloc(1);
    const deadline = Date.now() + 10_000;
    for (;;) {
      // Liveness first, then the read: an init that writes its byte and exits at once
      // (a container running `true`) must still count as started.
      const alive = isAlive(rec.pid, rec.pidStartTime);
      let n = 0;
      try {
        n = readSync(fd, buf, 0, 1, null);
      } catch (err) {
        if (!isErrno(err, 'EAGAIN')) throw err;
      }
      if (n === 1) break;
      if (!alive) {
        throw new HakoError('invalid-state', `cannot start container "${rec.id}": its init process has exited`);
      }
      if (Date.now() > deadline) throw new HakoError('invalid-state', `cannot start container "${rec.id}": init did not answer on its exec fifo`);
      sleepSync(1);
    }
  } finally {
    closeSync(fd);
  }
  unlinkSync(fifo);
}

/** A failing poststart hook is logged, not fatal (runtime spec: "log a warning"). */
export async function runPoststart(rec: ContainerRecord, log: LogSink): Promise<void> {
  try {
    await runHooks('poststart', rec.spec.hooks?.poststart, ociState(rec, 'running'));
  } catch (err) {
    log.warn((err as Error).message);
    process.stderr.write(`warning: ${(err as Error).message}\n`);
  }
}
