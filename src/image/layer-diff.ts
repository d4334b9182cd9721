import { createHash } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { lstat, open, readdir, readlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable, Transform, type TransformCallback, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pack, type Header, type Pack } from 'tar-stream';
import { HakoError, isErrno, systemError } from '../common/errors.ts';
import { NativeBatch } from '../storage/hako-mount.ts';
import type { SnapshotDriver } from '../storage/snapshots.ts';
import { OPAQUE_MARKER, WHITEOUT_PREFIX } from './whiteout.ts';

/**
 * A container's changes to its image, the other way round from layer-apply.ts: the
 * list `docker diff` prints, the layer tar `docker commit` stores, and the whole tree
 * `docker export` writes.
 *
 * overlay: the upper directory holds the changes; its whiteouts (0:0 character devices)
 * and opaque directories (trusted.overlay.opaque=y) become `.wh.NAME` and `.wh..wh..opq`.
 * copy: the merged directory is compared with the image's flattened top layer.
 *
 * The container may still be running: its trees are walked through open directory
 * descriptors (/proc/self/fd/N/NAME, which is openat(2)), so a directory swapped for a
 * symlink meanwhile is never followed out of the root, and files are opened O_NOFOLLOW.
 *
 * Extended attributes: Node cannot list them and hako-mount has no listxattr, so of
 * them only security.capability (of regular files) is kept — exactly what Docker's own
 * archive package reads. trusted.overlay.* is overlay's bookkeeping and never kept.
 */

/** Docker's change kinds: 0 modified (C), 1 added (A), 2 deleted (D). */
export type ChangeKind = 0 | 1 | 2;
export interface Change {
  Kind: ChangeKind;
  /** absolute inside the container: `/etc/passwd` */
  Path: string;
}

/** The part of a ContainerLayer (src/storage/snapshots.ts) the diff reads. */
export interface DiffLayer {
  driver: SnapshotDriver;
  /** overlay: the upper directory; copy: the merged directory */
  upper: string;
}

export interface LayerTarResult {
  /** sha256 of the uncompressed tar: the config's rootfs.diff_ids entry */
  diffId: string;
  /** bytes of uncompressed tar */
  size: number;
}

const MODIFIED = 0;
const ADDED = 1;
const DELETED = 2;

const OPAQUE_XATTR = 'trusted.overlay.opaque';
const REDIRECT_XATTR = 'trusted.overlay.redirect';
const KEPT_XATTRS = ['security.capability'];
const ENODATA = 61;
const ENOTSUP = 95;

const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
// O_NONBLOCK: a file swapped for a fifo after lstat must not block the open
const FILE_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * The changes of a container, sorted as Docker walks them (`/a`, `/a/b`, `/a-b`), each
 * directory holding a change reported as modified unless it is itself new.
 * `lowerDirs`, top first: overlay, each image layer's own directory; copy, the image's
 * flattened top layer (Snapshotter.lowerDirs gives both).
 */
export async function containerChanges(layer: DiffLayer, lowerDirs: readonly string[]): Promise<Change[]> {
  const x = new Xattrs();
  try {
    const changes = await collectChanges(layer, lowerDirs, x);
    await x.close();
    return [...changes].sort(([a], [b]) => comparePaths(a, b)).map(([rel, Kind]) => ({ Kind, Path: `/${rel}` }));
  } catch (err) {
    await x.close().catch(() => {});
    throw wrap(err, `changes of ${layer.upper}`);
  }
}

/**
 * The container's changes as an uncompressed OCI layer tar, written to `out` (which is
 * ended). Overlay: the upper directory as it is (Docker's overlay2 Diff); copy: each
 * changed path, its parent directories and a whiteout for each deleted one (Docker's
 * ExportChanges).
 */
export async function writeLayerTar(layer: DiffLayer, lowerDirs: readonly string[], out: Writable): Promise<LayerTarResult> {
  const digester = new Digester();
  await intoTar(out, digester, async (w) => {
    if (layer.driver === 'overlay') {
      await withDir(layer.upper, (root) => overlayTar(w, root, ''));
      return;
    }
    const changes = await collectChanges(layer, lowerDirs, w.x);
    const children = new Map<string, string[]>();
    for (const rel of changes.keys()) {
      const parent = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '';
      children.set(parent, [...(children.get(parent) ?? []), rel.slice(parent ? parent.length + 1 : 0)]);
    }
    await withDir(layer.upper, async (root) => changedTar(w, root, '', (await lstat(layer.upper)).mtime, changes, children));
  });
  return { diffId: `sha256:${digester.hash.digest('hex')}`, size: digester.bytes };
}

