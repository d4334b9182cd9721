import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { applyLayer, type ApplyMode } from '../../src/image/layer-apply.ts';
import { makeTar, tarStream, type FixtureEntry } from './tar-fixtures.ts';

/**
 * Each hostile archive is refused with a message naming the entry, and the canary
 * directory beside the target (and the target's parent) is exactly as before.
 */
const bases: string[] = [];
after(() => bases.forEach((b) => rmSync(b, { recursive: true, force: true })));

interface Sandbox {
  base: string;
  target: string;
  canary: string;
}

function sandbox(): Sandbox {
  const base = mkdtempSync('/tmp/hako-hostile-');
  bases.push(base);
  const target = join(base, 'target');
  const canary = join(base, 'canary');
  mkdirSync(target);
  mkdirSync(canary);
  writeFileSync(join(canary, 'secret'), 'secret');
  return { base, target, canary };
}

function assertUntouched(s: Sandbox): void {
  assert.deepEqual(readdirSync(s.base).sort(), ['canary', 'target']);
  assert.deepEqual(readdirSync(s.canary), ['secret']);
  assert.equal(readFileSync(join(s.canary, 'secret'), 'utf8'), 'secret');
  assert.equal(lstatSync(join(s.canary, 'secret')).nlink, 1, 'no hard link was made to the canary');
}

interface Options {
  mode?: ApplyMode;
  maxEntries?: number;
  prepare?: (s: Sandbox) => void;
}

async function refused(entries: (s: Sandbox) => FixtureEntry[], message: RegExp, opts: Options = {}) {
  const s = sandbox();
  opts.prepare?.(s);
  const apply = applyLayer(tarStream(await makeTar(entries(s))), s.target, { mode: opts.mode ?? 'overlay', maxEntries: opts.maxEntries });
  await assert.rejects(apply, (err: Error & { code?: string }) => {
    assert.equal(err.code, 'invalid-config', err.message);
    assert.match(err.message, message);
    return true;
  });
  assertUntouched(s);
  return s;
}

test('a ".." component is refused', async () => {
  await refused(() => [{ name: '../canary/pwned', body: 'x' }], /layer entry "\.\.\/canary\/pwned": .* has a "\.\." component/);
});

test('a ".." deeper in the name is refused even where it would stay inside', async () => {
  await refused(() => [{ name: 'a/', type: 'directory' }, { name: 'a/../../canary/pwned', body: 'x' }], /"\.\." component/);
  await refused(() => [{ name: 'a/../b', body: 'x' }], /"\.\." component/);
});

test('an absolute name is taken relative to the layer root (leading "/" stripped), as Docker does', async () => {
  const s = sandbox();
  const name = `/etc/hako-absolute-${process.pid}`;
  await applyLayer(tarStream(await makeTar([{ name, body: 'inside' }])), s.target);
  assert.equal(readFileSync(join(s.target, name), 'utf8'), 'inside');
  assert.equal(existsSync(name), false);
  assertUntouched(s);
});

test('an absolute name with ".." is still refused', async () => {
  await refused(() => [{ name: '/../canary/pwned', body: 'x' }], /"\.\." component/);
});

test('writing through a symlink that points outside is refused (a -> canary, then a/pwned)', async () => {
  await refused((s) => [{ name: 'a', type: 'symlink', linkname: s.canary }, { name: 'a/pwned', body: 'x' }], /"a" is a symlink in this layer, not a directory; a layer may not write through a symlink/);
  await refused(() => [{ name: 'b', type: 'symlink', linkname: '../canary' }, { name: 'b/secret', body: 'overwritten' }], /"b" is a symlink/);
});

test('a directory entry through a symlink is refused', async () => {
  await refused((s) => [{ name: 'c', type: 'symlink', linkname: s.canary }, { name: 'c/sub/', type: 'directory' }], /"c" is a symlink/);
});

test('a file over an existing symlink replaces the symlink and never writes through it', async () => {
  const s = sandbox();
  await applyLayer(tarStream(await makeTar([
    { name: 's', type: 'symlink', linkname: join(s.canary, 'secret') },
    { name: 's', body: 'replaced' },
    { name: 'd', type: 'symlink', linkname: s.canary },
    { name: 'd/', type: 'directory' },
    { name: 'dangling', type: 'symlink', linkname: join(s.canary, 'new') },
    { name: 'dangling', body: 'x' },
  ])), s.target);
  assert.ok(lstatSync(join(s.target, 's')).isFile());
  assert.equal(readFileSync(join(s.target, 's'), 'utf8'), 'replaced');
  assert.ok(lstatSync(join(s.target, 'd')).isDirectory());
  assert.ok(lstatSync(join(s.target, 'dangling')).isFile());
  assertUntouched(s);
});

