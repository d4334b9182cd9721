import { rmSync, writeFileSync } from 'node:fs';
import { HakoError } from '../../common/errors.ts';
import { sleepSync } from '../../common/fs.ts';
import { cgroupPids } from '../../runtime/cgroups.ts';
import { resumeContainer } from '../../runtime/container-resume.ts';
import { parseSignal } from '../../runtime/signals.ts';
import { Volumes } from '../volumes.ts';
import { detachNetworks } from './network.ts';
import type { ContainerEngine } from './engine.ts';
import type { Container } from './record.ts';
import { clearRuntimeState } from './start.ts';
import { monitorAlive, readMonitorState, type DockerState } from './state.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function isUp(s: DockerState): boolean {
  return s.Running || s.Restarting || s.Paused;
}

/** Signals the container's init; with all, every process in its cgroup. */
function signalContainer(eng: ContainerEngine, c: Container, signal: number, all = false): void {
  if (!eng.runtime.exists(c.id)) return;
  const rec = eng.runtime.load(c.id);
  const pids = all ? [...new Set([rec.pid, ...cgroupPids(rec.cgroup)])] : [rec.pid];
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // gone already
    }
  }
}

/** The user stopped it: the monitor must not restart it (native/MONITOR.md). */
function markStopped(eng: ContainerEngine, c: Container): void {
  try {
    writeFileSync(eng.files(c.id).stopped, '');
  } catch {
    // the directory is gone: nothing left to restart
  }
}

/** Waits until the container is no longer up (and its exit recorded); false on timeout. */
export async function waitNotRunning(eng: ContainerEngine, c: Container, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!isUp(eng.state(c))) return true;
    if (Date.now() >= deadline) return false;
    await sleep(20);
  }
}

/** `stop`: the stop signal, then SIGKILL after the timeout (seconds; -1 = wait forever). */
export async function stopContainer(eng: ContainerEngine, c: Container, opts: { timeout?: number | undefined; signal?: string | undefined } = {}): Promise<void> {
  const st = eng.state(c);
  if (!isUp(st)) return;
  markStopped(eng, c);
  const signal = parseSignal(opts.signal ?? c.settings.Config.StopSignal ?? 'SIGTERM');
  const timeout = opts.timeout ?? c.settings.Config.StopTimeout ?? 10;
  signalContainer(eng, c, signal);
  if (st.Paused) resume(eng, c);
  if (await waitNotRunning(eng, c, timeout < 0 ? 2 ** 31 : timeout * 1000)) return;
  signalContainer(eng, c, 9, true);
  if (!(await waitNotRunning(eng, c, 10_000))) throw new HakoError('system', `container ${c.id.slice(0, 12)} did not stop after SIGKILL`);
}

function resume(eng: ContainerEngine, c: Container): void {
  try {
    resumeContainer(eng.runtime, c.id);
  } catch {
    // it went meanwhile
  }
}

/** `kill`: a signal (default SIGKILL) to a running container. */
export function killContainer(eng: ContainerEngine, c: Container, signalText = 'KILL'): void {
  const st = eng.state(c);
  if (!st.Running || st.Restarting) throw new HakoError('invalid-state', `cannot kill container: ${c.id.slice(0, 12)}: container ${c.id} is not running`);
  const signal = parseSignal(signalText);
  if (signal === 9 || signal === 15 || signal === 2) markStopped(eng, c);
  signalContainer(eng, c, signal, signal === 9);
}

/** `wait`: blocks until the container stops; its exit code. */
export async function waitContainer(eng: ContainerEngine, c: Container, condition: 'not-running' | 'next-exit' = 'not-running'): Promise<number> {
  if (condition === 'next-exit') {
    while (!isUp(eng.state(c))) await sleep(20);
  }
  for (;;) {
    const st = eng.state(c);
    if (!isUp(st)) return st.ExitCode;
    await sleep(20);
  }
}

/** `rm`: everything of the container goes: processes, monitor, runtime state, layer, directory, record. */
export async function removeContainer(eng: ContainerEngine, c: Container, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
  const st = eng.state(c);
  if (isUp(st)) {
    if (!opts.force) {
      const what = st.Paused ? 'paused' : st.Restarting ? 'restarting' : 'running';
      throw new HakoError(
        'invalid-state',
        `cannot remove container "/${c.name}": container is ${what}: ${st.Paused ? 'unpause and then stop' : 'stop'} the container before removing or force remove`,
      );
    }
    markStopped(eng, c);
    signalContainer(eng, c, 9, true);
    if (st.Paused) resume(eng, c);
  }
  await waitMonitorGone(eng, c);
  await clearRuntimeState(eng, c.id);
  await detachNetworks(eng, c);
  try {
    await eng.images.snapshots.removeContainerLayer(c.id);
  } catch (err) {
    if (!(err instanceof HakoError && err.code === 'not-found')) throw err;
  }
  rmSync(eng.dir(c.id), { recursive: true, force: true });
  const vols = eng.meta.removeContainer(c.id);
  if (opts.volumes) {
    const volumes = new Volumes(eng.meta, eng.paths.volumes);
    for (const name of vols) {
      if (!volumes.get(name)?.anonymous) continue;
      try {
        volumes.remove(name);
      } catch (err) {
        if (!(err instanceof HakoError && err.code === 'in-use')) throw err;
      }
    }
  }
}

/**
 * The monitor leaves once the container is gone for good (it was told not to restart).
 * With `run --rm`, the monitor exec's this very `rm`: then there is nothing to wait for.
 */
async function waitMonitorGone(eng: ContainerEngine, c: Container): Promise<void> {
  const m = readMonitorState(eng.files(c.id).monitorState);
  if (!m || m.monitorPid === process.pid) return;
  const deadline = Date.now() + 5000;
  while (monitorAlive(m)) {
    if (Date.now() > deadline) {
      try {
        process.kill(m.monitorPid, 'SIGKILL');
      } catch {
        // gone
      }
      sleepSync(10);
      if (Date.now() > deadline + 2000) break;
    }
    await sleep(10);
  }
}
