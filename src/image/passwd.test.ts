import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { HakoError } from '../common/errors.ts';
import { MAX_ID_FILE_BYTES, parseGroup, parsePasswd, readFileInRoot, resolveUser } from './passwd.ts';

const PASSWD = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin

  alice:x:1000:1000:Alice:/home/alice:/bin/sh
nohome:x:1001:1001::::
garbled:x:abc:0::/:/bin/sh
second-root:x:0:0::/other:/bin/sh
`;
const GROUP = `root:x:0:
wheel:x:10:root,alice
alice:x:1000:
audio:x:29:bob,alice
staff:x:50:
`;

const base = mkdtempSync(join(tmpdir(), 'hako-passwd-'));
after(() => rmSync(base, { recursive: true, force: true }));
let n = 0;

/** A fresh directory under the test's temp dir, with `files` (path → content, or a symlink). */
function tree(files: Record<string, string | { link: string } | { dir: true }>): string {
  const root = join(base, `t${n++}`);
  mkdirSync(root);
  for (const [path, what] of Object.entries(files)) {
    const full = join(root, path);
    mkdirSync(dirname(full), { recursive: true });
    if (typeof what === 'string') writeFileSync(full, what);
    else if ('link' in what) symlinkSync(what.link, full);
    else mkdirSync(full, { recursive: true });
  }
  return root;
}

const rootfs = tree({ 'etc/passwd': PASSWD, 'etc/group': GROUP });
const notFound = (message: string) => (e: any) => e.code === 'not-found' && e.message === message;

describe('passwd and group files', () => {
  test('entries are parsed; blank lines, surrounding space and non-numeric ids are skipped', () => {
    const users = parsePasswd(PASSWD);
    assert.deepEqual(
      users.map((u) => u.name),
      ['root', 'daemon', 'alice', 'nohome', 'second-root'],
    );
    assert.deepEqual(users[2], { name: 'alice', uid: 1000, gid: 1000, gecos: 'Alice', home: '/home/alice', shell: '/bin/sh' });
  });
  test('out-of-range ids are skipped, not wrapped', () => {
    assert.deepEqual(parsePasswd('big:x:4294967294:0::/:\n'), []);
  });
  test('group members', () => {
    const groups = parseGroup(GROUP);
    assert.deepEqual(groups[1], { name: 'wheel', gid: 10, members: ['root', 'alice'] });
    assert.deepEqual(groups[0]!.members, []);
  });
});

describe('user specs, as Docker resolves them', () => {
  test('empty: uid 0 and its entry (the first one), with its groups', () => {
    assert.deepEqual(resolveUser(rootfs, ''), { uid: 0, gid: 0, additionalGids: [0, 10], home: '/root' });
  });
  test('name: uid, gid and home from passwd; every group listing the user', () => {
    assert.deepEqual(resolveUser(rootfs, 'alice'), { uid: 1000, gid: 1000, additionalGids: [1000, 10, 29], home: '/home/alice' });
  });
  test('uid found in passwd: the same as its name', () => {
    assert.deepEqual(resolveUser(rootfs, '1000'), resolveUser(rootfs, 'alice'));
  });
  test('name:group, name:gid, uid:group: the group is explicit, no supplementary groups', () => {
    const expected = { uid: 1000, gid: 50, additionalGids: [50], home: '/home/alice' };
    assert.deepEqual(resolveUser(rootfs, 'alice:staff'), expected);
    assert.deepEqual(resolveUser(rootfs, 'alice:50'), expected);
    assert.deepEqual(resolveUser(rootfs, '1000:staff'), expected);
  });
  test('uid:gid missing from both files are allowed', () => {
    assert.deepEqual(resolveUser(rootfs, '4242:4343'), { uid: 4242, gid: 4343, additionalGids: [4343], home: '/' });
  });
  test('a numeric uid missing from passwd gets gid 0 and HOME /', () => {
    assert.deepEqual(resolveUser(rootfs, '4242'), { uid: 4242, gid: 0, additionalGids: [0], home: '/' });
    assert.deepEqual(resolveUser(rootfs, '4242:staff'), { uid: 4242, gid: 50, additionalGids: [50], home: '/' });
  });
  test('an entry with an empty home gets /', () => {
    assert.equal(resolveUser(rootfs, 'nohome').home, '/');
  });
  test('an unknown name is an error in Docker\'s words', () => {
    assert.throws(() => resolveUser(rootfs, 'nobody2'), notFound('unable to find user nobody2: no matching entries in passwd file'));
    assert.throws(() => resolveUser(rootfs, 'garbled'), notFound('unable to find user garbled: no matching entries in passwd file'));
    assert.throws(() => resolveUser(rootfs, 'alice:nogroup'), notFound('unable to find group nogroup: no matching entries in group file'));
  });
  test('ids out of range are refused', () => {
    assert.throws(() => resolveUser(rootfs, '-1'), /uids and gids must be in range 0-2147483647/);
    assert.throws(() => resolveUser(rootfs, 'alice:2147483648'), /uids and gids must be in range/);
  });
  test('a third field is ignored, as Docker does', () => {
    assert.deepEqual(resolveUser(rootfs, 'alice:staff:whatever'), resolveUser(rootfs, 'alice:staff'));
  });
  test('--group-add: names and gids, known or numeric; duplicates dropped', () => {
    assert.deepEqual(resolveUser(rootfs, 'alice', ['staff', '4000', '29']).additionalGids, [1000, 10, 29, 50, 4000]);
    assert.throws(() => resolveUser(rootfs, 'alice', ['nosuch']), notFound('unable to find group nosuch: no matching entries in group file'));
  });
  test('no /etc/passwd or /etc/group: numeric ids work, names do not', () => {
    const empty = tree({});
    assert.deepEqual(resolveUser(empty, ''), { uid: 0, gid: 0, additionalGids: [0], home: '/' });
    assert.deepEqual(resolveUser(empty, '5:6'), { uid: 5, gid: 6, additionalGids: [6], home: '/' });
    assert.throws(() => resolveUser(empty, 'alice'), /unable to find user alice/);
    assert.throws(() => resolveUser(empty, '5:staff'), /unable to find group staff/);
  });
});

describe('the image\'s files are read inside its rootfs, never the host\'s', () => {
  // stands for a host file such as /etc/shadow: outside every rootfs below
  const host = tree({ 'shadow': 'alice:x:0:0:host:/host:/bin/sh\n', 'etc/passwd': 'alice:x:0:0:host:/host:/bin/sh\n' });
  const hostShadow = join(host, 'shadow');

  test('an absolute symlink to a host path resolves inside the rootfs: absent there → absent', () => {
    const r = tree({ 'etc/passwd': { link: hostShadow } });
    assert.equal(readFileInRoot(r, '/etc/passwd'), undefined);
    assert.throws(() => resolveUser(r, 'alice'), /unable to find user alice/);
  });
  test('… and the rootfs\'s own file at that path is what is read', () => {
    const r = tree({ 'etc/passwd': { link: hostShadow }, [hostShadow.slice(1)]: 'alice:x:7:7::/in-root:\n' });
    assert.equal(resolveUser(r, 'alice').uid, 7);
  });
  test('/etc/passwd → /etc/shadow reads the rootfs\'s shadow', () => {
    const r = tree({ 'etc/passwd': { link: '/etc/shadow' }, 'etc/shadow': 'alice:x:8:8::/:\n' });
    assert.equal(resolveUser(r, 'alice').uid, 8);
  });
  test('`..` cannot climb out: it stops at the rootfs', () => {
    const up = '../'.repeat(40);
    const r = tree({ 'etc/passwd': { link: `${up}${hostShadow.slice(1)}` } });
    assert.equal(readFileInRoot(r, '/etc/passwd'), undefined);
    assert.equal(readFileInRoot(r, `/../../../${hostShadow}`), undefined);
    const r2 = tree({ 'etc/passwd': { link: `${up}etc/real` }, 'etc/real': 'alice:x:9:9::/:\n' });
    assert.equal(resolveUser(r2, 'alice').uid, 9);
  });
  test('a symlinked directory on the way (/etc → the host\'s /etc) stays inside too', () => {
    const r = tree({ etc: { link: join(host, 'etc') } });
    assert.equal(readFileInRoot(r, '/etc/passwd'), undefined);
    const r2 = tree({ etc: { link: `../../..${host}/etc` } });
    assert.equal(readFileInRoot(r2, '/etc/passwd'), undefined);
  });
  test('a relative symlink inside the rootfs is followed', () => {
    const r = tree({ 'etc/passwd': { link: '../lib/passwd' }, 'lib/passwd': 'alice:x:11:11::/:\n' });
    assert.equal(resolveUser(r, 'alice').uid, 11);
  });
  test('a symlink loop is an error, not a hang', () => {
    const r = tree({ 'etc/passwd': { link: '/etc/loop' }, 'etc/loop': { link: '/etc/passwd' } });
    assert.throws(() => readFileInRoot(r, '/etc/passwd'), (e: any) => e.code === 'invalid-config' && /too many levels of symbolic links/.test(e.message));
  });
  test('a file bigger than the cap is refused without reading it', () => {
    const r = tree({ 'etc/passwd': '' });
    truncateSync(join(r, 'etc/passwd'), MAX_ID_FILE_BYTES + 1); // sparse: no disk used
    assert.throws(() => resolveUser(r, 'alice'), (e: any) => e.code === 'invalid-config' && /\/etc\/passwd .* is larger than 1048576 bytes/.test(e.message));
  });
  test('the cap is inclusive', () => {
    const r = tree({ 'etc/passwd': 'x'.repeat(16) });
    assert.equal(readFileInRoot(r, '/etc/passwd', 16)?.length, 16);
    assert.throws(() => readFileInRoot(r, '/etc/passwd', 15), /larger than 15 bytes/);
  });
  test('not a regular file: refused (a directory; a FIFO does not hang)', () => {
    const r = tree({ 'etc/passwd': { dir: true } });
    assert.throws(() => readFileInRoot(r, '/etc/passwd'), /is not a regular file/);
    const f = tree({ etc: { dir: true } });
    try {
      execFileSync('mkfifo', [join(f, 'etc/passwd')]);
    } catch {
      return; // no mkfifo here
    }
    assert.throws(() => readFileInRoot(f, '/etc/passwd'), /is not a regular file/);
  });
  test('a directory swapped for a symlink to the host during the read never yields the host\'s file', async () => {
    const r = tree({ 'etc/passwd': 'in-root\n' });
    // another process flips /etc between the real directory and a symlink to the host's
    const flipper = spawn('sh', ['-c', `cd ${r} && while :; do mv etc etc.real; ln -s ${join(host, 'etc')} etc; rm etc; mv etc.real etc; done`], {
      stdio: 'ignore',
    });
    try {
      // absent, an error, or the rootfs's own file are all fine; the host's file is not
      const until = Date.now() + 1000;
      while (Date.now() < until) {
        try {
          const got = readFileInRoot(r, '/etc/passwd');
          if (got !== undefined) assert.equal(got.toString(), 'in-root\n');
        } catch (err) {
          if (!(err instanceof HakoError)) throw err;
        }
      }
    } finally {
      flipper.kill();
      await new Promise((resolve) => flipper.once('exit', resolve));
    }
  });
  test('/etc being a file means there is no /etc/passwd', () => {
    const r = tree({ etc: 'not a directory' });
    assert.equal(readFileInRoot(r, '/etc/passwd'), undefined);
  });
});