/** The whole tree under `dir` as a tar for `export`, written to `out` (which is ended): sorted, no root entry, symlinks stored, never followed. */
export async function exportTree(dir: string, out: Writable): Promise<void> {
  await intoTar(out, new PassThrough(), (w) => withDir(dir, (root) => fullTar(w, root, '')));
}

// ---------------------------------------------------------------------------------------
// Changes

async function collectChanges(layer: DiffLayer, lowerDirs: readonly string[], x: Xattrs): Promise<Map<string, ChangeKind>> {
  let changes: Map<string, ChangeKind>;
  if (layer.driver === 'overlay') {
    changes = new Map();
    const lower = new LowerView(lowerDirs, x);
    await withDir(layer.upper, (root) => overlayChanges(root, [], false, lower, x, changes));
  } else {
    if (lowerDirs.length !== 1) throw new HakoError('invalid-argument', `copy driver: compare with exactly one directory (the image's top layer), got ${lowerDirs.length}`);
    changes = new Map();
    await withDir(layer.upper, (merged) => withDir(lowerDirs[0]!, (lower) => compareTrees(merged, lower, '', changes)));
  }
  // Docker reports the directory of every change, so that a commit keeps its owner and mode.
  for (const rel of [...changes.keys()]) {
    for (let i = rel.indexOf('/'); i > 0; i = rel.indexOf('/', i + 1)) {
      const parent = rel.slice(0, i);
      if (!changes.has(parent)) changes.set(parent, MODIFIED);
    }
  }
  return changes;
}

async function overlayChanges(dir: Dir, parts: string[], opaqueAbove: boolean, lower: LowerView, x: Xattrs, changes: Map<string, ChangeKind>): Promise<void> {
  for (const name of await dir.names()) {
    const st = await dir.stat(name);
    if (!st) continue;
    const p = [...parts, name];
    const rel = p.join('/');
    const below = await lower.lookup(p);
    if (isWhiteout(st)) {
      if (below) changes.set(rel, DELETED);
      continue;
    }
    if (!st.isDirectory()) {
      changes.set(rel, below ? MODIFIED : ADDED);
      continue;
    }
    // Under an opaque directory every directory hides the layers below, marked or not.
    const opaque = opaqueAbove || (await upperDirIsOpaque(dir, name, rel, x));
    if (!below) changes.set(rel, ADDED);
    else if (!below.isDirectory() || opaque || ownerOrModeDiffers(st, below)) changes.set(rel, MODIFIED);
    await dir.sub(name, async (sub) => {
      if (opaque && below?.isDirectory()) {
        const mine = new Set(await sub.names());
        for (const [child, visible] of await lower.children(p)) if (visible && !mine.has(child)) changes.set(`${rel}/${child}`, DELETED);
      }
      await overlayChanges(sub, p, opaque, lower, x, changes);
    });
  }
}

/** Opaque: `trusted.overlay.opaque=y`. A redirected directory (redirect_dir=on, which hako does not mount with) would need the lower tree it names: refused. */
async function upperDirIsOpaque(dir: Dir, name: string, rel: string, x: Xattrs): Promise<boolean> {
  if (await x.get(dir.native(name), REDIRECT_XATTR)) {
    throw new HakoError('unsupported', `/${rel} was renamed by overlayfs with redirect_dir; its changes cannot be listed`);
  }
  return (await x.get(dir.native(name), OPAQUE_XATTR))?.toString() === 'y';
}

