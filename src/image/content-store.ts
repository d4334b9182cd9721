import { randomBytes, type Hash } from 'node:crypto';
import { closeSync, createReadStream, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, type ReadStream } from 'node:fs';
import { open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { HakoError, isErrno, systemError } from '../common/errors.ts';
import { writeAll } from '../common/fs.ts';
import { DEFAULT_ALGORITHM, newHash, parseDigest, quote, type Algorithm } from './digest.ts';

/** What the caller knows about a blob before it arrives (from a descriptor). */
export interface Expected {
  digest?: string;
  size?: number;
}

export interface BlobInfo {
  digest: string;
  size: number;
}

/** Reads into memory are bounded: a manifest or config is small; a layer is streamed. */
/**
 * Called with the verified digest just before the blob becomes visible: a caller takes
 * its lease on the blob here, so that a concurrent prune never sees it unclaimed.
 */
export type BeforeCommit = (digest: string) => void;

export const DEFAULT_MAX_READ = 16 * 1024 * 1024;

/** The content did not match its descriptor: a bad download or a lying source. */
export class ContentMismatchError extends HakoError {
  readonly expected: string | number;
  readonly actual: string | number;

  constructor(message: string, expected: string | number, actual: string | number) {
    super('invalid-argument', message);
    this.expected = expected;
    this.actual = actual;
  }
}

function checkExpected(e: Expected | undefined): Expected {
  if (!e) return {};
  if (e.digest !== undefined) parseDigest(e.digest, 'expected digest');
  if (e.size !== undefined && !(Number.isSafeInteger(e.size) && e.size >= 0)) {
    throw new HakoError('invalid-argument', `expected size must be a non-negative integer, got ${quote(e.size)}`);
  }
  return e;
}

/** fsyncs a directory so a rename into it survives a crash. */
function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Blobs by digest under root/blobs/<alg>/<hex>. Every blob arrives through a writer: it
 * is written to root/ingest/<random>, hashed on the way, checked against what was
 * expected, fsynced and only then renamed into place, so a blob that exists is complete
 * and correct. Writers of the same blob (in any number of processes) do not conflict:
 * each has its own temp file, the rename is atomic and the contents are identical.
 */
export class ContentStore {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  /** The file of a blob. The digest is validated, so the path cannot leave the store. */
  path(digest: string): string {
    const { algorithm, hex } = parseDigest(digest);
    return join(this.root, 'blobs', algorithm, hex);
  }

  has(digest: string): boolean {
    return this.statBlob(digest) !== undefined;
  }

  info(digest: string): BlobInfo {
    const st = this.statBlob(digest);
    if (!st) throw notFound(digest);
    return { digest, size: st.size };
  }

  size(digest: string): number {
    return this.info(digest).size;
  }

  /** Writes `source` as a blob and returns its digest and size; see BlobWriter. */
  async ingest(source: AsyncIterable<Uint8Array | string> | Uint8Array, expected?: Expected, beforeCommit?: BeforeCommit): Promise<BlobInfo> {
    const writer = await this.writer(expected, beforeCommit);
    try {
      if (source instanceof Uint8Array) await writer.write(source);
      else for await (const chunk of source) await writer.write(chunk);
    } catch (err) {
      await writer.abort();
      if (err instanceof HakoError) throw err;
      const what = `ingest blob${expected?.digest ? ` ${expected.digest}` : ''}`;
      if ((err as NodeJS.ErrnoException)?.code) throw systemError(err, what);
      throw new HakoError('system', `${what}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
    }
    return writer.commit();
  }

  /**
   * Opens a writer for streaming use (e.g. a pull that also feeds a decompressor). It
   * hashes with the expected digest's algorithm (sha256 if none), and stops as soon as
   * more bytes arrive than the expected size allows.
   */
  async writer(expected?: Expected, beforeCommit?: BeforeCommit): Promise<BlobWriter> {
    const exp = checkExpected(expected);
    const algorithm = exp.digest ? parseDigest(exp.digest).algorithm : DEFAULT_ALGORITHM;
    const dir = join(this.root, 'ingest');
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw systemError(err, `create ${dir}`);
    }
    const tmp = join(dir, randomBytes(16).toString('hex'));
    let handle: FileHandle;
    try {
      handle = await open(tmp, 'wx', 0o444);
    } catch (err) {
      throw systemError(err, `create ${tmp}`);
    }
    return new BlobWriter(this, tmp, handle, algorithm, exp, beforeCommit);
  }

  /** The whole blob in memory; refuses blobs larger than maxBytes. */
  /**
   * A writer for a download that may be cut off and resumed, even by a later process:
   * its temp file is named for the digest (root/ingest/partial-ALG-HEX) and kept when
   * the writer is suspended. It starts where the file ends, hashing what is there.
   * Callers must hold the blob's lock (MetadataStore.lock): one writer per digest.
   */
  async partialWriter(expected: { digest: string; size?: number }, beforeCommit?: BeforeCommit): Promise<PartialWriter> {
    const exp = checkExpected(expected);
    const { algorithm, hex } = parseDigest(expected.digest);
    const dir = join(this.root, 'ingest');
    const file = join(dir, `partial-${algorithm}-${hex}`);
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const handle = await open(file, 'a+', 0o444);
      const hash = newHash(algorithm);
      let size = (await handle.stat()).size;
      if (exp.size !== undefined && size > exp.size) {
        await handle.truncate(0);
        size = 0;
      }
      const buf = Buffer.allocUnsafe(1 << 20);
      for (let pos = 0; pos < size; ) {
        const { bytesRead } = await handle.read(buf, 0, Math.min(buf.length, size - pos), pos);
        if (bytesRead === 0) break;
        hash.update(buf.subarray(0, bytesRead));
        pos += bytesRead;
      }
      return new PartialWriter(this, file, handle, hash, size, algorithm, exp, beforeCommit);
    } catch (err) {
      throw systemError(err, `open ${file}`);
    }
  }

  read(digest: string, maxBytes = DEFAULT_MAX_READ): Buffer {
    const file = this.path(digest);
    const size = this.info(digest).size;
    if (size > maxBytes) {
      throw new HakoError('invalid-argument', `blob ${digest} is ${size} bytes, more than the ${maxBytes} allowed here`);
    }
    try {
      return readFileSync(file);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw notFound(digest);
      throw systemError(err, `read ${file}`);
    }
  }

  readJson(digest: string, maxBytes = DEFAULT_MAX_READ): unknown {
    const data = this.read(digest, maxBytes);
    try {
      return JSON.parse(data.toString('utf8'));
    } catch (err) {
      throw new HakoError('invalid-config', `blob ${digest}: invalid JSON: ${(err as Error).message}`);
    }
  }

  createReadStream(digest: string): ReadStream {
    const file = this.path(digest);
    this.info(digest); // a missing blob is a not-found error now, not an 'error' event later
    return createReadStream(file);
  }

  /** Re-hashes a stored blob: false if it no longer matches its name (disk damage). */
  async verify(digest: string): Promise<boolean> {
    const { algorithm } = parseDigest(digest);
    const hash = newHash(algorithm);
    for await (const chunk of this.createReadStream(digest)) hash.update(chunk as Buffer);
    return `${algorithm}:${hash.digest('hex')}` === digest;
  }

  /** Removes a blob; false if it was not there. */
  delete(digest: string): boolean {
    const file = this.path(digest);
    try {
      rmSync(file);
      return true;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return false;
      throw systemError(err, `remove ${file}`);
    }
  }

  /** All stored digests, sorted. Stray files that are not blobs are ignored. */
  list(): string[] {
    const out: string[] = [];
    for (const alg of ['sha256', 'sha512'] as const) {
      let names: string[];
      try {
        names = readdirSync(join(this.root, 'blobs', alg));
      } catch (err) {
        if (isErrno(err, 'ENOENT')) continue;
        throw systemError(err, `list ${join(this.root, 'blobs', alg)}`);
      }
      const re = alg === 'sha256' ? /^[0-9a-f]{64}$/ : /^[0-9a-f]{128}$/;
      for (const n of names) if (re.test(n)) out.push(`${alg}:${n}`);
    }
    return out.sort();
  }

  /**
   * Removes temp files left by writers that died (a crash, a kill -9). Only files older
   * than maxAgeMs go, so a slow ingest in another process is not cut off.
   */
  pruneIngest(maxAgeMs = 24 * 3600 * 1000): number {
    const dir = join(this.root, 'ingest');
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return 0;
      throw systemError(err, `list ${dir}`);
    }
    let removed = 0;
    const cutoff = Date.now() - maxAgeMs;
    for (const n of names) {
      try {
        if (statSync(join(dir, n)).mtimeMs < cutoff) {
          rmSync(join(dir, n), { force: true });
          removed++;
        }
      } catch {
        // gone meanwhile: its writer finished
      }
    }
    return removed;
  }

  private statBlob(digest: string): { size: number } | undefined {
    const file = this.path(digest);
    try {
      const st = statSync(file);
      return st.isFile() ? st : undefined;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw systemError(err, `stat ${file}`);
    }
  }
}

function notFound(digest: string): HakoError {
  return new HakoError('not-found', `blob ${digest} is not in the content store`);
}

/**
 * One blob on its way in. write() any number of times, then commit() (verify, fsync,
 * rename) or abort(). Any failure removes the temp file; nothing partial is ever visible.
 */
export class BlobWriter {
  readonly algorithm: Algorithm;
  protected readonly store: ContentStore;
  protected readonly tmp: string;
  protected readonly handle: FileHandle;
  private readonly hash: Hash;
  private readonly expected: Expected;
  private readonly beforeCommit: BeforeCommit | undefined;
  private written: number;
  protected state: 'open' | 'committed' | 'aborted' | 'suspended' = 'open';

  /** HASH and SIZE: what the temp file already holds (a resumed download). */
  constructor(store: ContentStore, tmp: string, handle: FileHandle, algorithm: Algorithm, expected: Expected, beforeCommit?: BeforeCommit, start?: { hash: Hash; size: number }) {
    this.beforeCommit = beforeCommit;
    this.store = store;
    this.tmp = tmp;
    this.handle = handle;
    this.algorithm = algorithm;
    this.hash = start?.hash ?? newHash(algorithm);
    this.written = start?.size ?? 0;
    this.expected = expected;
  }

  /** Bytes written so far. */
  get size(): number {
    return this.written;
  }

  async write(chunk: Uint8Array | string): Promise<void> {
    await this.writeMany([typeof chunk === 'string' ? Buffer.from(chunk) : chunk]);
  }

  /** Several chunks in one writev (a download hands them over a MiB at a time). */
  async writeMany(chunks: Uint8Array[]): Promise<void> {
    this.checkOpen();
    const n = chunks.reduce((a, c) => a + c.length, 0);
    const limit = this.expected.size;
    if (limit !== undefined && this.written + n > limit) {
      await this.abort();
      const name = this.expected.digest ? `blob ${this.expected.digest}` : 'blob';
      throw new ContentMismatchError(`${name}: expected ${limit} bytes, got more`, limit, this.written + n);
    }
    for (const c of chunks) this.hash.update(c);
    try {
      await writeAll(this.handle, chunks);
    } catch (err) {
      await this.abort();
      throw systemError(err, `write ${this.tmp}`);
    }
    this.written += n;
  }

  /** Verifies against what was expected (at open and here), then makes the blob visible. */
  async commit(expected?: Expected): Promise<BlobInfo> {
    this.checkOpen();
    const exp = { ...this.expected, ...checkExpected(expected) };
    try {
      const digest = `${this.algorithm}:${this.hash.digest('hex')}`;
      if (exp.size !== undefined && exp.size !== this.written) {
        throw new ContentMismatchError(`blob ${exp.digest ?? digest}: expected ${exp.size} bytes, got ${this.written}`, exp.size, this.written);
      }
      if (exp.digest !== undefined) {
        if (parseDigest(exp.digest).algorithm !== this.algorithm) {
          throw new HakoError('invalid-argument', `cannot verify ${exp.digest}: the writer hashed with ${this.algorithm}`);
        }
        if (exp.digest !== digest) throw new ContentMismatchError(`digest mismatch: expected ${exp.digest}, got ${digest}`, exp.digest, digest);
      }
      try {
        await this.handle.sync();
      } catch (err) {
        throw systemError(err, `fsync ${this.tmp}`);
      }
      await this.handle.close();
      this.beforeCommit?.(digest);
      const file = this.store.path(digest);
      const dir = join(file, '..');
      try {
        mkdirSync(dir, { recursive: true, mode: 0o755 });
        // An identical blob already there (another writer won) stays; ours goes.
        if (await exists(file)) await rm(this.tmp, { force: true });
        else {
          await rename(this.tmp, file);
          syncDir(dir);
        }
      } catch (err) {
        throw systemError(err, `store blob ${digest}`);
      }
      this.state = 'committed';
      return { digest, size: this.written };
    } catch (err) {
      await this.abort();
      throw err;
    }
  }

  /** Throws the blob away; safe to call more than once. */
  async abort(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    await this.handle.close().catch(() => {});
    await rm(this.tmp, { force: true }).catch(() => {});
  }

  private checkOpen(): void {
    if (this.state !== 'open') throw new HakoError('invalid-state', `blob writer is already ${this.state}`);
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return false;
    throw err;
  }
}

/**
 * A download on its way in that survives being cut off: suspend() closes and keeps the
 * file for a later resume; abort() (also on wrong bytes) throws it away. Readers may
 * follow the file while it grows (the pull unpacks as it downloads): `file` stays the
 * same inode through the rename into the store.
 */
export class PartialWriter extends BlobWriter {
  /** bytes there were before this writer (a resumed download) */
  readonly resumedAt: number;

  constructor(store: ContentStore, file: string, handle: FileHandle, hash: Hash, size: number, algorithm: Algorithm, expected: Expected, beforeCommit?: BeforeCommit) {
    super(store, file, handle, algorithm, expected, beforeCommit, { hash, size });
    this.resumedAt = size;
  }

  get file(): string {
    return this.tmp;
  }

  /** Keeps what arrived for a later resume. */
  async suspend(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'suspended';
    await this.handle.sync().catch(() => {});
    await this.handle.close().catch(() => {});
  }

  override async abort(): Promise<void> {
    if (this.state === 'suspended') {
      this.state = 'aborted';
      await rm(this.tmp, { force: true }).catch(() => {});
      return;
    }
    await super.abort();
  }
}
