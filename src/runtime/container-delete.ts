import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HakoError } from '../common/errors.ts';
import { sleepSync } from '../common/fs.ts';
import { readMountinfo } from '../common/mountinfo.ts';
import type { LogSink } from '../common/log.ts';
import { cgroupPids, removeCgroup } from './cgroups.ts';
import { runHooks } from './hooks.ts';
import { isAlive } from '../common/process-info.ts';
import { ociState, type ContainerRecord, type StateStore } from './state-store.ts';

/** `delete`: refuses a live container unless forced; a created one is simply killed. */
export async function deleteContainer(store: StateStore, id: string, force: boolean, log: LogSink): Promise<void> {
  if (!store.exists(id)) {
    if (force) return;
    throw new HakoError('not-found', `container "${id}" does not exist`);
  }
  const rec = store.load(id);
  const status = store.status(rec);
  if ((status === 'running' || status === 'paused') && !force) {
    throw new HakoError('invalid-state', `cannot delete container ${id} that is not stopped: ${status}`);
  }
  await destroyContainer(store, rec, { runPoststop: true, log });
}

/** Removes every trace of a container: its processes, cgroup and state directory. */
export async function destroyContainer(
  store: StateStore,
  rec: ContainerRecord,
  opts: { runPoststop: boolean; log?: LogSink },
): Promise<void> {
  killAll(rec);
  if (rec.hostMounts) unmountUnder(rec.rootfs);
  removeCgroup(rec.cgroup);
  store.remove(rec.id);
  if (opts.runPoststop) {
    try {
      await runHooks('poststop', rec.spec.hooks?.poststop, ociState(rec, 'stopped'));
    } catch (err) {
      opts.log?.warn((err as Error).message);
      process.stderr.write(`warning: ${(err as Error).message}\n`);
    }
  }
}

/** SIGKILL to the init and to everything left in the cgroup, then wait until they are gone. */
function killAll(rec: ContainerRecord): void {
  const deadline = Date.now() + 10_000;
  thaw(rec);
  for (;;) {
    const pids = cgroupPids(rec.cgroup);
    const initAlive = isAlive(rec.pid, rec.pidStartTime);
    if (initAlive) pids.push(rec.pid);
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (Date.now() > deadline) throw new HakoError('system', `container ${rec.id}: processes ${pids.join(', ')} did not die`);
    sleepSync(5);
  }
}

/** A frozen task cannot die; thaw before killing (pause comes with the resources issue). */
function thaw(rec: ContainerRecord): void {
  for (const dir of rec.cgroup.dirs) {
    try {
      if (dir.includes('/freezer/')) writeFileSync(join(dir, 'freezer.state'), 'THAWED');
    } catch {
      // no freezer, or already gone
    }
  }
}

/**
 * A container that shares the host's mount namespace mounted on the host, inside its
 * rootfs; take those mounts away, deepest first (Node has no umount(2): one umount run).
 */
function unmountUnder(rootfs: string): void {
  // Mounts can be stacked on one path: each lazy umount takes only the top one.
  for (let round = 0; round < 8; round++) {
    const targets = readMountinfo()
      .map((m) => m.mountPoint)
      .filter((mp) => mp === rootfs || mp.startsWith(rootfs + '/'))
      .reverse();
    if (targets.length === 0) return;
    const r = spawnSync('umount', ['--lazy', ...new Set(targets)], { encoding: 'utf8' });
    if (r.status !== 0 && !/not mounted/.test(r.stderr ?? '')) {
      throw new HakoError('system', `unmount the container's mounts under ${rootfs}: ${(r.stderr ?? '').trim()}`);
    }
  }
}
