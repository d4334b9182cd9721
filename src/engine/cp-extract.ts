import { constants, type Stats } from 'node:fs';
import { link, lchown, lstat, lutimes, mkdir, open, stat, symlink, unlink } from 'node:fs/promises';
import { HakoError, isErrno, systemError } from '../common/errors.ts';
import { resolveInRoot } from '../common/in-root.ts';
import { hakoMount } from '../storage/hako-mount.ts';
import type { CpEntry } from './cp-entries.ts';

/** Whose files the copy makes: the entries' owners, nobody's (the caller's, no chown), or fixed ids. */
export type OwnerPolicy = 'keep' | 'none' | { uid: number; gid: number };

/** Where entries go: how an entry's parent directory and a hard link's target are found. */
export interface ExtractTarget {
  /** the host directory for PARENT (components below the extraction directory), created as needed */
  parentDir(parent: string[], entry: string): Promise<string>;
  /** the host path of an existing entry, for a hard link */
  linkTarget(parts: string[], entry: string): string;
  /** told of every symlink the copy makes */
  madeSymlink(path: string): void;
}

/**
 * Inside a container's root: every path is resolved as if TOP were "/" (resolveInRoot),
 * so a symlink in the container — one already there or one the copy made — leads to
 * TOP/target, never to the host's. DIR is the extraction directory, a host path in TOP.
 */
export function containerTarget(top: string, dir: string, mkdirOwner: OwnerPolicy): ExtractTarget {
  const dirInRoot = dir.slice(top.length) || '/';
  const inRoot = (parts: string[]) => `${dirInRoot}/${parts.join('/')}`;
  return {
    async parentDir(parent, entry) {
      const host = resolveInRoot(top, inRoot(parent), { followLast: true });
      await mkdirMissing(top, host, entry, mkdirOwner, (p) => p.slice(top.length) || '/');
      return host;
    },
    linkTarget: (parts) => resolveInRoot(top, inRoot(parts), { followLast: false }),
    madeSymlink: () => {},
  };
}

/**
 * A host directory. Symlinks the copy itself made are never written through (a tar
 * from a container could otherwise plant `x -> /etc` then write `x/passwd`); symlinks
 * that were there before are the user's and are followed, as Docker does.
 */
export function hostTarget(dir: string, mkdirOwner: OwnerPolicy): ExtractTarget {
  const made = new Set<string>();
  const pathOf = (parts: string[], entry: string) => {
    let p = dir;
    for (const c of parts) {
      p = `${p === '/' ? '' : p}/${c}`;
      if (made.has(p)) throw new HakoError('invalid-argument', `"${entry}" would be written through the symlink ${p} made by this copy`);
    }
    return p;
  };
  return {
    async parentDir(parent, entry) {
      const host = pathOf(parent, entry);
      await mkdirMissing(dir, host, entry, mkdirOwner, (p) => p, true);
      return host;
    },
    linkTarget: (parts, entry) => pathOf(parts, entry),
    madeSymlink: (p) => made.add(p),
  };
}

/** Creates the missing directories of HOST below TOP (0755, as Docker's MkdirAll). */
async function mkdirMissing(top: string, host: string, entry: string, owner: OwnerPolicy, show: (p: string) => string, followOld = false): Promise<void> {
  let p = top;
  for (const c of host.slice(top.length).split('/').filter(Boolean)) {
    p = `${p === '/' ? '' : p}/${c}`;
    const st = await lstatOrUndefined(p);
    if (!st) {
      await mkdir(p, 0o755).catch((err: unknown) => {
        throw systemError(err, `create directory ${show(p)}`);
      });
      await chownTo(p, owner, 0, 0);
      continue;
    }
    const isDir = st.isSymbolicLink() && followOld ? (await stat(p).catch(() => st)).isDirectory() : st.isDirectory();
    if (!isDir) throw new HakoError('invalid-argument', `cannot copy "${entry}": ${show(p)} is not a directory`);
  }
}

async function lstatOrUndefined(p: string): Promise<Stats | undefined> {
  try {
    return await lstat(p);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw systemError(err, `lstat ${p}`);
  }
}

function ids(owner: OwnerPolicy, uid: number, gid: number): [number, number] | undefined {
  if (owner === 'none') return undefined;
  return owner === 'keep' ? [uid, gid] : [owner.uid, owner.gid];
}

