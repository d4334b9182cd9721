import { lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { HakoError, isErrno, systemError } from './errors.ts';

/** The kernel's limit (MAXSYMLINKS is 40; Go's securejoin and openat2 allow 255). */
const MAX_LINKS = 255;

export interface InRootOptions {
  /**
   * Resolve a symlink in the last component too (default true, as securejoin does).
   * A trailing "/" or "/." on PATH always follows it, as the kernel does.
   */
  followLast?: boolean;
}

/**
 * PATH resolved as if ROOT were "/" (Go's securejoin, openat2's RESOLVE_IN_ROOT):
 * every component is lstat'ed and a symlink is expanded relative to ROOT — an
 * absolute target starts again at ROOT, ".." stops at ROOT. Components that do not
 * exist are kept as they are (the destination of a copy need not exist yet).
 *
 * The answer is a host path inside ROOT at the time of the check. A process that
 * changes the tree concurrently (a running container) can still swap a directory for
 * a symlink afterwards: callers write with O_NOFOLLOW and lstat, never following the
 * last component, so the window only ever exposes what the container can already see.
 */
export function resolveInRoot(root: string, path: string, opts: InRootOptions = {}): string {
  if (root.includes('\0') || path.includes('\0')) throw new HakoError('invalid-argument', `path "${path}" contains a NUL byte`);
  const top = realRoot(root);
  const followLast = opts.followLast ?? true;
  const forceFollow = /\/\.?$/.test(path);
  const done: string[] = [];
  // Remaining components, in order; symlink targets are spliced in at the front.
  const todo = split(path);
  let links = 0;
  while (todo.length) {
    const part = todo.shift()!;
    if (part === '..') {
      done.pop();
      continue;
    }
    const here = join(top, [...done, part]);
    const isLast = todo.length === 0;
    const st = lstatOrUndefined(here);
    if (st?.isSymbolicLink() && (!isLast || followLast || forceFollow)) {
      if (++links > MAX_LINKS) {
        throw new HakoError('invalid-argument', `too many levels of symbolic links resolving "${path}" in the container`, { errno: 40 });
      }
      const target = readlinkSync(here);
      if (target.startsWith('/')) done.length = 0;
      todo.unshift(...split(target));
      continue;
    }
    done.push(part);
  }
  const result = join(top, done);
  assertInside(top, result, path);
  return result;
}

/** ROOT itself may be reached through symlinks on the host: compare against its real path. */
function realRoot(root: string): string {
  try {
    return realpathSync(root);
  } catch (err) {
    throw systemError(err, `resolve the root ${root}`);
  }
}

function split(path: string): string[] {
  return path.split('/').filter((p) => p !== '' && p !== '.');
}

function join(top: string, parts: string[]): string {
  return parts.length ? `${top === '/' ? '' : top}/${parts.join('/')}` : top;
}

function lstatOrUndefined(path: string) {
  try {
    return lstatSync(path);
  } catch (err) {
    // A missing component (or one below a file) ends the existing part of the path.
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return undefined;
    throw systemError(err, `lstat ${path}`);
  }
}

/**
 * The deepest existing ancestor of RESULT must really be inside TOP: catches a
 * component replaced by a symlink while we were resolving.
 */
function assertInside(top: string, result: string, path: string): void {
  // The last component may be a symlink left unresolved on purpose: check from its parent.
  let probe = lstatOrUndefined(result)?.isSymbolicLink() ? parentOf(result) : result;
  for (;;) {
    let real: string | undefined;
    try {
      real = realpathSync(probe);
    } catch (err) {
      if (!isErrno(err, 'ENOENT') && !isErrno(err, 'ENOTDIR')) throw systemError(err, `resolve ${probe}`);
    }
    if (real !== undefined) {
      if (real === top || real.startsWith(top === '/' ? '/' : `${top}/`)) return;
      throw new HakoError('invalid-state', `"${path}" resolves outside the container's root file system (${real}): was it changed while being resolved?`);
    }
    if (probe === top) return;
    probe = parentOf(probe);
  }
}

function parentOf(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}
