import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, lchown, link, lstat, lutimes, mkdir, open, symlink, utimes, type FileHandle } from 'node:fs/promises';
import { writeAll } from '../common/fs.ts';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { HakoError, systemError } from '../common/errors.ts';
import { NativeBatch, setxattrOp } from '../storage/hako-mount.ts';
import { LayerTree, type ApplyMode } from './layer-tree.ts';
import { toLayerEntry, type LayerEntry } from './tar-entry.ts';
import { parseWhiteout } from './whiteout.ts';

export type { ApplyMode } from './layer-tree.ts';

export interface ApplyOptions {
  /** 'overlay' (default): `dir` is empty and becomes an overlay lower dir; 'flat': `dir` holds the layers below */
  mode?: ApplyMode;
  /** refuse archives with more entries than this */
  maxEntries?: number;
}

export interface ApplyResult {
  /** sha256 of the uncompressed tar, as the image config's rootfs.diff_ids lists it */
  diffId: string;
  /** bytes of uncompressed tar read */
  size: number;
}

/** Hashes and counts the bytes on their way to the tar parser: one pass over the layer. */
class Digester extends Transform {
  readonly hash = createHash('sha256');
  bytes = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    cb(null, chunk);
  }
}

// O_NOFOLLOW|O_EXCL: a name that exists (even as a dangling symlink) fails instead of being written through.
const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/**
 * Extracts an uncompressed layer tar into `dir` and returns its diff id. Hostile
 * archives are refused with an `invalid-config` HakoError naming the entry, and
 * nothing is written outside `dir` (see LayerTree). What was extracted before an
 * error stays in `dir`: callers apply into a temporary directory.
 */
export async function applyLayer(input: Readable, dir: string, opts: ApplyOptions = {}): Promise<ApplyResult> {
  const digester = new Digester();
  const extract = tar.extract();
  // The first error of the input or the parser: the cause when the loop below only
  // sees its entry stream destroyed.
  let feedError: unknown;
  const feeding = pipeline(input, digester, extract).catch((err: unknown) => {
    feedError ??= err;
  });
  const native = new NativeBatch();
  const tree = new LayerTree(dir, opts.mode ?? 'overlay', native);
  const dirTimes = new Map<string, { atime: number; mtime: number }>();
  let count = 0;
  let current = '';
  try {
    for await (const data of extract) {
      current = data.header.name;
      if (opts.maxEntries !== undefined && ++count > opts.maxEntries) {
        throw new HakoError('invalid-config', `layer has more than ${opts.maxEntries} entries`);
      }
      const entry = toLayerEntry(data.header);
      await applyEntry(tree, native, entry, data as AsyncIterable<Buffer>, dirTimes);
      for await (const _ of data); // the parser waits until each entry's data is read
    }
    current = '';
    await feeding;
    if (feedError) throw feedError;
    // Last, as creating anything in a directory changes its mtime.
    for (const [path, t] of dirTimes) {
      if ((await lstat(path)).isDirectory()) await utimes(path, t.atime, t.mtime);
    }
    await native.close();
  } catch (err) {
    extract.destroy();
    input.destroy();
    await feeding;
    await native.close().catch(() => {});
    throw applyError(err, feedError, current);
  }
  return { diffId: `sha256:${digester.hash.digest('hex')}`, size: digester.bytes };
}

function applyError(err: unknown, feedError: unknown, entry: string): HakoError {
  if (err instanceof HakoError) return err;
  // An fs error of our own has an errno code; anything else came from the stream.
  const ours = typeof (err as NodeJS.ErrnoException)?.errno === 'number';
  const cause = ours ? err : (feedError ?? err);
  if (cause instanceof HakoError) return cause;
  if (!ours && !(cause as NodeJS.ErrnoException)?.code) {
    return new HakoError('invalid-config', `layer is not a valid tar archive: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
  return systemError(cause, entry ? `apply layer entry "${entry}"` : 'apply layer');
}

async function applyEntry(
  tree: LayerTree,
  native: NativeBatch,
  e: LayerEntry,
  data: AsyncIterable<Buffer>,
  dirTimes: Map<string, { atime: number; mtime: number }>,
): Promise<void> {
  const parent = e.parts.slice(0, -1);
  const base = e.parts.at(-1);
  const wh = base === undefined ? undefined : parseWhiteout(base, e.name);
  if (wh) {
    await tree.ensureDir(parent, e.name);
    if (wh.kind === 'opaque') await tree.opaque(parent);
    else if (wh.kind === 'remove') await tree.whiteout(parent, wh.target);
    return;
  }
  await tree.ensureDir(parent, e.name);
  // Resolved before making room: a link to the name it replaces finds nothing.
  const linkTarget = e.kind === 'hardlink' ? await tree.linkTarget(e.linkParts, e.name) : '';
  if (linkTarget && linkTarget === tree.abs(e.parts)) return;
  const isDir = e.kind === 'dir';
  const exists = await tree.makeRoom(e.parts, isDir);
  const path = tree.abs(e.parts);

  switch (e.kind) {
    case 'file': {
      const fh = await open(path, CREATE_FLAGS, 0o600);
      try {
        await writeCoalesced(fh, data);
        await fh.chown(e.uid, e.gid);
        await fh.chmod(e.mode); // after chown, which clears setuid and setgid
        await fh.utimes(e.atime, e.mtime);
      } finally {
        await fh.close();
      }
      break;
    }
    case 'dir':
      if (!exists) await mkdir(path, { mode: 0o700 });
      await lchown(path, e.uid, e.gid);
      await chmod(path, e.mode);
      dirTimes.set(path, { atime: e.atime, mtime: e.mtime });
      break;
    case 'symlink':
      await symlink(e.symlinkTarget, path);
      await lchown(path, e.uid, e.gid);
      break;
    case 'hardlink':
      await link(linkTarget, path); // link(2) does not follow a symlink it is given
      break;
    case 'char':
    case 'block':
    case 'fifo': {
      const type = e.kind === 'char' ? 'c' : e.kind === 'block' ? 'b' : 'p';
      await native.run(['mknod', path, type, String(e.devMajor), String(e.devMinor), e.mode.toString(8), String(e.uid), String(e.gid)]);
      break;
    }
  }
  await tree.created(e.parts, isDir);
  if (e.kind === 'hardlink') return; // the inode already has its owner, mode, times and xattrs
  for (const [name, value] of e.xattrs) await native.run(setxattrOp(path, name, value));
  if (e.kind !== 'file' && e.kind !== 'dir') await lutimes(path, e.atime, e.mtime);
}

const WRITE_BATCH = 1 << 20;

/** The entry's chunks (tens of KiB each) written a MiB at a time: far fewer syscalls and promises. */
async function writeCoalesced(fh: FileHandle, data: AsyncIterable<Buffer>): Promise<void> {
  let batch: Buffer[] = [];
  let size = 0;
  for await (const chunk of data) {
    batch.push(chunk);
    size += chunk.length;
    if (size >= WRITE_BATCH) {
      await writeAll(fh, batch);
      batch = [];
      size = 0;
    }
  }
  if (batch.length) await writeAll(fh, batch);
}