async function chownTo(p: string, owner: OwnerPolicy, uid: number, gid: number): Promise<void> {
  const to = ids(owner, uid, gid);
  if (to) await lchown(p, to[0], to[1]);
}

// O_EXCL|O_NOFOLLOW: a name that reappeared (even as a dangling symlink) fails instead of being written through.
const CREATE_FILE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const OPEN_DIR = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/**
 * Writes ENTRIES below TARGET, in order, as Docker's Untar with NoOverwriteDirNonDir:
 * a directory is merged into an existing one, anything else replaces what is there
 * (a symlink is replaced, never written through), a directory and a non-directory
 * never replace each other. The "." entry (the extraction directory itself) is
 * skipped: the destination keeps its own owner, mode and times.
 */
export async function extractEntries(entries: AsyncIterable<CpEntry>, target: ExtractTarget, owner: OwnerPolicy): Promise<void> {
  const dirTimes: { path: string; atime: number; mtime: number }[] = [];
  let current = '';
  try {
    for await (const e of entries) {
      current = e.parts.join('/');
      if (!e.parts.length) continue;
      const parent = await target.parentDir(e.parts.slice(0, -1), current);
      const path = `${parent === '/' ? '' : parent}/${e.parts.at(-1)}`;
      const linkFrom = e.kind === 'hardlink' ? target.linkTarget(e.linkParts, current) : '';
      const old = await lstatOrUndefined(path);
      if (old?.isDirectory() && e.kind !== 'dir') throw new HakoError('invalid-argument', `cannot overwrite directory "${current}" with non-directory`);
      if (old && !old.isDirectory() && e.kind === 'dir') throw new HakoError('invalid-argument', `cannot overwrite non-directory "${current}" with directory`);
      if (old && e.kind === 'hardlink') {
        const to = await lstatOrUndefined(linkFrom);
        if (to && to.ino === old.ino && to.dev === old.dev) continue;
      }
      if (old && !old.isDirectory()) await unlink(path);
      await writeEntry(e, path, !!old, owner, target, linkFrom);
      if (e.kind === 'dir') dirTimes.push({ path, atime: e.atime, mtime: e.mtime });
    }
    // Last, deepest first: creating anything in a directory changes its mtime.
    for (const t of dirTimes.reverse()) await lutimes(t.path, t.atime, t.mtime);
  } catch (err) {
    throw systemError(err, current ? `copy "${current}"` : 'copy');
  }
}

async function writeEntry(e: CpEntry, path: string, exists: boolean, owner: OwnerPolicy, target: ExtractTarget, linkFrom: string): Promise<void> {
  const to = ids(owner, e.uid, e.gid);
  switch (e.kind) {
    case 'file': {
      const fh = await open(path, CREATE_FILE, 0o600);
      try {
        if (e.body) for await (const chunk of e.body()) await fh.write(chunk);
        if (to) await fh.chown(to[0], to[1]);
        await fh.chmod(e.mode); // after chown, which clears setuid and setgid
        await fh.utimes(e.atime, e.mtime);
      } finally {
        await fh.close();
      }
      return;
    }
    case 'dir': {
      if (!exists) await mkdir(path, 0o700);
      const fh = await open(path, OPEN_DIR);
      try {
        if (to) await fh.chown(to[0], to[1]);
        await fh.chmod(e.mode);
      } finally {
        await fh.close();
      }
      return;
    }
    case 'symlink':
      await symlink(e.symlinkTarget, path);
      target.madeSymlink(path);
      if (to) await lchown(path, to[0], to[1]);
      await lutimes(path, e.atime, e.mtime);
      return;
    case 'hardlink':
      await link(linkFrom, path); // link(2) never follows a symlink it is given
      return;
    case 'char':
    case 'block':
    case 'fifo': {
      const type = e.kind === 'char' ? 'c' : e.kind === 'block' ? 'b' : 'p';
      const [uid, gid] = to ?? [-1, -1];
      await hakoMount(['mknod', path, type, String(e.devMajor), String(e.devMinor), e.mode.toString(8), String(uid), String(gid)]);
      await lutimes(path, e.atime, e.mtime);
      return;
    }
  }
}
