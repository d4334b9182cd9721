import { Transform, type TransformCallback } from 'node:stream';
import { createGunzip, createZstdDecompress } from 'node:zlib';
import { HakoError } from '../common/errors.ts';

export type Compression = 'gzip' | 'zstd' | 'none';

const MAGIC_LEN = 6;

/**
 * The compression of a layer, from its first bytes (media types lie: Docker's
 * "tar.gzip" layers are sometimes plain tar). Formats no registry should send are
 * named, so the error says "xz" rather than "invalid tar header".
 */
export function sniffCompression(head: Uint8Array): Compression | 'xz' | 'bzip2' {
  const starts = (...bytes: number[]) => bytes.every((b, i) => head[i] === b);
  if (starts(0x1f, 0x8b)) return 'gzip';
  if (starts(0x28, 0xb5, 0x2f, 0xfd)) return 'zstd';
  if (starts(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)) return 'xz';
  if (starts(0x42, 0x5a, 0x68)) return 'bzip2';
  return 'none';
}

/**
 * A Transform that passes a layer through gzip or zstd decompression, or unchanged
 * for a plain tar, chosen by the magic bytes of the stream (buffered until there are
 * enough of them). Errors name the format: `gzip: unexpected end of file`.
 */
export class Decompress extends Transform {
  /** what the stream turned out to be; undefined until the first bytes arrive */
  format: Compression | undefined;
  private head: Buffer[] = [];
  private headLen = 0;
  private inner: Transform | undefined;
  private innerDone: Promise<void> | undefined;

  constructor() {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.format === undefined) {
      this.head.push(chunk);
      this.headLen += chunk.length;
      if (this.headLen < MAGIC_LEN) return cb();
      try {
        chunk = this.choose();
      } catch (err) {
        return cb(err as Error);
      }
    }
    this.forward(chunk, cb);
  }

  override _flush(cb: TransformCallback): void {
    if (this.format === undefined) {
      if (this.headLen === 0) return cb(new HakoError('invalid-config', 'layer is empty: not a tar, gzip or zstd stream'));
      let rest: Buffer;
      try {
        rest = this.choose();
      } catch (err) {
        return cb(err as Error);
      }
      if (!this.inner) return cb(null, rest);
      return this.forward(rest, (err) => (err ? cb(err) : this.finishInner(cb)));
    }
    this.finishInner(cb);
  }

  /** Let a paused decompressor go on once our reader wants more. */
  override _read(size: number): void {
    this.inner?.resume();
    super._read(size);
  }

  override _destroy(err: Error | null, cb: (error: Error | null) => void): void {
    this.inner?.destroy();
    cb(err);
  }

  private choose(): Buffer {
    const all = Buffer.concat(this.head);
    this.head = [];
    const kind = sniffCompression(all);
    if (kind === 'xz' || kind === 'bzip2') throw new HakoError('unsupported', `${kind}-compressed layers are not supported (only gzip, zstd and plain tar)`);
    this.format = kind;
    if (kind !== 'none') {
      // 256 KiB output chunks, not zlib's 16 KiB: a 100 MB layer in 400 callbacks, not 6400.
      const inner = kind === 'gzip' ? createGunzip({ chunkSize: 256 << 10 }) : createZstdDecompress({ chunkSize: 256 << 10 });
      this.inner = inner;
      inner.on('data', (out: Buffer) => {
        // The decompressor can inflate a little input into a lot: stop it while our reader is full.
        if (!this.push(out)) inner.pause();
      });
      this.innerDone = new Promise((resolve, reject) => {
        inner.on('end', resolve);
        inner.on('error', (err: Error) => reject(new HakoError('invalid-config', `${kind}: ${err.message.replace(/^[a-z]+: /i, '')}`, { cause: err })));
      });
      this.innerDone.catch((err: Error) => this.destroy(err));
    }
    return all;
  }

  private forward(chunk: Buffer, cb: TransformCallback): void {
    if (!this.inner) return cb(null, chunk);
    if (this.inner.write(chunk)) cb();
    else this.inner.once('drain', () => cb());
  }

  private finishInner(cb: TransformCallback): void {
    if (!this.inner) return cb();
    this.inner.end();
    this.innerDone!.then(() => cb(), (err: Error) => cb(err));
  }
}

/** `new Decompress()`, for pipelines. */
export function decompress(): Decompress {
  return new Decompress();
}
