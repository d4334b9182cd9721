import { lstatSync, readlinkSync, realpathSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, isAbsolute, join, posix, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { HakoError, isErrno, systemError } from '../common/errors.ts';
import { resolveInRoot } from '../common/in-root.ts';
import { packEntries, tarEntries, walkTree } from './cp-entries.ts';
import { containerTarget, extractEntries, hostTarget } from './cp-extract.ts';

/**
 * `docker cp` between a container's mounted root file system (ROOT, a host directory)
 * and the host, with Docker's rules (moby's archive.CopyInfoSourcePath,
 * CopyInfoDestinationPath and PrepareArchiveCopy):
 *
 * SRC a file:      DEST missing → DEST is created as that file; DEST ending in "/" and
 *                  missing → error; DEST a file → overwritten; DEST a dir → DEST/basename(SRC).
 * SRC a directory: DEST missing → created with SRC's content; DEST a file → error;
 *                  DEST a dir → DEST/basename(SRC), or SRC's content when SRC ends in "/.".
 *
 * A DEST that is a symlink is followed; SRC's own last component is copied as a symlink
 * unless followLink (-L). Container paths never leave ROOT (resolveInRoot): a symlink
 * inside pointing at "/etc" or "../../.." leads to ROOT/etc or ROOT.
 *
 * Running containers: resolving then opening is not atomic, so a process in the
 * container could swap a directory for a symlink mid-copy (CVE-2018-15664); Docker
 * pauses the container during cp, and so should the caller.
 */

export interface CopyOptions {
  /**
   * -a: keep the source's uid/gid. Without it, files copied into the container belong
   * to its root (`rootIds`) and files copied out belong to the calling user, as Docker.
   */
  archive?: boolean;
  /** -L: follow SRC when it is a symlink (entries keep SRC's name) */
  followLink?: boolean;
  /** the container's root user as seen on the host (user namespace remapping); default 0:0 */
  rootIds?: { uid: number; gid: number };
}

/** A source: the host path to read and the name its entries get ([] = its content, for "SRC/."). */
interface Source {
  host: string;
  name: string[];
  isDir: boolean;
}

interface Destination {
  /** host path, symlinks followed */
  host: string;
  exists: boolean;
  isDir: boolean;
  /** DEST ends with "/" (or "/."): it has to be a directory */
  assertsDir: boolean;
}

/** `docker cp CONTAINER:SRC HOSTDEST`, or `docker cp CONTAINER:SRC -` (a tar of SRC written to OUT). */
export async function copyFromContainer(root: string, srcPath: string, hostDest: string, out?: Writable, opts: CopyOptions = {}): Promise<void> {
  const src = containerSource(root, srcPath, opts.followLink ?? false);
  if (hostDest === '-') {
    if (!out) throw new HakoError('invalid-argument', 'copying to "-" needs an output stream');
    await packEntries(walkTree(src.host, src.name), out);
    return;
  }
  const dst = hostDestination(hostDest);
  const { dir, name } = prepareCopy(src, dst, hostDest);
  await extractEntries(walkTree(src.host, name), hostTarget(dir, 'none'), opts.archive ? 'keep' : 'none');
}

/** `docker cp HOSTSRC CONTAINER:DEST`, or `docker cp - CONTAINER:DEST` (a tar read from INPUT, extracted into the directory DEST). */
export async function copyToContainer(root: string, hostSrc: string, destPath: string, input?: Readable, opts: CopyOptions = {}): Promise<void> {
  const top = realRoot(root);
  const rootIds = opts.rootIds ?? { uid: 0, gid: 0 };
  const owner = opts.archive ? 'keep' : rootIds;
  const dst = containerDestination(top, destPath);
  if (hostSrc === '-') {
    if (!input) throw new HakoError('invalid-argument', 'copying from "-" needs an input stream');
    if (!dst.isDir) throw new HakoError(dst.exists ? 'invalid-argument' : 'not-found', `destination "${destPath}" must be a directory`);
    await extractEntries(tarEntries(input), containerTarget(top, dst.host, rootIds), owner);
    return;
  }
  const src = hostSource(hostSrc, opts.followLink ?? false);
  const { dir, name } = prepareCopy(src, dst, destPath);
  await extractEntries(walkTree(src.host, name), containerTarget(top, dir, rootIds), owner);
}

/** Docker's PrepareArchiveCopy: the directory to extract into, and the name SRC's entries take there. */
function prepareCopy(src: Source, dst: Destination, display: string): { dir: string; name: string[] } {
  if (dst.exists && dst.isDir) return { dir: dst.host, name: src.name };
  if (dst.exists && src.isDir) throw new HakoError('invalid-argument', `cannot copy a directory to a file: "${display}" is not a directory`);
  if (!dst.exists && !src.isDir && dst.assertsDir) throw new HakoError('not-found', `destination directory "${display}" does not exist`);
  return { dir: dirname(dst.host), name: [basename(dst.host)] };
}

/** "x/." or "." : the content of a directory rather than the directory */
const CONTENT = /(^|\/)\.$/;

function asksContent(p: string): boolean {
  return CONTENT.test(p);
}

function assertsDir(p: string): boolean {
  return p.endsWith('/') || asksContent(p);
}

/** Docker names entries after the source path as written: basename of the cleaned path. */
function sourceName(p: string): string[] {
  if (asksContent(p)) return [];
  const clean = posix.normalize(`/${p}`).replace(/\/+$/, '');
  return clean === '' ? [] : [posix.basename(clean)];
}

function containerSource(root: string, srcPath: string, follow: boolean): Source {
  const path = srcPath === '' ? '/' : srcPath;
  const trailing = assertsDir(path);
  const host = resolveInRoot(root, path, { followLast: follow || trailing });
  const st = lstatOrUndefined(host, srcPath);
  if (!st) throw new HakoError('not-found', `could not find the file ${srcPath} in the container`);
  if (trailing && !st.isDirectory()) throw new HakoError('invalid-argument', `"${srcPath}" is not a directory`);
  return { host, name: sourceName(path), isDir: st.isDirectory() };
}

function hostSource(hostSrc: string, follow: boolean): Source {
  const abs = resolve(hostSrc);
  const trailing = assertsDir(hostSrc);
  let host: string;
  try {
    // Docker evaluates the parent's symlinks; the last component only with -L or a trailing "/".
    host = follow || trailing ? realpathSync(abs) : join(realpathSync(dirname(abs)), basename(abs));
  } catch (err) {
    throw notFoundOr(err, hostSrc);
  }
  const st = lstatOrUndefined(host, hostSrc);
  if (!st) throw new HakoError('not-found', `no such file or directory: ${hostSrc}`);
  if (trailing && !st.isDirectory()) throw new HakoError('invalid-argument', `"${hostSrc}" is not a directory`);
  return { host, name: asksContent(hostSrc) || abs === '/' ? [] : [basename(abs)], isDir: st.isDirectory() };
}

function notFoundOr(err: unknown, what: string): HakoError {
  if (isErrno(err, 'ENOENT')) return new HakoError('not-found', `no such file or directory: ${what}`, { cause: err });
  if (isErrno(err, 'ENOTDIR')) return new HakoError('invalid-argument', `"${what}": not a directory`, { cause: err });
  return systemError(err, `stat ${what}`);
}

/** Docker's CopyInfoDestinationPath on the host: symlinks followed (up to 10); a missing DEST needs an existing parent. */
function hostDestination(hostDest: string): Destination {
  const asserts = assertsDir(hostDest);
  let host = resolve(hostDest);
  let st: Stats | undefined;
  for (let n = 0; ; n++) {
    st = lstatOrUndefined(host, hostDest);
    if (!st?.isSymbolicLink()) break;
    if (n >= 10) throw new HakoError('invalid-argument', `too many symlinks in ${hostDest}`);
    const target = readlinkSync(host);
    host = isAbsolute(target) ? target : join(dirname(host), target);
  }
  if (st) {
    if (asserts && !st.isDirectory()) throw new HakoError('invalid-argument', `destination "${hostDest}" is not a directory`);
    return { host, exists: true, isDir: st.isDirectory(), assertsDir: asserts };
  }
  const parent = dirname(host);
  let pst: Stats;
  try {
    pst = statSync(parent);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) throw new HakoError('not-found', `destination directory "${parent}" does not exist`, { cause: err });
    throw systemError(err, `stat ${parent}`);
  }
  if (!pst.isDirectory()) throw new HakoError('invalid-argument', `destination "${parent}" is not a directory`);
  return { host, exists: false, isDir: false, assertsDir: asserts };
}