/** copy: MERGED against LOWER, as Docker's naive diff does (directories by owner and mode only: their size and time say nothing). */
async function compareTrees(merged: Dir, lower: Dir, rel: string, changes: Map<string, ChangeKind>): Promise<void> {
  const names = [...new Set([...(await merged.names()), ...(await lower.names())])].sort(compareNames);
  for (const name of names) {
    const r = rel ? `${rel}/${name}` : name;
    const m = await merged.stat(name);
    const l = await lower.stat(name);
    if (!m) {
      if (l) changes.set(r, DELETED);
      continue;
    }
    if (l && m.isDirectory() && l.isDirectory()) {
      if (ownerOrModeDiffers(m, l)) changes.set(r, MODIFIED);
      await merged.sub(name, (ms) => lower.sub(name, (ls) => compareTrees(ms, ls, r, changes)));
      continue;
    }
    if (!l) changes.set(r, ADDED);
    else if (await entryDiffers(merged, lower, name, m, l)) changes.set(r, MODIFIED);
    else continue;
    if (m.isDirectory()) await merged.sub(name, (ms) => allAdded(ms, r, changes));
  }
}

async function allAdded(dir: Dir, rel: string, changes: Map<string, ChangeKind>): Promise<void> {
  for (const name of await dir.names()) {
    const st = await dir.stat(name);
    if (!st) continue;
    changes.set(`${rel}/${name}`, ADDED);
    if (st.isDirectory()) await dir.sub(name, (sub) => allAdded(sub, `${rel}/${name}`, changes));
  }
}

function ownerOrModeDiffers(a: Stats, b: Stats): boolean {
  return a.mode !== b.mode || a.uid !== b.uid || a.gid !== b.gid;
}

async function entryDiffers(ad: Dir, bd: Dir, name: string, a: Stats, b: Stats): Promise<boolean> {
  if (ownerOrModeDiffers(a, b) || a.rdev !== b.rdev || a.size !== b.size || a.mtimeMs !== b.mtimeMs) return true;
  return a.isSymbolicLink() && (await readlink(ad.at(name))) !== (await readlink(bd.at(name)));
}

/**
 * The image's layers as overlayfs merges them, for "did this path exist before?". The
 * layer directories are hako's own: plain paths are safe here.
 */
class LowerView {
  private readonly layers: readonly string[];
  private readonly x: Xattrs;
  private readonly opaqueCache = new Map<string, boolean>();

  constructor(layers: readonly string[], x: Xattrs) {
    this.layers = layers;
    this.x = x;
  }

  /** What the container saw at PATH before its own changes, or undefined. */
  async lookup(parts: readonly string[]): Promise<Stats | undefined> {
    return (await this.holders(parts))[0]?.st;
  }

  /** The names in directory PATH before the container's changes; false: whited out. */
  async children(parts: readonly string[]): Promise<Map<string, boolean>> {
    const seen = new Map<string, boolean>();
    for (const h of await this.holders(parts)) {
      if (!h.st.isDirectory()) break;
      for (const name of await readdir(h.path)) {
        if (!seen.has(name)) seen.set(name, !isWhiteout(await lstat(join(h.path, name))));
      }
    }
    return seen;
  }

  /** The layers that hold PATH, top first, down to the first that hides the rest (a whiteout, a non-directory, an opaque directory). */
  private async holders(parts: readonly string[]): Promise<{ path: string; st: Stats }[]> {
    const out: { path: string; st: Stats }[] = [];
    for (let i = 0; i < this.layers.length; i++) {
      const layer = this.layers[i]!;
      let hidesBelow = false;
      let present = true;
      for (let k = 0; k < parts.length; k++) {
        const rel = parts.slice(0, k).join('/');
        if (k > 0) {
          const st = await lstatOrUndefined(join(layer, rel));
          if (!st) {
            present = false;
            break;
          }
          if (!st.isDirectory()) return out; // a whiteout or a file hides what lies below it
        }
        if (await this.opaque(i, rel)) hidesBelow = true;
      }
      if (present) {
        const path = join(layer, ...parts);
        const st = await lstatOrUndefined(path);
        if (st) {
          if (isWhiteout(st)) return out;
          out.push({ path, st });
          if (!st.isDirectory() || (await this.opaque(i, parts.join('/')))) return out;
        }
      }
      if (hidesBelow) return out;
    }
    return out;
  }

