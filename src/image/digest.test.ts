import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { chainIds, digestOf, isDigest, parseDigest, shortId, validateDigest } from './digest.ts';

const h64 = 'a'.repeat(64);
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

const rejects = (input: unknown, message: RegExp) =>
  assert.throws(() => parseDigest(input, 'layers[0].digest'), (e: any) => e.code === 'invalid-argument' && message.test(e.message));

describe('digests', () => {
  test('sha256 and sha512 parse', () => {
    assert.deepEqual(parseDigest(`sha256:${h64}`), { algorithm: 'sha256', hex: h64, digest: `sha256:${h64}` });
    assert.equal(parseDigest(`sha512:${'0'.repeat(128)}`).algorithm, 'sha512');
    assert.equal(validateDigest(`sha256:${h64}`), `sha256:${h64}`);
  });

  test('bad input is refused, naming the field and the reason', () => {
    rejects('sha256:xyz', /^layers\[0\]\.digest: invalid digest "sha256:xyz": sha256 needs 64 hex digits, got 3$/);
    rejects(`sha256:${'g'.repeat(64)}`, /the hex digits must be lowercase 0-9 and a-f/);
    rejects(`sha256:${h64.slice(1)}`, /sha256 needs 64 hex digits, got 63/);
    rejects(`sha256:${h64}0`, /got 65/);
    rejects(`sha256:${'A'.repeat(64)}`, /lowercase/);
    rejects(`md5:${'a'.repeat(32)}`, /unsupported algorithm "md5"/);
    rejects(`SHA256:${h64}`, /unsupported algorithm/);
    rejects(h64, /looks like sha256:<64 hex digits>/);
    rejects('', /looks like/);
    rejects(42, /must be a string, got number/);
    rejects(null, /got null/);
    rejects(`sha256:${h64}\n`, /invalid digest/);
  });

  test('nothing that could be a path gets through', () => {
    for (const s of [`sha256:../${h64.slice(3)}`, `sha256/${h64}`, `sha256:${h64}/x`, `../sha256:${h64}`, `sha256:${h64.slice(1)}\0`]) {
      assert.equal(isDigest(s), false, s);
    }
  });

  test('a huge input is quoted shortened', () => {
    assert.throws(() => parseDigest('x'.repeat(10_000)), (e: any) => e.message.length < 400);
  });

  test('digestOf and shortId', () => {
    assert.equal(digestOf('hello'), `sha256:${sha('hello')}`);
    assert.match(digestOf('hello', 'sha512'), /^sha512:[0-9a-f]{128}$/);
    assert.equal(shortId(`sha256:${sha('hello')}`), sha('hello').slice(0, 12));
  });

  test('chain ids follow the OCI image spec', () => {
    const d = ['a', 'b', 'c'].map((s) => `sha256:${sha(s)}`);
    const c = chainIds(d);
    assert.equal(c[0], d[0]);
    assert.equal(c[1], `sha256:${sha(`${d[0]} ${d[1]}`)}`);
    assert.equal(c[2], `sha256:${sha(`${c[1]} ${d[2]}`)}`);
    assert.deepEqual(chainIds([]), []);
    assert.throws(() => chainIds([d[0]!, 'nope']), /diff_ids\[1\]: invalid digest "nope"/);
  });

  test('chain ids match a vector computed with sha256sum', () => {
    // Known vector: computed independently with `printf '%s %s' L0 L1 | sha256sum`.
    const l0 = 'sha256:' + '1'.repeat(64);
    const l1 = 'sha256:' + '2'.repeat(64);
    assert.equal(chainIds([l0, l1])[1], 'sha256:9932074217c35353d2e03a3f5a86549f7c67bfeb0ba53e23d69f4d4c8f7958f5');
  });
});
