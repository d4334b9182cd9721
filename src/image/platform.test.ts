import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { digestOf } from './digest.ts';
import { MediaType } from './media-types.ts';
import { formatPlatform, hostPlatform, isCompatible, normalizePlatform, parsePlatform, platformsOf, selectManifest, type Platform } from './platform.ts';

const entry = (name: string, platform?: Platform, annotations?: Record<string, string>) => ({
  mediaType: MediaType.OciManifest,
  digest: digestOf(name),
  size: 500,
  ...(platform ? { platform } : {}),
  ...(annotations ? { annotations } : {}),
  name,
});
const P = (os: string, architecture: string, variant?: string): Platform => (variant ? { os, architecture, variant } : { os, architecture });

// The platforms of docker.io/library/busybox, in registry order, plus its attestation.
const busybox = {
  manifests: [
    entry('amd64', P('linux', 'amd64')),
    entry('armv5', P('linux', 'arm', 'v5')),
    entry('armv6', P('linux', 'arm', 'v6')),
    entry('armv7', P('linux', 'arm', 'v7')),
    entry('arm64', P('linux', 'arm64', 'v8')),
    entry('386', P('linux', '386')),
    entry('ppc64le', P('linux', 'ppc64le')),
    entry('s390x', P('linux', 's390x')),
    entry('att', P('unknown', 'unknown'), { 'vnd.docker.reference.type': 'attestation-manifest' }),
  ],
};

describe('platforms', () => {
  test('parse os/arch[/variant] and normalise as Docker does', () => {
    assert.deepEqual(parsePlatform('linux/amd64'), P('linux', 'amd64'));
    assert.deepEqual(parsePlatform('linux/x86_64'), P('linux', 'amd64'));
    assert.deepEqual(parsePlatform('linux/amd64/v1'), P('linux', 'amd64'));
    assert.deepEqual(parsePlatform('linux/amd64/v3'), P('linux', 'amd64', 'v3'));
    assert.deepEqual(parsePlatform('linux/aarch64'), P('linux', 'arm64', 'v8'));
    assert.deepEqual(parsePlatform('linux/arm64'), P('linux', 'arm64', 'v8'));
    assert.deepEqual(parsePlatform('linux/arm64/v8'), P('linux', 'arm64', 'v8'));
    assert.deepEqual(parsePlatform('linux/arm'), P('linux', 'arm', 'v7'));
    assert.deepEqual(parsePlatform('linux/arm/7'), P('linux', 'arm', 'v7'));
    assert.deepEqual(parsePlatform('linux/armhf'), P('linux', 'arm', 'v7'));
    assert.deepEqual(parsePlatform('Linux/ARM/v6'), P('linux', 'arm', 'v6'));
    assert.deepEqual(parsePlatform('linux/i386'), P('linux', '386'));
    assert.deepEqual(parsePlatform('arm64'), P('linux', 'arm64', 'v8'));
    assert.equal(parsePlatform('linux').os, 'linux');
    assert.equal(formatPlatform(parsePlatform('linux/arm/v7')), 'linux/arm/v7');
  });

  test('a bad platform string says what is expected', () => {
    for (const s of ['', 'linux/', 'linux/amd64/v1/x', 'linux amd64', '../x/y']) {
      assert.throws(() => parsePlatform(s), (e: any) => e.code === 'invalid-argument' && /use os\/arch\[\/variant\], e\.g\. linux\/amd64/.test(e.message), s);
    }
  });

  test('the host platform comes from process.arch', () => {
    const h = hostPlatform();
    assert.equal(h.os, 'linux');
    const expected: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386' };
    if (expected[process.arch]) assert.equal(h.architecture, expected[process.arch]);
    if (h.architecture === 'arm64') assert.equal(h.variant, 'v8');
  });

  test('compatibility: older variants of the same architecture only', () => {
    assert.ok(isCompatible(P('linux', 'arm', 'v6'), P('linux', 'arm', 'v7')));
    assert.ok(!isCompatible(P('linux', 'arm', 'v7'), P('linux', 'arm', 'v6')));
    assert.ok(isCompatible(P('linux', 'arm64'), P('linux', 'aarch64', 'v8')));
    assert.ok(isCompatible(P('linux', 'amd64'), P('linux', 'amd64', 'v3')));
    assert.ok(!isCompatible(P('linux', 'amd64', 'v3'), P('linux', 'amd64')));
    assert.ok(!isCompatible(P('linux', 'arm', 'v7'), P('linux', 'arm64')));
    assert.ok(!isCompatible(P('windows', 'amd64'), P('linux', 'amd64')));
    assert.deepEqual(normalizePlatform(P('Linux', 'X86_64', 'v1')), P('linux', 'amd64'));
  });

  test('selectManifest: linux/amd64, --platform choices, the closest compatible variant', () => {
    const pick = (p: string) => (selectManifest(busybox, p) as { name: string }).name;
    assert.equal(pick('linux/amd64'), 'amd64');
    assert.equal(pick('linux/arm64'), 'arm64');
    assert.equal(pick('linux/aarch64/v8'), 'arm64');
    assert.equal(pick('linux/arm/v7'), 'armv7');
    assert.equal(pick('linux/arm/v6'), 'armv6');
    assert.equal(pick('linux/arm'), 'armv7');
    assert.equal(pick('linux/386'), '386');
    const onlyOld = { manifests: [busybox.manifests[1]!, busybox.manifests[2]!] };
    assert.equal((selectManifest(onlyOld, 'linux/arm/v7') as { name: string }).name, 'armv6');
    // Docker lists arm64 with or without v8: both are the same platform.
    const noVariant = { manifests: [entry('arm64-plain', P('linux', 'arm64'))] };
    assert.equal((selectManifest(noVariant, 'linux/arm64/v8') as { name: string }).name, 'arm64-plain');
  });

  test('the default is the host platform', () => {
    const host = hostPlatform();
    const index = { manifests: [entry('other', P('linux', 'riscv64-nope')), entry('host', host)] };
    assert.equal((selectManifest(index) as { name: string }).name, 'host');
  });

  test('no match: the error lists what is available (without attestations)', () => {
    assert.throws(
      () => selectManifest(busybox, 'linux/riscv64'),
      (e: any) =>
        e.code === 'not-found' &&
        e.message ===
          'no image for platform linux/riscv64 in the index; available: linux/amd64, linux/arm/v5, linux/arm/v6, linux/arm/v7, linux/arm64/v8, linux/386, linux/ppc64le, linux/s390x (choose one with --platform)',
    );
    assert.throws(() => selectManifest({ manifests: [] }, 'linux/amd64'), /it lists no platforms/);
    assert.deepEqual(platformsOf({ manifests: [entry('a', P('linux', 'arm64'))] }), ['linux/arm64/v8']);
  });

  test('an entry without a platform is only a last resort, and never an attestation', () => {
    const index = { manifests: [entry('plain'), entry('s390x', P('linux', 's390x'))] };
    assert.equal((selectManifest(index, 'linux/s390x') as { name: string }).name, 's390x');
    assert.equal((selectManifest(index, 'linux/amd64') as { name: string }).name, 'plain');
    const att = { manifests: [entry('att', undefined, { 'vnd.docker.reference.type': 'attestation-manifest' })] };
    assert.throws(() => selectManifest(att, 'linux/amd64'), { code: 'not-found' });
  });
});