  private async opaque(i: number, rel: string): Promise<boolean> {
    const key = `${i}/${rel}`;
    let v = this.opaqueCache.get(key);
    if (v === undefined) {
      v = (await this.x.get(rel ? join(this.layers[i]!, rel) : this.layers[i]!, OPAQUE_XATTR))?.toString() === 'y';
      this.opaqueCache.set(key, v);
    }
    return v;
  }
}

// ---------------------------------------------------------------------------------------
// Tars

async function overlayTar(w: TarOut, dir: Dir, rel: string): Promise<void> {
  for (const name of await dir.names()) {
    const st = await dir.stat(name);
    if (!st) continue;
    const r = rel ? `${rel}/${name}` : name;
    if (isWhiteout(st)) {
      // Docker's overlay whiteout converter: the device's owner and time, mode 0600
      await w.entry({ name: whiteoutName(rel, name), type: 'file', mode: 0o600, uid: st.uid, gid: st.gid, mtime: st.mtime, size: 0 });
      continue;
    }
    await w.add(dir, name, r, st);
    if (!st.isDirectory()) continue;
    if (await upperDirIsOpaque(dir, name, r, w.x)) {
      await w.entry({ name: `${r}/${OPAQUE_MARKER}`, type: 'file', mode: st.mode & 0o777, uid: st.uid, gid: st.gid, mtime: st.mtime, size: 0 });
    }
    await dir.sub(name, (sub) => overlayTar(w, sub, r));
  }
}

async function changedTar(w: TarOut, dir: Dir, rel: string, dirTime: Date, changes: Map<string, ChangeKind>, children: Map<string, string[]>): Promise<void> {
  for (const name of (children.get(rel) ?? []).sort(compareNames)) {
    const r = rel ? `${rel}/${name}` : name;
    if (changes.get(r) === DELETED) {
      await w.entry({ name: whiteoutName(rel, name), type: 'file', mode: 0o600, uid: 0, gid: 0, mtime: dirTime, size: 0 });
      continue;
    }
    const st = await dir.stat(name);
    if (!st) continue; // gone since the comparison: a running container
    await w.add(dir, name, r, st);
    if (st.isDirectory() && children.has(r)) await dir.sub(name, (sub) => changedTar(w, sub, r, st.mtime, changes, children));
  }
}

async function fullTar(w: TarOut, dir: Dir, rel: string): Promise<void> {
  for (const name of await dir.names()) {
    const st = await dir.stat(name);
    if (!st) continue;
    const r = rel ? `${rel}/${name}` : name;
    await w.add(dir, name, r, st);
    if (st.isDirectory()) await dir.sub(name, (sub) => fullTar(w, sub, r));
  }
}

function whiteoutName(dirRel: string, name: string): string {
  return dirRel ? `${dirRel}/${WHITEOUT_PREFIX}${name}` : `${WHITEOUT_PREFIX}${name}`;
}

/** Packs what FILL adds into OUT through VIA; on an error the streams are torn down, never left half-open. */
async function intoTar(out: Writable, via: Transform, fill: (w: TarOut) => Promise<void>): Promise<void> {
  const x = new Xattrs();
  const w = new TarOut(x);
  const done = pipeline(w.pack, via, out);
  try {
    await fill(w);
    w.pack.finalize();
    await done;
    await x.close();
  } catch (err) {
    w.pack.destroy(err as Error);
    await done.catch(() => {});
    await x.close().catch(() => {});
    throw wrap(err, `write a tar of ${w.current ? `/${w.current}` : 'the root'}`);
  }
}

type Entry = Partial<Header> & Pick<Header, 'name'>;

/** Writes entries one at a time (each finished before the next: raw PAX blocks go in between). */
class TarOut {
  readonly pack: Pack = pack();
  readonly x: Xattrs;
  /** the path being written, for messages */
  current = '';
  /** dev:ino of files with more than one link → the name they were first written under */
  private readonly links = new Map<string, string>();

  constructor(x: Xattrs) {
    this.x = x;
  }

