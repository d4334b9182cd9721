import { constants } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar, { type Header } from 'tar-stream';
import { HakoError, systemError } from '../common/errors.ts';

/**
 * What `docker cp` moves, whichever way: entries of a file tree, read from a directory
 * walk or a tar stream, written to a directory or a tar stream.
 */

export type CpKind = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';

export interface CpEntry {
  /** path below the directory it is extracted into; [] is that directory itself ("." in a tar) */
  parts: string[];
  kind: CpKind;
  /** permission bits with setuid, setgid and sticky */
  mode: number;
  uid: number;
  gid: number;
  /** seconds since the epoch, with fractions */
  mtime: number;
  atime: number;
  size: number;
  /** a symlink's target, verbatim */
  symlinkTarget: string;
  /** a hard link's target, as a path below the same directory as `parts` */
  linkParts: string[];
  devMajor: number;
  devMinor: number;
  /** a file's content (read it before asking for the next entry) */
  body?: () => AsyncIterable<Buffer>;
}

/**
 * A tar name as Docker's Untar reads it: cleaned, an absolute name taken as relative
 * to the destination (a ".." at its top is dropped, as Go's filepath.Clean does), and a
 * relative name that climbs above the destination refused.
 */
export function cleanName(name: string, what = 'tar entry'): string[] {
  if (name.includes('\0')) throw new HakoError('invalid-argument', `${what} "${name}": the name contains a NUL byte`);
  const absolute = name.startsWith('/');
  const parts: string[] = [];
  for (const p of name.split('/')) {
    if (p === '' || p === '.') continue;
    if (p !== '..') parts.push(p);
    else if (parts.length) parts.pop();
    else if (!absolute) throw new HakoError('invalid-argument', `${what} "${name}" is outside of the destination directory`);
  }
  return parts;
}

const NO_FOLLOW_READ = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * PATH and, for a directory, everything below it, named from PARTS; symlinks are
 * entries, never followed. Files with several links become one file and hard links to
 * it, as tar does. Sockets are skipped (tar cannot hold them).
 */
export async function* walkTree(path: string, parts: string[]): AsyncGenerator<CpEntry> {
  const seen = new Map<string, string[]>();
  yield* walk(path, parts, seen);
}

async function* walk(path: string, parts: string[], seen: Map<string, string[]>): AsyncGenerator<CpEntry> {
  const st = await lstat(path, { bigint: true }).catch((err: unknown) => {
    throw systemError(err, `lstat ${path}`);
  });
  const base: CpEntry = {
    parts,
    kind: 'file',
    mode: Number(st.mode & 0o7777n),
    uid: Number(st.uid),
    gid: Number(st.gid),
    mtime: nsToSeconds(st.mtimeNs),
    atime: nsToSeconds(st.atimeNs),
    size: 0,
    symlinkTarget: '',
    linkParts: [],
    devMajor: 0,
    devMinor: 0,
  };
  if (st.isDirectory()) {
    yield { ...base, kind: 'dir' };
    const names = await readdir(path).catch((err: unknown) => {
      throw systemError(err, `read directory ${path}`);
    });
    for (const name of names.sort()) yield* walk(`${path}/${name}`, [...parts, name], seen);
    return;
  }
  if (st.isSymbolicLink()) {
    yield { ...base, kind: 'symlink', symlinkTarget: await readlink(path) };
    return;
  }
  if (st.isSocket()) return;
  if (st.nlink > 1n) {
    const key = `${st.dev}:${st.ino}`;
    const first = seen.get(key);
    if (first) {
      yield { ...base, kind: 'hardlink', linkParts: first };
      return;
    }
    seen.set(key, parts);
  }
  if (st.isFIFO() || st.isCharacterDevice() || st.isBlockDevice()) {
    const kind = st.isFIFO() ? 'fifo' : st.isCharacterDevice() ? 'char' : 'block';
    // glibc's major()/minor() bit layout
    const r = st.rdev;
    const devMajor = Number(((r >> 8n) & 0xfffn) | ((r >> 32n) & 0xfffff000n));
    const devMinor = Number((r & 0xffn) | ((r >> 12n) & 0xffffff00n));
    yield { ...base, kind, devMajor: st.isFIFO() ? 0 : devMajor, devMinor: st.isFIFO() ? 0 : devMinor };
    return;
  }
  const size = Number(st.size);
  yield { ...base, kind: 'file', size, body: () => readExactly(path, size) };
}

function nsToSeconds(ns: bigint): number {
  return Number(ns / 1000n) / 1e6;
}

/**
 * SIZE bytes of PATH (the size seen by lstat: a file growing meanwhile is cut there,
 * as tar does). O_NOFOLLOW: the name was a file when walked, a symlink now is refused.
 */
