import { statSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { HakoError } from '../common/errors.ts';
import { atomicWriteFile } from '../common/fs.ts';
import { mountOf, readMountinfo } from '../common/mountinfo.ts';
import { applyResources, cgroupPathFor, createCgroup, joinCgroup, readHierarchies, returnToOwnCgroup } from './cgroups.ts';
import { destroyContainer } from './container-delete.ts';
import { Launch, type ExecutorHandle } from './executor.ts';
import { runHooks } from './hooks.ts';
import { buildPlan, STATE_CREATED, STATE_CREATING, SYNC_CREATE_RUNTIME, SYNC_CREATED } from './plan.ts';
import { procStat } from '../common/process-info.ts';
import { loadSpec, rootfsPath } from './spec-load.ts';
import type { SpecIdMapping } from './spec-types.ts';
import { ociState, validateId, type ContainerRecord, type StateStore } from './state-store.ts';

export interface CreateOptions {
  id: string;
  bundle: string;
  pidFile?: string | undefined;
  consoleSocket?: string | undefined;
  noPivot?: boolean;
  /** run: the executor stays to report the exit status (foreground `run`) */
  mode: 'create' | 'run';
  warn?: ((msg: string) => void) | undefined;
  /** who starts the executor (default: this process; the engine: the container's monitor) */
  executor?: (() => ExecutorHandle) | undefined;
}

export interface Created {
  rec: ContainerRecord;
  launch: Launch;
}

/**
 * `create`: everything up to the container's init waiting on its exec fifo. On any
 * failure every trace (process, cgroup, state directory) is removed before the error
 * is reported.
 */
export async function createContainer(store: StateStore, opts: CreateOptions): Promise<Created> {
  const id = validateId(opts.id);
  const bundle = resolve(opts.bundle);
  const spec = loadSpec(bundle);
  const rootfs = rootfsPath(spec, bundle);
  if (!statSync(rootfs, { throwIfNoEntry: false })?.isDirectory()) {
    throw new HakoError('invalid-config', `rootfs ${rootfs} does not exist or is not a directory`);
  }
  const mounts = readMountinfo();
  const hierarchies = readHierarchies(mounts);
  const cgPath = cgroupPathFor(spec, id);
  const stateDir = store.claim(id);
  const rec: ContainerRecord = {
    id,
    pid: 0,
    pidStartTime: '',
    bundle,
    rootfs,
    created: new Date().toISOString(),
    owner: '',
    spec,
    cgroup: { path: cgPath, dirs: [] },
    hostMounts: !spec.linux?.namespaces?.some((n) => n.type === 'mount'),
  };
  try {
    rec.cgroup = createCgroup(cgPath, hierarchies);
    applyResources(rec.cgroup, spec.linux?.resources, hierarchies);
    const plan = buildPlan(spec, {
      bundle,
      rootfs,
      stateDir,
      mode: opts.mode,
      // pivot_root cannot leave an initramfs root: chroot there, as --no-pivot does.
      noPivot: !!opts.noPivot || ['rootfs', 'ramfs'].includes(mountOf('/', mounts)?.fstype ?? ''),
      rootfsMountPoint: mountOf(rootfs, mounts)?.mountPoint ?? '/',
      consoleSocket: opts.consoleSocket,
      cgroup: rec.cgroup,
      hierarchies,
      warn: opts.warn,
    });
    let executorPid = 0;
    const launch = new Launch(plan, {
      // The executor joins the cgroup before it clones, so the container (and a new
      // cgroup namespace) starts inside it.
      beforePlan: (pid) => {
        executorPid = pid;
        joinCgroup(rec.cgroup, pid);
      },
      onPid: (pid) => {
        rec.pid = pid;
        rec.pidStartTime = procStat(pid)?.startTime ?? '';
        store.save(rec);
      },
      onSync: async (name) => {
        if (name === SYNC_CREATED) {
          writeIdMaps(rec.pid, spec.linux?.uidMappings, spec.linux?.gidMappings, spec.linux?.namespaces?.some((n) => n.type === 'user' && !n.path));
          if (spec.process?.oomScoreAdj !== undefined) writeOomScoreAdj(rec.pid, spec.process.oomScoreAdj);
          if (opts.mode === 'run') returnToOwnCgroup(executorPid, hierarchies);
          return {
            [STATE_CREATING]: JSON.stringify(ociState(rec, 'creating')),
            [STATE_CREATED]: JSON.stringify(ociState(rec, 'created')),
          };
        }
        if (name === SYNC_CREATE_RUNTIME) {
          // prestart is the legacy form of createRuntime; callers expect "created" (as crun).
          await runHooks('prestart', spec.hooks?.prestart, ociState(rec, 'created'));
          await runHooks('createRuntime', spec.hooks?.createRuntime, ociState(rec, 'creating'));
          return;
        }
        throw new HakoError('launch-failed', `unexpected sync "${name}" from the executor`);
      },
    }, opts.executor?.());
    await launch.ready;
    if (opts.pidFile) atomicWriteFile(resolve(opts.pidFile), String(rec.pid));
    return { rec, launch };
  } catch (err) {
    await destroyContainer(store, rec, { runPoststop: false });
    throw err;
  }
}

function writeIdMaps(pid: number, uids: SpecIdMapping[] | undefined, gids: SpecIdMapping[] | undefined, newUser: boolean | undefined): void {
  if (!newUser) return;
  const fmt = (maps: SpecIdMapping[] = []) => maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
  try {
    writeFileSync(`/proc/${pid}/uid_map`, fmt(uids));
    writeFileSync(`/proc/${pid}/gid_map`, fmt(gids));
  } catch (err) {
    throw new HakoError('launch-failed', `write id mappings of pid ${pid}: ${(err as Error).message}`);
  }
}

/** Lowering the score needs CAP_SYS_RESOURCE: say so rather than "permission denied". */
function writeOomScoreAdj(pid: number, value: number): void {
  try {
    writeFileSync(`/proc/${pid}/oom_score_adj`, String(value));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'EACCES' || e.code === 'EPERM' ? ': lowering it needs CAP_SYS_RESOURCE, which this process lacks' : `: ${e.message}`;
    throw new HakoError('launch-failed', `process.oomScoreAdj ${value}${why}`);
  }
}