  /** The entry for REL (NAME in DIR): its own data only, never a directory's contents. */
  async add(dir: Dir, name: string, rel: string, st: Stats): Promise<void> {
    this.current = rel;
    const h: Entry = { name: rel, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime, size: 0 };
    if (st.isDirectory()) return this.entry({ ...h, name: `${rel}/`, type: 'directory' });
    if (st.isSymbolicLink()) return this.entry({ ...h, type: 'symlink', linkname: await readlink(dir.at(name)) });
    if (st.isFIFO()) return this.entry({ ...h, type: 'fifo' });
    if (st.isCharacterDevice() || st.isBlockDevice()) {
      const type = st.isCharacterDevice() ? 'character-device' : 'block-device';
      return this.entry({ ...h, type, devmajor: devMajor(st.rdev), devminor: devMinor(st.rdev) });
    }
    if (!st.isFile()) return; // a socket: tar has no type for it (Docker skips them too)
    if (st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = this.links.get(key);
      if (first !== undefined) return this.entry({ ...h, type: 'link', linkname: first });
      this.links.set(key, rel);
    }
    const xattrs = new Map<string, Buffer>();
    for (const attr of KEPT_XATTRS) {
      const v = await this.x.get(dir.native(name), attr);
      if (v) xattrs.set(attr, v);
    }
    let fh: FileHandle;
    try {
      fh = await open(dir.at(name), FILE_FLAGS);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return; // deleted since the walk saw it: a running container
      throw err;
    }
    try {
      const now = await fh.stat();
      if (!now.isFile() || now.ino !== st.ino) throw new HakoError('invalid-state', `/${rel} was replaced while it was being read`);
      await this.entry({ ...h, type: 'file', size: now.size }, xattrs, Readable.from(readExactly(fh, now.size, rel)));
    } finally {
      await fh.close();
    }
  }

  /** One entry; PAX records for what the ustar header cannot hold. */
  async entry(h: Entry, xattrs: ReadonlyMap<string, Buffer> = new Map(), body?: Readable): Promise<void> {
    const pax: Record<string, Buffer> = {};
    for (const [k, v] of xattrs) pax[`SCHILY.xattr.${k}`] = v;
    for (const key of ['uid', 'gid'] as const) {
      if (h[key]! > MAX_OCTAL_6) {
        pax[key] = Buffer.from(String(h[key]));
        h[key] = 0;
      }
    }
    const secs = Math.floor(h.mtime!.getTime() / 1000);
    if (secs < 0 || secs > 0x7fff_ffff) {
      pax['mtime'] = Buffer.from(String(secs)); // tar-stream's header field wraps at 2038
      h.mtime = new Date(0);
    }
    if ((h.devmajor ?? 0) > MAX_OCTAL_6 || (h.devminor ?? 0) > MAX_OCTAL_6) {
      throw new HakoError('unsupported', `/${this.current}: device number ${h.devmajor}:${h.devminor} does not fit in a tar header`);
    }
    if (Object.values(pax).some((v) => !isUtf8(v))) {
      // tar-stream writes PAX values as UTF-8 strings; a binary capability needs its own block
      await this.rawPax({ path: Buffer.from(h.name), ...(h.linkname ? { linkpath: Buffer.from(h.linkname) } : {}), ...pax }, h.mtime!);
      h.name = 'PaxHeader';
      if (h.linkname) h.linkname = 'PaxHeader';
    } else if (Object.keys(pax).length) {
      h.pax = Object.fromEntries(Object.entries(pax).map(([k, v]) => [k, v.toString('utf8')]));
    }
    if (body) {
      await pipeline(body, this.pack.entry(h));
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (h.type === 'file') this.pack.entry(h, Buffer.alloc(0), cb);
      else this.pack.entry(h, cb);
    });
  }

  /** A PAX extended header ('x') with binary values, pushed while no entry is open. */
  private async rawPax(records: Record<string, Buffer>, mtime: Date): Promise<void> {
    const body = Buffer.concat(Object.entries(records).map(([k, v]) => paxRecord(k, v)));
    const head = Buffer.alloc(512);
    head.write('PaxHeader', 0);
    head.write('0000644\0', 100);
    head.write('0000000\0', 108);
    head.write('0000000\0', 116);
    head.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124);
    head.write(`${Math.max(0, Math.floor(mtime.getTime() / 1000)).toString(8).padStart(11, '0')}\0`, 136);
    head.write('x', 156);
    head.write('ustar\x0000', 257);
    head.fill(' ', 148, 156);
    let sum = 0;
    for (const b of head) sum += b;
    head.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    const pad = Buffer.alloc((512 - (body.length % 512)) % 512);
    this.pack.push(Buffer.concat([head, body, pad]));
  }
}