/** The same in the container: symlinks followed inside TOP; a missing DEST needs an existing parent there. */
function containerDestination(top: string, destPath: string): Destination {
  const asserts = assertsDir(destPath);
  const host = resolveInRoot(top, destPath === '' ? '/' : destPath, { followLast: true });
  const st = lstatOrUndefined(host, destPath);
  if (st) {
    if (asserts && !st.isDirectory()) throw new HakoError('invalid-argument', `destination "${destPath}" is not a directory`);
    return { host, exists: true, isDir: st.isDirectory(), assertsDir: asserts };
  }
  const pst = lstatOrUndefined(dirname(host), destPath);
  if (!pst) throw new HakoError('not-found', `destination directory "${posix.dirname(posix.normalize(`/${destPath}`))}" does not exist in the container`);
  if (!pst.isDirectory()) throw new HakoError('invalid-argument', `destination "${destPath}": ${dirname(host).slice(top.length) || '/'} is not a directory`);
  return { host, exists: false, isDir: false, assertsDir: asserts };
}

function realRoot(root: string): string {
  try {
    return realpathSync(root);
  } catch (err) {
    throw systemError(err, `resolve the container root ${root}`);
  }
}

function lstatOrUndefined(p: string, what: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    if (isErrno(err, 'ENOTDIR')) throw new HakoError('invalid-argument', `"${what}": a component of the path is not a directory`, { cause: err });
    throw systemError(err, `lstat ${p}`);
  }
}