test('a hard link to a file outside the target is refused', async () => {
  await refused(() => [{ name: 'h', type: 'link', linkname: '../canary/secret' }], /"\.\.\/canary\/secret" has a "\.\." component/);
  // An absolute link name is relative to the layer root too: there is no such file in the layer.
  await refused((s) => [{ name: 'h', type: 'link', linkname: join(s.canary, 'secret') }], /hard link target ".*canary\/secret" does not exist in this layer/);
});

test('a hard link through a symlink is refused', async () => {
  await refused((s) => [{ name: 's', type: 'symlink', linkname: s.canary }, { name: 'h', type: 'link', linkname: 's/secret' }], /hard link target "s\/secret" goes through "s", which is a symlink/);
});

test('a hard link to a directory is refused', async () => {
  await refused(() => [{ name: 'd/', type: 'directory' }, { name: 'h', type: 'link', linkname: 'd' }], /hard link target "d" is a directory/);
});

test('a hard link to a file of a lower layer is refused (flat mode)', async () => {
  await refused(() => [{ name: 'h', type: 'link', linkname: 'lower' }], /hard link target "lower" does not exist in this layer/, { mode: 'flat', prepare: (s) => writeFileSync(join(s.target, 'lower'), 'l') });
});

test('device and fifo names with path tricks are refused', async () => {
  await refused(() => [{ name: '../canary/null', type: 'character-device', devmajor: 1, devminor: 3 }], /"\.\." component/);
  await refused((s) => [{ name: 'dev', type: 'symlink', linkname: s.canary }, { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3 }], /"dev" is a symlink/);
  await refused((s) => [{ name: 'p', type: 'symlink', linkname: s.canary }, { name: 'p/fifo', type: 'fifo' }], /"p" is a symlink/);
  await refused(() => [{ name: 'x/../../canary/sda', type: 'block-device', devmajor: 8, devminor: 0 }], /"\.\." component/);
});

test('a whiteout of ".." or "." is refused', async () => {
  await refused(() => [{ name: '.wh...', body: '' }], /layer entry "\.wh\.\.\.": whiteout of "\.\." is not a file name/);
  await refused(() => [{ name: 'd/.wh...', body: '' }], /whiteout of "\.\."/);
  await refused(() => [{ name: '.wh..', body: '' }], /whiteout of "\."/, { mode: 'flat' });
});

test('a whiteout through a symlink is refused and deletes nothing outside', async () => {
  await refused((s) => [{ name: 's', type: 'symlink', linkname: s.canary }, { name: 's/.wh.secret', body: '' }], /"s" is a symlink/, { mode: 'flat' });
  await refused((s) => [{ name: 's', type: 'symlink', linkname: s.canary }, { name: 's/.wh..wh..opq', body: '' }], /"s" is a symlink/, { mode: 'flat' });
});

test('flat mode: a lower layer\'s symlink is replaced by a directory, not written through', async () => {
  const s = sandbox();
  symlinkSync(s.canary, join(s.target, 'etc'));
  symlinkSync(s.canary, join(s.target, 'gone'));
  await applyLayer(tarStream(await makeTar([
    { name: 'etc/secret', body: 'layer file' },
    { name: 'gone/.wh.secret', body: '' },
    { name: '.wh..wh..opq', body: '' },
  ])), s.target, { mode: 'flat' });
  assert.ok(lstatSync(join(s.target, 'etc')).isDirectory());
  assert.equal(readFileSync(join(s.target, 'etc/secret'), 'utf8'), 'layer file');
  assertUntouched(s);
});

test('overlay xattrs from the archive are refused', async () => {
  await refused(() => [{ name: 'd/', type: 'directory', pax: { 'SCHILY.xattr.trusted.overlay.redirect': '/etc' } }], /sets the overlay filesystem's own attribute trusted\.overlay\.redirect/);
});

test('an archive over the entry limit is refused', async () => {
  await refused(() => [{ name: 'a', body: '' }, { name: 'b', body: '' }, { name: 'c', body: '' }], /more than 2 entries/, { maxEntries: 2 });
});