const MAX_OCTAL_6 = 0o777777;

/** `LEN KEY=VALUE\n`, LEN counting itself. */
function paxRecord(key: string, value: Buffer): Buffer {
  const rest = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let len = rest.length + 1;
  while (String(len).length + rest.length !== len) len = String(len).length + rest.length;
  return Buffer.concat([Buffer.from(String(len)), rest]);
}

function isUtf8(b: Buffer): boolean {
  return Buffer.from(b.toString('utf8'), 'utf8').equals(b);
}

/** SIZE bytes from the start of FH: the size the header already promised. */
async function* readExactly(fh: FileHandle, size: number, rel: string): AsyncGenerator<Buffer> {
  let pos = 0;
  while (pos < size) {
    const buf = Buffer.alloc(Math.min(1 << 20, size - pos));
    const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
    if (bytesRead === 0) throw new HakoError('invalid-state', `/${rel} shrank while it was being read`);
    pos += bytesRead;
    yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
  }
}

/** Hashes and counts what passes: the layer's diff id in the same pass. */
class Digester extends Transform {
  readonly hash = createHash('sha256');
  bytes = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    cb(null, chunk);
  }
}

// ---------------------------------------------------------------------------------------
// File system

/** An open directory of a tree that may change under us; its entries are reached through the descriptor. */
class Dir {
  private readonly fh: FileHandle;

  private constructor(fh: FileHandle) {
    this.fh = fh;
  }

  static async open(path: string): Promise<Dir> {
    return new Dir(await open(path, DIR_FLAGS));
  }

  /** NAME in this directory, for this process's own calls. */
  at(name: string): string {
    return `/proc/self/fd/${this.fh.fd}/${name}`;
  }

  /** NAME in this directory, for the hako-mount helper (another process). */
  native(name: string): string {
    return `/proc/${process.pid}/fd/${this.fh.fd}/${name}`;
  }

  async names(): Promise<string[]> {
    return (await readdir(`/proc/self/fd/${this.fh.fd}`)).sort(compareNames);
  }

  /** lstat; undefined when NAME is gone (a running container deletes files). */
  stat(name: string): Promise<Stats | undefined> {
    return lstatOrUndefined(this.at(name));
  }

  /** Runs FN on subdirectory NAME, opened without following a symlink; nothing if it is gone meanwhile. */
  async sub<T>(name: string, fn: (d: Dir) => Promise<T>): Promise<T | undefined> {
    let d: Dir;
    try {
      d = await Dir.open(this.at(name));
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw err;
    }
    try {
      return await fn(d);
    } finally {
      await d.fh.close();
    }
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

async function withDir<T>(path: string, fn: (d: Dir) => Promise<T>): Promise<T> {
  const d = await Dir.open(path);
  try {
    return await fn(d);
  } finally {
    await d.close();
  }
}

/** lgetxattr through hako-mount's batch mode: one helper process per walk. */
class Xattrs {
  private readonly native = new NativeBatch();

  async get(path: string, name: string): Promise<Buffer | undefined> {
    try {
      const out = await this.native.run(['getxattr', path, name]);
      return Buffer.from(out.slice(2), 'hex');
    } catch (err) {
      if (err instanceof HakoError && (err.errno === ENODATA || err.errno === ENOTSUP)) return undefined;
      throw err;
    }
  }

  close(): Promise<void> {
    return this.native.close();
  }
}

async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
}

function isWhiteout(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

// glibc's gnu_dev_major/minor
function devMajor(rdev: number): number {
  return ((rdev >>> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
}

function devMinor(rdev: number): number {
  return (rdev & 0xff) | ((rdev >>> 12) & ~0xff);
}

/** Byte order of the UTF-8 names, as Go's filepath.Walk. */
function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** Walk order: component by component ('/' sorts before every other byte). */
export function comparePaths(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a.replaceAll('/', '\0')), Buffer.from(b.replaceAll('/', '\0')));
}

function wrap(err: unknown, what: string): HakoError {
  return err instanceof HakoError ? err : systemError(err, what);
}
