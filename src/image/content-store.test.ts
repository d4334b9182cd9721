import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { ContentMismatchError, ContentStore } from './content-store.ts';

const run = promisify(execFile);
const roots: string[] = [];
after(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

function store(): ContentStore {
  const root = mkdtempSync(join(tmpdir(), 'hako-cs-'));
  roots.push(root);
  return new ContentStore(root);
}

const sha256 = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const ls = (dir: string) => {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
};
/** Nothing left behind: no temp files, no blobs (the store holds only what `keep` says). */
const assertClean = (s: ContentStore, keep: string[] = []) => {
  assert.deepEqual(ls(join(s.root, 'ingest')), []);
  assert.deepEqual(s.list(), keep);
};

/** A stream of `n` chunks of `size` bytes with a pause between them, so writers overlap. */
function slowStream(data: Buffer, chunk = 64 * 1024, delayMs = 1): Readable {
  return Readable.from(
    (async function* () {
      for (let off = 0; off < data.length; off += chunk) {
        yield data.subarray(off, off + chunk);
        await new Promise((r) => setTimeout(r, delayMs));
      }
    })(),
  );
}

const blob = Buffer.from('{"hello":"world"}');
const big = Buffer.alloc(2 * 1024 * 1024 + 17, 0);
for (let i = 0; i < big.length; i++) big[i] = (i * 7919) & 0xff;

describe('content store', () => {
  test('ingest of a good blob, then has/info/read/readJson/stream/list/delete', async () => {
    const s = store();
    const d = sha256(blob);
    assert.equal(s.has(d), false);
    assert.deepEqual(await s.ingest(blob, { digest: d, size: blob.length }), { digest: d, size: blob.length });
    assert.equal(s.has(d), true);
    assert.equal(s.size(d), blob.length);
    assert.equal(s.path(d), join(s.root, 'blobs', 'sha256', d.slice(7)));
    assert.equal(statSync(s.path(d)).mode & 0o777, 0o444);
    assert.deepEqual(s.read(d), blob);
    assert.deepEqual(s.readJson(d), { hello: 'world' });
    const chunks: Buffer[] = [];
    for await (const c of s.createReadStream(d)) chunks.push(c as Buffer);
    assert.deepEqual(Buffer.concat(chunks), blob);
    assert.equal(await s.verify(d), true);
    assertClean(s, [d]);
    assert.equal(s.delete(d), true);
    assert.equal(s.delete(d), false);
    assertClean(s);
  });

  test('a stream without expectations is hashed with sha256; sha512 when expected', async () => {
    const s = store();
    const info = await s.ingest(slowStream(big));
    assert.deepEqual(info, { digest: sha256(big), size: big.length });
    const d512 = `sha512:${createHash('sha512').update(blob).digest('hex')}`;
    assert.equal((await s.ingest(blob, { digest: d512 })).digest, d512);
    assert.deepEqual(s.list(), [info.digest, d512].sort());
    assert.deepEqual(readFileSync(s.path(info.digest)), big);
  });

  test('a wrong digest is refused and leaves nothing', async () => {
    const s = store();
    const wrong = sha256(Buffer.from('other'));
    await assert.rejects(
      s.ingest(blob, { digest: wrong }),
      (e: any) => e instanceof ContentMismatchError && e.code === 'invalid-argument' && e.message === `digest mismatch: expected ${wrong}, got ${sha256(blob)}`,
    );
    assertClean(s);
  });

  test('a wrong size is refused, short or long, and leaves nothing', async () => {
    const s = store();
    const d = sha256(big);
    await assert.rejects(s.ingest(slowStream(big.subarray(0, 1200)), { digest: d, size: big.length }), {
      message: `blob ${d}: expected ${big.length} bytes, got 1200`,
    });
    // Too long: cut off as soon as the limit is passed, not after the whole stream.
    await assert.rejects(s.ingest(slowStream(big), { size: 1000 }), { message: 'blob: expected 1000 bytes, got more' });
    assertClean(s);
  });

  test('a stream that fails midway leaves nothing in ingest/ or blobs/', async () => {
    const s = store();
    const failing = Readable.from(
      (async function* () {
        yield big.subarray(0, 100_000);
        await new Promise((r) => setTimeout(r, 5));
        throw new Error('connection reset by peer');
      })(),
    );
    await assert.rejects(s.ingest(failing, { digest: sha256(big) }), (e: any) => e.code === 'system' && /connection reset by peer/.test(e.message));
    assertClean(s);
  });

  test('bad expectations and bad digests are refused before anything is written', async () => {
    const s = store();
    await assert.rejects(s.ingest(blob, { digest: 'sha256:nothex' }), /expected digest: invalid digest "sha256:nothex"/);
    await assert.rejects(s.ingest(blob, { size: -1 }), /expected size must be a non-negative integer/);
    assert.throws(() => s.path('sha256:../../etc/passwd'), { code: 'invalid-argument' });
    assert.throws(() => s.read(sha256(blob)), (e: any) => e.code === 'not-found' && /is not in the content store/.test(e.message));
    assert.throws(() => s.createReadStream(sha256(blob)), { code: 'not-found' });
    assertClean(s);
  });

  test('read refuses a blob larger than the limit', async () => {
    const s = store();
    const { digest } = await s.ingest(big);
    assert.throws(() => s.read(digest, 1024), new RegExp(`blob ${digest} is ${big.length} bytes, more than the 1024 allowed`));
  });

  test('the writer API: write, commit with the expectation, abort', async () => {
    const s = store();
    const w = await s.writer();
    await w.write(blob.subarray(0, 5));
    await w.write(blob.subarray(5));
    assert.equal(w.size, blob.length);
    assert.deepEqual(await w.commit({ digest: sha256(blob), size: blob.length }), { digest: sha256(blob), size: blob.length });
    await assert.rejects(w.write(blob), { code: 'invalid-state' });
    const w2 = await s.writer();
    await w2.write('partial');
    await w2.abort();
    await w2.abort();
    await assert.rejects(w2.commit(), { code: 'invalid-state' });
    assertClean(s, [sha256(blob)]);
  });

  test('concurrent ingest of the same blob in one process: one blob, all succeed', async () => {
    const s = store();
    const results = await Promise.all(Array.from({ length: 8 }, () => s.ingest(slowStream(big), { digest: sha256(big), size: big.length })));
    for (const r of results) assert.deepEqual(r, { digest: sha256(big), size: big.length });
    assertClean(s, [sha256(big)]);
    assert.deepEqual(readFileSync(s.path(sha256(big))), big);
  });

  test('concurrent ingest of the same blob from two processes: one blob, both succeed', async () => {
    const s = store();
    const url = new URL('./content-store.js', import.meta.url).href;
    // Each child builds the same 2 MiB blob and streams it slowly, so the two overlap.
    const script = `
      import { Readable } from 'node:stream';
      import { ContentStore } from ${JSON.stringify(url)};
      const big = Buffer.alloc(${big.length});
      for (let i = 0; i < big.length; i++) big[i] = (i * 7919) & 0xff;
      const src = Readable.from((async function* () {
        for (let off = 0; off < big.length; off += 65536) { yield big.subarray(off, off + 65536); await new Promise((r) => setTimeout(r, 2)); }
      })());
      const info = await new ContentStore(process.argv[1]).ingest(src, { digest: process.argv[2], size: big.length });
      console.log(info.digest);`;
    const child = () => run(process.execPath, ['--input-type=module', '-e', script, s.root, sha256(big)], { timeout: 60_000 });
    const [a, b] = await Promise.all([child(), child()]);
    assert.equal(a.stdout.trim(), sha256(big));
    assert.equal(b.stdout.trim(), sha256(big));
    assertClean(s, [sha256(big)]);
  });

  test('pruneIngest removes only old leftovers', async () => {
    const s = store();
    const w = await s.writer();
    await w.write('left by a crashed writer');
    assert.equal(s.pruneIngest(60_000), 0);
    assert.equal(s.pruneIngest(-1), 1);
    await w.abort();
    assertClean(s);
  });
});

describe('partialWriter: a download that can be cut off and resumed', () => {
  const data = Buffer.from('0123456789'.repeat(1000));
  const digest = sha256(data);

  test('suspend keeps the bytes; a new writer starts where they end and commits the blob', async () => {
    const s = store();
    const w1 = await s.partialWriter({ digest, size: data.length });
    assert.equal(w1.resumedAt, 0);
    await w1.write(data.subarray(0, 4000));
    await w1.suspend();
    assert.equal(s.has(digest), false);
    const w2 = await s.partialWriter({ digest, size: data.length });
    assert.equal(w2.resumedAt, 4000);
    await w2.write(data.subarray(4000));
    assert.deepEqual(await w2.commit(), { digest, size: data.length });
    assert.deepEqual(s.read(digest), data);
    assert.deepEqual(ls(join(s.root, 'ingest')), []);
  });

  test('wrong bytes: commit refuses and nothing stays, not even the partial file', async () => {
    const s = store();
    const w1 = await s.partialWriter({ digest, size: data.length });
    await w1.write(data.subarray(0, 5000));
    await w1.suspend();
    const w2 = await s.partialWriter({ digest, size: data.length });
    await w2.write(Buffer.alloc(data.length - 5000, 'x'));
    await assert.rejects(w2.commit(), (e: unknown) => e instanceof ContentMismatchError && /digest mismatch/.test(e.message));
    assert.equal(s.has(digest), false);
    assert.deepEqual(ls(join(s.root, 'ingest')), []);
  });

  test('more bytes than the descriptor says: refused at once; a partial longer than the blob starts over', async () => {
    const s = store();
    const w = await s.partialWriter({ digest, size: 10 });
    await assert.rejects(w.write(data.subarray(0, 11)), /expected 10 bytes, got more/);
    assert.deepEqual(ls(join(s.root, 'ingest')), []);
    const w1 = await s.partialWriter({ digest, size: data.length + 5 });
    await w1.write(Buffer.concat([data, Buffer.from('extra')]));
    await w1.suspend();
    const w2 = await s.partialWriter({ digest, size: data.length });
    assert.equal(w2.resumedAt, 0);
    await w2.write(data);
    await w2.commit();
    assert.deepEqual(s.read(digest), data);
  });
});
