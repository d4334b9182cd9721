import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { Decompress, sniffCompression } from '../../src/image/decompress.ts';

async function through(input: Buffer, chunk = 3): Promise<{ out: Buffer; format: string | undefined }> {
  const parts: Buffer[] = [];
  for (let i = 0; i < input.length; i += chunk) parts.push(input.subarray(i, i + chunk));
  const d = new Decompress();
  const out: Buffer[] = [];
  await pipeline(Readable.from(parts), d, async function* (src: AsyncIterable<Buffer>) {
    for await (const c of src) out.push(c);
  });
  return { out: Buffer.concat(out), format: d.format };
}

// Compressible and large enough that the decompressor's output outruns its input.
const DATA = Buffer.concat([Buffer.alloc(300_000, 'tar '), randomBytes(10_000)]);

test('gzip, zstd and plain streams come out as the same bytes, even fed 3 bytes at a time', async () => {
  assert.deepEqual(await through(gzipSync(DATA)), { out: DATA, format: 'gzip' });
  assert.deepEqual(await through(zstdCompressSync(DATA)), { out: DATA, format: 'zstd' });
  assert.deepEqual(await through(DATA), { out: DATA, format: 'none' });
  assert.deepEqual(await through(gzipSync(DATA), 65536), { out: DATA, format: 'gzip' });
});

test('a stream shorter than the magic is passed through', async () => {
  assert.deepEqual(await through(Buffer.from('ab')), { out: Buffer.from('ab'), format: 'none' });
});

test('errors name the format', async () => {
  const gz = gzipSync(DATA);
  await assert.rejects(through(gz.subarray(0, gz.length / 2)), { code: 'invalid-config', message: /^gzip: unexpected end of file/ });
  const zst = Buffer.from(zstdCompressSync(DATA));
  zst.fill(0xab, 20, 60);
  await assert.rejects(through(zst), { code: 'invalid-config', message: /^zstd: / });
  await assert.rejects(through(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1, 2])), { code: 'unsupported', message: /xz-compressed layers are not supported/ });
  await assert.rejects(through(Buffer.alloc(0)), { message: /layer is empty/ });
});

test('sniffCompression reads the magic bytes', () => {
  assert.equal(sniffCompression(Buffer.from([0x1f, 0x8b, 8])), 'gzip');
  assert.equal(sniffCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])), 'zstd');
  assert.equal(sniffCompression(Buffer.from('BZh91AY')), 'bzip2');
  assert.equal(sniffCompression(Buffer.from('etc/passwd')), 'none');
});
