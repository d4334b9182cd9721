import { join } from 'node:path';
import { atomicWriteFile } from '../../common/fs.ts';
import { rmSync } from 'node:fs';
import { HakoError } from '../../common/errors.ts';
import { createContainer as runtimeCreate } from '../../runtime/container-create.ts';
import { destroyContainer } from '../../runtime/container-delete.ts';
import { releaseInit } from '../../runtime/container-start.ts';
import { AttachClient, type AttachHandlers } from './attach.ts';
import { prepareBundle } from './bundle.ts';
import type { ContainerEngine } from './engine.ts';
import { MonitorProcess } from './monitor-process.ts';
import type { Container } from './record.ts';
import { attachNetworks, detachNetworks, withStartLock } from './network.ts';

export interface StartOptions {
  /** attach before the container runs (foreground run, start -a): no output is missed */
  attach?: AttachHandlers | undefined;
  /** the caller removes the container itself (foreground run --rm): the monitor must not */
  removesItself?: boolean;
  warn?: (msg: string) => void;
  /** once attached, before the container runs: e.g. the terminal's size */
  onAttached?: (client: AttachClient) => void;
}

export interface Started {
  monitor: MonitorProcess;
  client?: AttachClient;
}

/**
 * `start`: the bundle, then the monitor, which starts the executor; the runtime's create
 * runs here in-process against that executor (no second Node process on the way); the
 * init's pid goes to the monitor, and the init is released from its exec fifo.
 */
export async function startContainer(eng: ContainerEngine, c: Container, opts: StartOptions = {}): Promise<Started | undefined> {
  return withStartLock(eng, c.id, () => startLocked(eng, c, opts));
}

async function startLocked(eng: ContainerEngine, c: Container, opts: StartOptions): Promise<Started | undefined> {
  const st = eng.state(c);
  if (st.Status === 'running' || st.Status === 'restarting') return undefined; // Docker: a no-op
  if (st.Status === 'paused') throw new HakoError('invalid-state', `cannot start a paused container, try unpause instead`);
  const files = eng.files(c.id);
  rmSync(files.stopped, { force: true });
  await clearRuntimeState(eng, c.id);
  await attachNetworks(eng, c);
  try {
    await prepareBundle(eng, c);
  } catch (err) {
    await detachNetworks(eng, c).catch(() => {});
    throw err;
  }
  const monitor = new MonitorProcess(eng.paths.root, files.dir, c);
  let client: AttachClient | undefined;
  try {
    const { rec, launch } = await runtimeCreate(eng.runtime, {
      id: c.id,
      bundle: files.dir,
      mode: 'create',
      consoleSocket: c.settings.Config.Tty ? 'console.sock' : undefined,
      executor: () => monitor.executor(),
      warn: opts.warn,
    });
    launch.detach();
    atomicWriteFile(join(eng.dir(c.id), 'cgroups'), rec.cgroup.dirs.map((d) => `${d}\n`).join(''));
    monitor.send(`pid ${rec.pid}`);
    if (opts.removesItself) monitor.send('nocleanup');
    if (opts.attach) {
      client = await AttachClient.open(files.dir, opts.attach);
      opts.onAttached?.(client);
    }
    releaseInit(eng.runtime, rec);
    monitor.send('started');
  } catch (err) {
    monitor.send(`fail ${(err as Error).message}`);
    client?.close();
    monitor.release();
    await clearRuntimeState(eng, c.id);
    await detachNetworks(eng, c).catch(() => {});
    throw err;
  }
  return { monitor, ...(client ? { client } : {}) };
}

/** A stopped container's runtime record (its cgroup, state directory) from its last run. */
export async function clearRuntimeState(eng: ContainerEngine, id: string): Promise<void> {
  if (!eng.runtime.exists(id)) return;
  const rec = eng.runtime.load(id);
  await destroyContainer(eng.runtime, rec, { runPoststop: true });
}

/** Docker's exit status for a container that could not start: 127 not found, 126 not executable, else 125. */
export function startFailureStatus(err: unknown): number {
  if (err instanceof HakoError && err.code === 'launch-failed') {
    if (err.errno === 2) return 127;
    if (err.errno === 13 || err.errno === 8 || err.errno === 21) return 126;
  }
  return 125;
}