async function* readExactly(path: string, size: number): AsyncGenerator<Buffer> {
  const fh = await open(path, NO_FOLLOW_READ).catch((err: unknown) => {
    throw systemError(err, `open ${path}`);
  });
  try {
    let pos = 0;
    while (pos < size) {
      const want = Math.min(size - pos, 256 * 1024);
      const buf = Buffer.allocUnsafe(want);
      const { bytesRead } = await fh.read(buf, 0, want, pos);
      if (bytesRead === 0) throw new HakoError('invalid-state', `${path} shrank while being copied`);
      pos += bytesRead;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}

const TAR_KINDS: Record<string, CpKind> = {
  file: 'file',
  'contiguous-file': 'file',
  directory: 'dir',
  symlink: 'symlink',
  link: 'hardlink',
  'character-device': 'char',
  'block-device': 'block',
  fifo: 'fifo',
};

/** The entries of a tar stream (uncompressed, as `docker cp -` takes it). */
export async function* tarEntries(input: Readable): AsyncGenerator<CpEntry> {
  const extract = tar.extract();
  let feedError: unknown;
  const feeding = pipeline(input, extract).catch((err: unknown) => {
    feedError ??= err;
  });
  let finished = false;
  try {
    for await (const data of extract) {
      const entry = fromHeader(data.header);
      if (entry.kind === 'file') entry.body = () => data as AsyncIterable<Buffer>;
      yield entry;
      for await (const _ of data); // the parser waits until each entry's data is read
    }
    await feeding;
    finished = true;
  } catch (err) {
    if (err instanceof HakoError || typeof (err as NodeJS.ErrnoException)?.errno === 'number') throw err;
    const cause = feedError ?? err;
    throw notTar(cause);
  } finally {
    // Also when the consumer stops early (an entry it could not write): stop reading the input.
    if (!finished) {
      extract.destroy();
      input.destroy();
      await feeding;
    }
  }
  if (feedError) throw notTar(feedError);
}

function notTar(cause: unknown): HakoError {
  return new HakoError('invalid-argument', `the input is not a valid tar archive: ${(cause as Error)?.message ?? String(cause)}`, { cause });
}

function paxNumber(pax: Record<string, string>, key: string): number | undefined {
  const v = pax[key];
  const n = v === undefined || v.trim() === '' ? NaN : Number(v);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

function fromHeader(h: Header): CpEntry {
  const kind = h.type ? TAR_KINDS[h.type] : undefined;
  if (!kind) throw new HakoError('invalid-argument', `tar entry "${h.name}": unsupported entry type ${h.type ?? 'unknown'}`);
  const pax = (h.pax ?? {}) as Record<string, string>;
  const mtime = paxNumber(pax, 'mtime') ?? (h.mtime ? h.mtime.getTime() / 1000 : 0);
  const id = (n: number | undefined) => (n !== undefined && Number.isSafeInteger(n) && n >= 0 && n < 0xffff_ffff ? n : 0);
  const entry: CpEntry = {
    parts: cleanName(h.name),
    kind,
    mode: (h.mode ?? 0) & 0o7777,
    uid: id(paxNumber(pax, 'uid') ?? h.uid),
    gid: id(paxNumber(pax, 'gid') ?? h.gid),
    mtime,
    atime: Math.max(paxNumber(pax, 'atime') ?? mtime, mtime),
    size: h.size ?? 0,
    symlinkTarget: '',
    linkParts: [],
    devMajor: h.devmajor ?? 0,
    devMinor: h.devminor ?? 0,
  };
  if (kind === 'symlink') {
    entry.symlinkTarget = h.linkname ?? '';
    if (!entry.symlinkTarget || entry.symlinkTarget.includes('\0')) throw new HakoError('invalid-argument', `tar entry "${h.name}": bad symlink target`);
  }
  if (kind === 'hardlink') {
    entry.linkParts = cleanName(h.linkname ?? '', `hard link "${h.name}" to`);
    if (!entry.linkParts.length) throw new HakoError('invalid-argument', `tar entry "${h.name}": hard link to the destination directory itself`);
  }
  if (!entry.parts.length && kind !== 'dir') throw new HakoError('invalid-argument', `tar entry "${h.name}": a ${kind} cannot replace the destination directory`);
  return entry;
}

const TAR_TYPES: Record<CpKind, Header['type']> = {
  file: 'file',
  dir: 'directory',
  symlink: 'symlink',
  hardlink: 'link',
  char: 'character-device',
  block: 'block-device',
  fifo: 'fifo',
};

/** ENTRIES as a tar stream into OUT (left open when it is the process's stdout). */
export async function packEntries(entries: AsyncIterable<CpEntry>, out: Writable): Promise<void> {
  const pack = tar.pack();
  const done = pipeline(pack, out, { end: out !== process.stdout });
  try {
    for await (const e of entries) {
      const name = e.parts.length ? e.parts.join('/') : '.';
      const header = {
        name: e.kind === 'dir' ? `${name}/` : name,
        type: TAR_TYPES[e.kind],
        // tar-stream replaces a mode of 0 by its default; a bit above 0o7777 (masked off when
        // encoded) keeps a file with no permissions at 000
        mode: e.mode | 0o100000,
        uid: e.uid,
        gid: e.gid,
        mtime: new Date(Math.floor(e.mtime) * 1000),
        size: e.kind === 'file' ? e.size : 0,
        linkname: e.kind === 'symlink' ? e.symlinkTarget : e.kind === 'hardlink' ? e.linkParts.join('/') : '',
        devmajor: e.devMajor,
        devminor: e.devMinor,
      };
      await new Promise<void>((resolve, reject) => {
        const sink = pack.entry(header, (err) => (err ? reject(err) : resolve()));
        if (e.kind === 'file' && e.body) pipeline(Readable.from(e.body()), sink).catch(reject);
        else sink.end(null);
      });
    }
    pack.finalize();
    await done;
  } catch (err) {
    pack.destroy(err as Error);
    await done.catch(() => {});
    throw err;
  }
}
