import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitPath, toLayerEntry } from '../../src/image/tar-entry.ts';
import { parseWhiteout } from '../../src/image/whiteout.ts';

test('archive paths: leading "/", "." and empty components dropped, ".." refused', () => {
  assert.deepEqual(splitPath('./usr//bin/./sh'), ['usr', 'bin', 'sh']);
  assert.deepEqual(splitPath('/etc/passwd'), ['etc', 'passwd']);
  assert.deepEqual(splitPath('./'), []);
  assert.throws(() => splitPath('usr/../../x'), { code: 'invalid-config', message: /"usr\/\.\.\/\.\.\/x" has a "\.\." component/ });
  assert.throws(() => splitPath('a\0b'), /NUL/);
});

test('whiteout names', () => {
  assert.equal(parseWhiteout('passwd', 'etc/passwd'), undefined);
  assert.deepEqual(parseWhiteout('.wh.passwd', 'etc/.wh.passwd'), { kind: 'remove', target: 'passwd' });
  assert.deepEqual(parseWhiteout('.wh..wh..opq', 'etc/.wh..wh..opq'), { kind: 'opaque' });
  assert.deepEqual(parseWhiteout('.wh..wh.plnk', '.wh..wh.plnk'), { kind: 'meta' });
  assert.deepEqual(parseWhiteout('.wh..hidden', '.wh..hidden'), { kind: 'remove', target: '.hidden' });
  for (const bad of ['.wh.', '.wh..', '.wh...']) assert.throws(() => parseWhiteout(bad, bad), /is not a file name/);
});

test('headers: PAX owner and times win over the octal fields; odd entries are refused', () => {
  const base = { name: 'f', type: 'file' as const, size: 0, mode: 0o104755, uid: 1, gid: 2, mtime: new Date(5000), linkname: '', uname: '', gname: '', devmajor: 0, devminor: 0 };
  const e = toLayerEntry({ ...base, pax: { uid: '70000000', mtime: '12.5', 'SCHILY.xattr.user.a': 'v' } });
  assert.deepEqual([e.mode, e.uid, e.gid, e.mtime, e.atime], [0o4755, 70_000_000, 2, 12.5, 12.5]);
  assert.deepEqual(e.xattrs, new Map([['user.a', Buffer.from('v')]]));
  assert.throws(() => toLayerEntry({ ...base, pax: { uid: '-1' } }), /PAX uid="-1" is not a number/);
  assert.throws(() => toLayerEntry({ ...base, type: 'symlink' }), /symlink with an empty target/);
  assert.throws(() => toLayerEntry({ ...base, type: 'link', linkname: './' }), /hard link to the layer root/);
  assert.throws(() => toLayerEntry({ ...base, name: './' }), /a file cannot replace the layer root/);
  assert.throws(() => toLayerEntry({ ...base, type: 'gnu-sparse' as 'file' }), /unsupported entry type gnu-sparse/);
  assert.throws(() => toLayerEntry({ ...base, pax: { 'SCHILY.xattr.security.capability': '\uFFFD' } }), /binary and cannot be read exactly/);
});
