import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { Decompress } from '../../src/image/decompress.ts';
import { applyLayer } from '../../src/image/layer-apply.ts';
import { getxattr } from '../../src/storage/hako-mount.ts';
import { makeTar, tarStream } from './tar-fixtures.ts';

const roots: string[] = [];
after(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

function tempDir(): string {
  const d = mkdtempSync('/tmp/hako-apply-');
  roots.push(d);
  return d;
}

const t = (s: number) => new Date(s * 1000);
// VFS_CAP_REVISION_2 | effective, permitted = CAP_NET_BIND_SERVICE: the value `setcap cap_net_bind_service+ep` writes
const CAP_NET_BIND = Buffer.from('0100000200040000000000000000000000000000', 'hex');

test('ownership, modes, times, xattrs, hard links, symlinks, devices and fifos survive apply', async () => {
  const dir = join(tempDir(), 'layer');
  mkdirSync(dir);
  const tarBuf = await makeTar([
    { name: './', type: 'directory', mode: 0o755, mtime: t(1_000_000_000) },
    { name: 'd/', type: 'directory', mode: 0o1777, uid: 1000, gid: 1001, mtime: t(1_100_000_000) },
    {
      name: 'd/f', body: 'hello', mode: 0o4755, uid: 5, gid: 6, mtime: t(1_200_000_000),
      pax: { 'SCHILY.xattr.user.note': 'hi there', 'SCHILY.xattr.security.capability': CAP_NET_BIND.toString('latin1') },
    },
    { name: 'd/g', body: 'g', mode: 0o2750, uid: 0, gid: 50, mtime: t(1_200_000_001) },
    { name: 'd/hl', type: 'link', linkname: 'd/f' },
    { name: 'd/sym', type: 'symlink', linkname: '../d/f', uid: 7, gid: 8, mtime: t(1_300_000_000) },
    { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666, mtime: t(1_400_000_000) },
    { name: 'dev/loop0', type: 'block-device', devmajor: 7, devminor: 0, mode: 0o660, gid: 6 },
    { name: 'run/fifo', type: 'fifo', mode: 0o640, uid: 9, gid: 9 },
    // owner and a fractional mtime from PAX records, beyond what the octal fields hold
    { name: 'paxed', body: '', pax: { uid: '3000000', gid: '3000001', mtime: '1500000000.25' } },
  ]);
  const r = await applyLayer(tarStream(tarBuf), dir);
  assert.equal(r.diffId, `sha256:${createHash('sha256').update(tarBuf).digest('hex')}`);
  assert.equal(r.size, tarBuf.length);

  const st = (p: string) => lstatSync(join(dir, p));
  assert.equal(st('d').mode & 0o7777, 0o1777);
  assert.deepEqual([st('d').uid, st('d').gid, st('d').mtimeMs], [1000, 1001, 1_100_000_000_000]);
  assert.equal(st('.').mtimeMs, 1_000_000_000_000);
  assert.equal(st('d/f').mode & 0o7777, 0o4755, 'setuid kept although chown came after the write');
  assert.deepEqual([st('d/f').uid, st('d/f').gid, st('d/f').mtimeMs], [5, 6, 1_200_000_000_000]);
  assert.equal(readFileSync(join(dir, 'd/f'), 'utf8'), 'hello');
  assert.equal(st('d/g').mode & 0o7777, 0o2750);
  assert.equal(st('d/hl').ino, st('d/f').ino);
  assert.equal(st('d/f').nlink, 2);
  assert.ok(st('d/sym').isSymbolicLink());
  assert.equal(readlinkSync(join(dir, 'd/sym')), '../d/f');
  assert.deepEqual([st('d/sym').uid, st('d/sym').gid, st('d/sym').mtimeMs], [7, 8, 1_300_000_000_000]);
  assert.ok(st('dev/null').isCharacterDevice());
  assert.equal(st('dev/null').rdev, (1 << 8) | 3);
  assert.equal(st('dev/null').mode & 0o7777, 0o666);
  assert.equal(st('dev/null').mtimeMs, 1_400_000_000_000);
  assert.ok(st('dev/loop0').isBlockDevice());
  assert.equal(st('dev/loop0').rdev, 7 << 8);
  assert.equal(st('dev/loop0').gid, 6);
  assert.ok(st('run/fifo').isFIFO());
  assert.deepEqual([st('run/fifo').mode & 0o7777, st('run/fifo').uid], [0o640, 9]);
  assert.equal(st('dev').mode & 0o7777, 0o755, 'a parent the archive does not list is made 0755');
  assert.deepEqual([st('paxed').uid, st('paxed').gid, st('paxed').mtimeMs], [3_000_000, 3_000_001, 1_500_000_000_250]);
  assert.deepEqual(await getxattr(join(dir, 'd/f'), 'user.note'), Buffer.from('hi there'));
  assert.deepEqual(await getxattr(join(dir, 'd/f'), 'security.capability'), CAP_NET_BIND);
});

test('duplicate names: the later entry wins, a directory over a directory merges', async () => {
  const dir = join(tempDir(), 'layer');
  mkdirSync(dir);
  await applyLayer(tarStream(await makeTar([
    { name: 'a', body: 'first' },
    { name: 'a', body: 'second' },
    { name: 'b/', mode: 0o700 },
    { name: 'b/x', body: 'x' },
    { name: 'b/', mode: 0o750 },
    { name: 'c/', mode: 0o755 },
    { name: 'c/y', body: 'y' },
    { name: 'c', body: 'now a file' },
  ])), dir);
  assert.equal(readFileSync(join(dir, 'a'), 'utf8'), 'second');
  assert.equal(readFileSync(join(dir, 'b/x'), 'utf8'), 'x');
  assert.equal(statSync(join(dir, 'b')).mode & 0o777, 0o750);
  assert.equal(readFileSync(join(dir, 'c'), 'utf8'), 'now a file');
});

test('a truncated or corrupt archive is refused as not a valid tar', async () => {
  const dir = join(tempDir(), 'layer');
  mkdirSync(dir);
  const good = await makeTar([{ name: 'f', body: 'x'.repeat(5000) }]);
  await assert.rejects(applyLayer(tarStream(good.subarray(0, 1500)), dir), { code: 'invalid-config', message: /not a valid tar archive/ });
  const bad = Buffer.from(good);
  bad[0] = bad[0]! ^ 0xff;
  await assert.rejects(applyLayer(tarStream(bad), dir), { code: 'invalid-config', message: /not a valid tar archive/ });
});

test('a compressed layer: applied through Decompress, hashed uncompressed; a corrupt one names its format', async () => {
  const tarBuf = await makeTar([{ name: 'etc/', type: 'directory' }, { name: 'etc/hostname', body: 'box\n' }]);
  const gz = gzipSync(tarBuf);
  const dir = join(tempDir(), 'layer');
  mkdirSync(dir);
  const r = await applyLayer(Readable.from([gz]).pipe(new Decompress()), dir);
  assert.equal(r.diffId, `sha256:${createHash('sha256').update(tarBuf).digest('hex')}`);
  assert.equal(readFileSync(join(dir, 'etc/hostname'), 'utf8'), 'box\n');
  const dir2 = join(tempDir(), 'layer');
  mkdirSync(dir2);
  await assert.rejects(applyLayer(Readable.from([gz.subarray(0, gz.length - 12)]).pipe(new Decompress()), dir2), { code: 'invalid-config', message: /^gzip: unexpected end of file/ });
});

test('a whiteout and then a directory of the same name in one layer: the new directory hides the old one', async () => {
  const entries = [{ name: '.wh.d', body: '' }, { name: 'd/', type: 'directory' as const }, { name: 'd/new', body: 'new' }];
  const overlay = join(tempDir(), 'layer');
  mkdirSync(overlay);
  await applyLayer(tarStream(await makeTar(entries)), overlay);
  assert.ok(statSync(join(overlay, 'd')).isDirectory());
  assert.deepEqual(await getxattr(join(overlay, 'd'), 'trusted.overlay.opaque'), Buffer.from('y'));
  const flat = join(tempDir(), 'flat');
  mkdirSync(join(flat, 'd'), { recursive: true });
  writeFileSync(join(flat, 'd/old'), 'old');
  await applyLayer(tarStream(await makeTar(entries)), flat, { mode: 'flat' });
  assert.deepEqual(readdirSync(join(flat, 'd')), ['new']);
});
