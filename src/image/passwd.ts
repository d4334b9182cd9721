import { closeSync, constants, fstatSync, lstatSync, openSync, readlinkSync, readSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { HakoError, isErrno, systemError } from '../common/errors.ts';
import { quote } from './digest.ts';

/**
 * User and group resolution the way Docker does it (moby/sys/user GetExecUser, then the
 * daemon's getUser): names are looked up in the image's own /etc/passwd and /etc/group.
 * Those files come from an untrusted image, so they are read *inside* the rootfs: every
 * symlink is resolved as if the rootfs were `/`, and the file finally opened must still
 * be under the rootfs.
 */

/** Large enough for any real passwd/group file; a bigger one is an attack, not an image. */
export const MAX_ID_FILE_BYTES = 1 << 20;
const MAX_SYMLINKS = 40; // Linux's own limit (ELOOP)
const MAX_ID = 2 ** 31 - 1; // moby/sys/user: ids must fit a signed 32-bit int

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  gecos: string;
  home: string;
  shell: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

export interface ResolvedUser {
  uid: number;
  gid: number;
  /** as Docker puts them in the OCI spec: the primary gid first, then the user's groups, then --group-add */
  additionalGids: number[];
  /** from the passwd entry; `/` when there is none (runc's default) */
  home: string;
}

const isId = (s: string) => /^\d+$/.test(s) && Number(s) <= MAX_ID;

function lines(text: string): string[][] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .map((l) => l.split(':'));
}

/**
 * `name:password:uid:gid:gecos:home:shell`. Lines whose ids are not numbers in range are
 * skipped: Go's parser would read them as 0, i.e. turn a garbled line into root.
 */
export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const [name = '', , uid = '', gid = '', gecos = '', home = '', shell = ''] of lines(text)) {
    if (!isId(uid) || !isId(gid)) continue;
    out.push({ name, uid: Number(uid), gid: Number(gid), gecos, home, shell });
  }
  return out;
}

/** `name:password:gid:member,member…`. */
export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const [name = '', , gid = '', members = ''] of lines(text)) {
    if (!isId(gid)) continue;
    out.push({ name, gid: Number(gid), members: members === '' ? [] : members.split(',') });
  }
  return out;
}

function badFile(path: string, why: string): HakoError {
  return new HakoError('invalid-config', `${path} in the container's root filesystem ${why}`);
}

/**
 * Reads `path` as the container would see it with `rootfs` as its root, or returns
 * undefined when it does not exist. Symlinks are followed within the rootfs (an absolute
 * target starts again at the rootfs, `..` stops at it), like openat2(RESOLVE_IN_ROOT).
 */
export function readFileInRoot(rootfs: string, path: string, maxBytes = MAX_ID_FILE_BYTES): Buffer | undefined {
  let root: string;
  try {
    root = realpathSync(rootfs);
  } catch (err) {
    throw systemError(err, `root filesystem ${rootfs}`);
  }
  let full: string | undefined;
  try {
    full = resolveInRoot(root, path);
  } catch (err) {
    throw systemError(err, `reading ${path} in ${root}`);
  }
  return full === undefined ? undefined : readChecked(root, full, path, maxBytes);
}

/** The host path of `path` inside `root` with no symlink left in it, or undefined if absent. */
function resolveInRoot(root: string, path: string): string | undefined {
  const done: string[] = [];
  const todo = path.split('/');
  let links = 0;
  while (todo.length > 0) {
    const name = todo.shift()!;
    if (name === '' || name === '.') continue;
    if (name === '..') {
      done.pop();
      continue;
    }
    const full = join(root, ...done, name);
    const st = lstatSync(full, { throwIfNoEntry: false });
    if (st === undefined) return undefined;
    if (st.isSymbolicLink()) {
      if (++links > MAX_SYMLINKS) throw badFile(path, 'is behind too many levels of symbolic links');
      let target: string;
      try {
        target = readlinkSync(full);
      } catch (err) {
        if (isErrno(err, 'ENOENT')) return undefined; // removed since the lstat
        throw err;
      }
      if (target.startsWith('/')) done.length = 0;
      todo.unshift(...target.split('/'));
      continue;
    }
    // a file used as a directory: open(2) would say ENOTDIR; Docker treats that as absent
    if (todo.some((n) => n !== '' && n !== '.') && !st.isDirectory()) return undefined;
    done.push(name);
  }
  return join(root, ...done);
}

