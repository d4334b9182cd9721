import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { HakoError, isErrno, systemError } from '../common/errors.ts';
import { atomicWriteFile } from '../common/fs.ts';
import { isFrozen as cgroupFrozen, type CgroupPlacement } from './cgroups.ts';
import { isAlive } from '../common/process-info.ts';
import type { ContainerStatus, OciState, Spec } from './spec-types.ts';

export const DEFAULT_ROOT = '/run/hako';
export const OCI_VERSION = '1.2.0';
const ID_RE = /^[\w+.-]+$/;

/** What the runtime remembers about a container between CLI invocations. */
export interface ContainerRecord {
  id: string;
  pid: number;
  pidStartTime: string;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  spec: Spec;
  cgroup: CgroupPlacement;
  /** no mount namespace of its own: its mounts live on the host, under rootfs */
  hostMounts?: boolean;
}

export function validateId(id: string | undefined): string {
  if (!id) throw new HakoError('invalid-argument', 'container id cannot be empty');
  if (!ID_RE.test(id) || id === '.' || id === '..' || id.length > 1024) {
    throw new HakoError('invalid-argument', `invalid container id "${id}": use letters, digits, _ + - and . only`);
  }
  return id;
}

export class StateStore {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  dir(id: string): string {
    return join(this.root, id);
  }

  /** Claims the id atomically: mkdir is the lock that makes duplicate ids impossible. */
  claim(id: string): string {
    const dir = this.dir(id);
    try {
      mkdirSync(this.root, { recursive: true, mode: 0o711 });
      mkdirSync(dir, { mode: 0o711 });
    } catch (err) {
      if (isErrno(err, 'EEXIST')) throw new HakoError('already-exists', `container with id "${id}" already exists`);
      throw systemError(err, `create state directory ${dir}`);
    }
    return dir;
  }

  save(rec: ContainerRecord): void {
    atomicWriteFile(join(this.dir(rec.id), 'state.json'), JSON.stringify(rec), 0o600);
  }

  load(id: string): ContainerRecord {
    validateId(id);
    const file = join(this.dir(id), 'state.json');
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as ContainerRecord;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw new HakoError('not-found', `container "${id}" does not exist`);
      throw systemError(err, `read ${file}`);
    }
  }

  exists(id: string): boolean {
    return existsSync(join(this.dir(id), 'state.json'));
  }

  remove(id: string): void {
    rmSync(this.dir(id), { recursive: true, force: true });
  }

  ids(): string[] {
    try {
      return readdirSync(this.root, { withFileTypes: true })
        .filter((d) => d.isDirectory() && existsSync(join(this.root, d.name, 'state.json')))
        .map((d) => d.name)
        .sort();
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return [];
      throw systemError(err, `list ${this.root}`);
    }
  }

  fifoPath(id: string): string {
    return join(this.dir(id), 'exec.fifo');
  }

  status(rec: ContainerRecord): ContainerStatus {
    if (!isAlive(rec.pid, rec.pidStartTime)) return 'stopped';
    if (existsSync(this.fifoPath(rec.id))) return 'created';
    if (isFrozen(rec.cgroup)) return 'paused';
    return 'running';
  }
}

/** Paused = the container's freezer is frozen (v1 freezer, else cgroup v2's cgroup.freeze). */
function isFrozen(cg: CgroupPlacement): boolean {
  try {
    return cgroupFrozen(cg);
  } catch {
    return false; // gone while we looked
  }
}

export function ociState(rec: ContainerRecord, status: ContainerStatus): OciState {
  return {
    ociVersion: OCI_VERSION,
    id: rec.id,
    status,
    pid: status === 'stopped' ? 0 : rec.pid,
    bundle: rec.bundle,
    ...(rec.spec.annotations ? { annotations: rec.spec.annotations } : {}),
  };
}

/** `state` output: the OCI state plus the fields runc adds (rootfs, created, owner). */
export function runcState(rec: ContainerRecord, status: ContainerStatus): Record<string, unknown> {
  const s = ociState(rec, status);
  return {
    ociVersion: s.ociVersion,
    id: s.id,
    pid: s.pid,
    status: s.status,
    bundle: s.bundle,
    rootfs: rec.rootfs,
    created: rec.created,
    owner: rec.owner,
    ...(s.annotations ? { annotations: s.annotations } : {}),
  };
}
