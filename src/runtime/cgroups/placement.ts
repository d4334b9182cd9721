import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { HakoError, isErrno, systemError } from '../../common/errors.ts';
import { sleepSync } from '../../common/fs.ts';
import { readHierarchies, type Hierarchy } from './hierarchy.ts';

/** A container's cgroup: one directory per hierarchy. Serialisable into state.json. */
export interface CgroupPlacement {
  path: string;
  dirs: string[];
}

export function cgroupPathFor(spec: { linux?: { cgroupsPath?: string } }, id: string): string {
  const p = spec.linux?.cgroupsPath;
  if (!p) return `/hako/${id}`;
  if (p.includes(':')) {
    throw new HakoError('unsupported', `linux.cgroupsPath "${p}" is a systemd slice path; hako manages cgroupfs paths only`);
  }
  const norm = join('/', p);
  if (norm === '/') throw new HakoError('invalid-config', 'linux.cgroupsPath must not be the root cgroup');
  return norm;
}

export function createCgroup(path: string, hs: Hierarchy[] = readHierarchies()): CgroupPlacement {
  const dirs: string[] = [];
  try {
    for (const h of hs) {
      const dir = join(h.mountPoint, path);
      if (h.controllers.includes('cpuset')) mkdirCpuset(h.mountPoint, path);
      else mkdirSync(dir, { recursive: true });
      dirs.push(dir);
    }
  } catch (err) {
    removeCgroup({ path, dirs });
    throw systemError(err, `create cgroup ${path}`);
  }
  return { path, dirs };
}

/**
 * v1 cpuset refuses tasks until cpus and mems are set, so each level inherits them —
 * also a level that already exists: another process may have just made it and not yet
 * filled it, or removed it as an empty /hako parent (then the walk starts again).
 */
function mkdirCpuset(mountPoint: string, path: string): void {
  for (let attempt = 0; ; attempt++) {
    try {
      let dir = mountPoint;
      for (const part of path.split('/').filter(Boolean)) {
        const parent = dir;
        dir = join(dir, part);
        try {
          mkdirSync(dir);
        } catch (err) {
          if (!isErrno(err, 'EEXIST')) throw err;
        }
        for (const f of ['cpuset.cpus', 'cpuset.mems']) {
          if (readFileSync(join(dir, f), 'utf8').trim() === '') writeFileSync(join(dir, f), readFileSync(join(parent, f)));
        }
      }
      return;
    } catch (err) {
      if (!isErrno(err, 'ENOENT') || attempt >= 20) throw err;
    }
  }
}

export function joinCgroup(placement: CgroupPlacement, pid: number): void {
  for (const dir of placement.dirs) {
    try {
      writeFileSync(join(dir, 'cgroup.procs'), String(pid));
    } catch (err) {
      throw systemError(err, `join cgroup ${dir}`);
    }
  }
}

/** Puts pid back where this (CLI) process itself lives, in every hierarchy. */
export function returnToOwnCgroup(pid: number, hs: Hierarchy[] = readHierarchies()): void {
  const own = new Map<string, string>();
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n')) {
    const [, ctrls = '', path = '/'] = line.split(/:(.*?):/);
    own.set(ctrls === '' ? 'unified' : ctrls.split(',').sort().join(), path);
  }
  for (const h of hs) {
    const path = own.get(h.controllers.slice().sort().join());
    if (path === undefined) continue;
    try {
      writeFileSync(join(h.mountPoint, path, 'cgroup.procs'), String(pid));
    } catch {
      // The executor only passes through; if it cannot move it still exits soon.
    }
  }
}

export function cgroupPids(placement: CgroupPlacement): number[] {
  const pids = new Set<number>();
  for (const dir of placement.dirs) {
    try {
      for (const l of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n')) if (l) pids.add(Number(l));
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw systemError(err, `read ${dir}/cgroup.procs`);
    }
  }
  return [...pids];
}

/** Removes the cgroup directories; a dying process may keep one busy for a moment. */
export function removeCgroup(placement: CgroupPlacement): void {
  for (const dir of placement.dirs) {
    for (let attempt = 0; ; attempt++) {
      try {
        rmdirSync(dir);
        break;
      } catch (err) {
        if (isErrno(err, 'ENOENT')) break;
        if (isErrno(err, 'EBUSY') && attempt < 100) {
          sleepSync(10);
          continue;
        }
        throw systemError(err, `remove cgroup ${dir}`);
      }
    }
    pruneHakoParent(dir);
  }
}

/** Leaves no empty /hako parent behind once the last container is gone. */
function pruneHakoParent(dir: string): void {
  const parent = dirname(dir);
  if (parent.endsWith('/hako')) {
    try {
      rmdirSync(parent);
    } catch {
      // busy (other containers) or already gone
    }
  }
}