function readChecked(root: string, full: string, path: string, maxBytes: number): Buffer | undefined {
  let fd: number;
  try {
    // O_NOFOLLOW: the last component cannot have become a symlink since the walk;
    // O_NONBLOCK: a FIFO planted there must not hang us (it is refused below)
    fd = openSync(full, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return undefined;
    if (isErrno(err, 'ELOOP')) throw badFile(path, 'was replaced by a symbolic link while being read');
    throw systemError(err, `reading ${path} in ${root}`);
  }
  try {
    // A directory on the way could have been swapped for a symlink after the walk (a
    // running container, for exec): what was opened must still be inside the rootfs.
    const opened = readlinkSync(`/proc/self/fd/${fd}`);
    const prefix = root.endsWith('/') ? root : `${root}/`;
    if (!opened.startsWith(prefix)) throw badFile(path, 'resolves outside of it');
    const st = fstatSync(fd);
    if (!st.isFile()) throw badFile(path, 'is not a regular file');
    if (st.size > maxBytes) throw badFile(path, `is larger than ${maxBytes} bytes`);
    // read one byte more than allowed: the file may grow after fstat
    const buf = Buffer.alloc(maxBytes + 1);
    let n = 0;
    while (n < buf.length) {
      const r = readSync(fd, buf, n, buf.length - n, null);
      if (r === 0) break;
      n += r;
    }
    if (n > maxBytes) throw badFile(path, `is larger than ${maxBytes} bytes`);
    return buf.subarray(0, n);
  } catch (err) {
    throw systemError(err, `reading ${path} in ${root}`);
  } finally {
    closeSync(fd);
  }
}

/** Go's strconv.Atoi accepts a sign; moby then range-checks the value. */
function numeric(s: string): number | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const n = Number(s);
  if (n < 0 || n > MAX_ID) throw new HakoError('invalid-argument', `uids and gids must be in range 0-${MAX_ID}, got ${quote(s)}`);
  return n;
}

const noUser = (name: string) => new HakoError('not-found', `unable to find user ${name}: no matching entries in passwd file`);
const noGroup = (name: string) => new HakoError('not-found', `unable to find group ${name}: no matching entries in group file`);

/**
 * Resolves Docker's `-u` / image `User`: `""`, `name`, `uid`, `name:group`, `uid:gid`,
 * `name:gid`, `uid:group` (a third `:field` is ignored, as Docker does). A numeric uid need
 * not exist (the gid is then 0); a name must. Without an explicit group the user also gets
 * every group that lists them by name. `groupAdd` is `--group-add`: names or gids.
 */
export function resolveUser(rootfs: string, spec: string, groupAdd: readonly string[] = []): ResolvedUser {
  const [userArg = '', groupArg = ''] = spec.split(':');
  const uidArg = numeric(userArg);
  const gidArg = numeric(groupArg);
  const passwdFile = readFileInRoot(rootfs, '/etc/passwd');
  const passwd = passwdFile === undefined ? [] : parsePasswd(passwdFile.toString('utf8'));
  let groups: GroupEntry[] | undefined;
  const readGroups = () => {
    if (groups === undefined) {
      const file = readFileInRoot(rootfs, '/etc/group');
      groups = file === undefined ? [] : parseGroup(file.toString('utf8'));
    }
    return groups;
  };

  // an empty user means "whoever uid 0 is" (the default user), first match wins
  const entry = passwd.find((p) => (userArg === '' ? p.uid === 0 : uidArg !== undefined ? p.uid === uidArg : p.name === userArg));
  let uid = 0;
  let gid = 0;
  let home = '/';
  if (entry !== undefined) {
    ({ uid, gid } = entry);
    if (entry.home !== '') home = entry.home;
  } else if (userArg !== '') {
    if (uidArg === undefined) throw noUser(userArg);
    uid = uidArg;
  }

  const sgids: number[] = [];
  if (groupArg !== '') {
    const g = readGroups().find((g) => (gidArg !== undefined ? g.gid === gidArg : g.name === groupArg));
    if (g !== undefined) gid = g.gid;
    else if (gidArg !== undefined) gid = gidArg;
    else throw noGroup(groupArg);
  } else if (entry !== undefined && entry.name !== '') {
    // supplementary groups only in the implicit form, as Docker does
    for (const g of readGroups()) if (g.members.includes(entry.name)) sgids.push(g.gid);
  }

  for (const wanted of groupAdd) {
    const g = readGroups().find((g) => g.name === wanted || String(g.gid) === wanted);
    if (g !== undefined) sgids.push(g.gid);
    else {
      const n = numeric(wanted);
      if (n === undefined) throw noGroup(wanted);
      sgids.push(n);
    }
  }
  return { uid, gid, additionalGids: [...new Set([gid, ...sgids])], home };
}
