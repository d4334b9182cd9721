import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, describe, test } from 'node:test';
import tar from 'tar-stream';
import { HakoError } from '../../src/common/errors.ts';
import { resolveInRoot } from '../../src/common/in-root.ts';
import { copyFromContainer, copyToContainer } from '../../src/engine/container-cp.ts';
import { tarEntries } from '../../src/engine/cp-entries.ts';
import { extractEntries, hostTarget } from '../../src/engine/cp-extract.ts';
import { makeTar, tarStream, type FixtureEntry } from '../image/tar-fixtures.ts';

const bases: string[] = [];
after(() => bases.forEach((b) => rmSync(b, { recursive: true, force: true })));

const MTIME = new Date('2021-06-01T12:00:00Z');
/** a name that exists nowhere on the host: a copy that escaped would create it */
const HOST_PROBE = `hako-cp-probe-${randomBytes(6).toString('hex')}`;
after(() => {
  assert.equal(existsSync(`/etc/${HOST_PROBE}`), false, 'nothing was written to the host /etc');
  assert.equal(existsSync(`/tmp/${HOST_PROBE}`), false, 'nothing was written to the host /tmp');
});

interface Sandbox {
  base: string;
  /** the container's root file system */
  root: string;
  /** a host directory beside it that no copy may touch */
  canary: string;
  /** scratch space on the host side */
  host: string;
}

/**
 * root/ holds: etc/{hostname,passwd}, data/{f.txt (0640, 1000:1001), sub/g.txt,
 * link -> f.txt, hard (a hard link to f.txt)}, and hostile symlinks: abs_root -> /,
 * abs_etc -> /etc, escape -> ../canary, deep_escape -> ../../../../../../tmp/PROBE,
 * abs_canary -> BASE/canary, probe -> /etc/PROBE, loop1 <-> loop2.
 */
function sandbox(): Sandbox {
  const base = mkdtempSync('/tmp/hako-cp-');
  bases.push(base);
  const s = { base, root: join(base, 'root'), canary: join(base, 'canary'), host: join(base, 'host') };
  for (const d of [s.root, s.canary, s.host, join(s.root, 'etc'), join(s.root, 'data', 'sub'), join(s.root, 'tmp')]) mkdirSync(d, { recursive: true });
  writeFileSync(join(s.canary, 'secret'), 'host secret');
  writeFileSync(join(s.root, 'etc', 'hostname'), 'container-host\n');
  writeFileSync(join(s.root, 'etc', 'passwd'), 'root:x:0:0::/root:/bin/sh\n');
  const f = join(s.root, 'data', 'f.txt');
  writeFileSync(f, 'hello\n');
  chownSync(f, 1000, 1001);
  chmodSync(f, 0o640);
  utimesSync(f, MTIME, MTIME);
  writeFileSync(join(s.root, 'data', 'sub', 'g.txt'), 'g\n');
  symlinkSync('f.txt', join(s.root, 'data', 'link'));
  linkSync(f, join(s.root, 'data', 'hard'));
  utimesSync(join(s.root, 'data', 'sub'), MTIME, MTIME);
  symlinkSync('/', join(s.root, 'abs_root'));
  symlinkSync('/etc', join(s.root, 'abs_etc'));
  symlinkSync('../canary', join(s.root, 'escape'));
  symlinkSync(`../../../../../../tmp/${HOST_PROBE}`, join(s.root, 'deep_escape'));
  symlinkSync(s.canary, join(s.root, 'abs_canary'));
  symlinkSync(`/etc/${HOST_PROBE}`, join(s.root, 'probe'));
  symlinkSync('loop2', join(s.root, 'loop1'));
  symlinkSync('loop1', join(s.root, 'loop2'));
  return s;
}

function assertHostUntouched(s: Sandbox): void {
  assert.deepEqual(readdirSync(s.base).sort(), ['canary', 'host', 'root']);
  assert.deepEqual(readdirSync(s.canary), ['secret']);
  assert.equal(readFileSync(join(s.canary, 'secret'), 'utf8'), 'host secret');
  assert.equal(existsSync(`/etc/${HOST_PROBE}`), false);
  assert.equal(existsSync(`/tmp/${HOST_PROBE}`), false);
}

function hostFile(s: Sandbox, name: string, content: string, mode = 0o644, uid = 1234, gid = 1235): string {
  const p = join(s.host, name);
  writeFileSync(p, content);
  chownSync(p, uid, gid);
  chmodSync(p, mode);
  utimesSync(p, MTIME, MTIME);
  return p;
}

async function rejectsWith(p: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof HakoError, `expected a HakoError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.match(err.message, pattern);
    return true;
  });
}

interface TarItem {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  linkname: string;
  dev: string;
  body: string;
}

async function readTar(buf: Buffer): Promise<TarItem[]> {
  const out: TarItem[] = [];
  const ex = tar.extract();
  const done = (async () => {
    for await (const e of ex) {
      const chunks: Buffer[] = [];
      for await (const c of e) chunks.push(c as Buffer);
      const h = e.header;
      out.push({ name: h.name, type: h.type, mode: h.mode, uid: h.uid, gid: h.gid, linkname: h.linkname ?? '', dev: `${h.devmajor}:${h.devminor}`, body: Buffer.concat(chunks).toString() });
    }
  })();
  ex.end(buf);
  await done;
  return out;
}

async function tarOut(root: string, src: string, opts = {}): Promise<TarItem[]> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await copyFromContainer(root, src, '-', out, opts);
  return readTar(Buffer.concat(chunks));
}

const tarIn = async (entries: FixtureEntry[]) => tarStream(await makeTar(entries), 300);

describe('resolveInRoot', () => {
  test('plain paths, missing components allowed', () => {
    const s = sandbox();
    assert.equal(resolveInRoot(s.root, '/etc/passwd'), join(s.root, 'etc/passwd'));
    assert.equal(resolveInRoot(s.root, 'etc//./passwd'), join(s.root, 'etc/passwd'));
    assert.equal(resolveInRoot(s.root, '/'), s.root);
    assert.equal(resolveInRoot(s.root, ''), s.root);
    assert.equal(resolveInRoot(s.root, '/no/such/thing'), join(s.root, 'no/such/thing'));
    assert.equal(resolveInRoot(s.root, '/data/sub/../f.txt'), join(s.root, 'data/f.txt'));
  });

  test('symlinks resolved inside the root; ".." stops at the root', () => {
    const s = sandbox();
    assert.equal(resolveInRoot(s.root, '/abs_etc/passwd'), join(s.root, 'etc/passwd'));
    assert.equal(resolveInRoot(s.root, '/abs_root/abs_root/etc'), join(s.root, 'etc'));
    assert.equal(resolveInRoot(s.root, '/escape/secret'), join(s.root, 'canary/secret'));
    assert.equal(resolveInRoot(s.root, '/deep_escape'), join(s.root, 'tmp', HOST_PROBE));
    assert.equal(resolveInRoot(s.root, '/abs_canary/secret'), join(s.root, s.canary, 'secret'));
    assert.equal(resolveInRoot(s.root, '/../../../etc/hostname'), join(s.root, 'etc/hostname'));
    assert.equal(resolveInRoot(s.root, '/data/link'), join(s.root, 'data/f.txt'));
  });

  test('the last component: followed by default, kept with followLast false unless the path ends with "/"', () => {
    const s = sandbox();
    assert.equal(resolveInRoot(s.root, '/probe'), join(s.root, 'etc', HOST_PROBE));
    assert.equal(resolveInRoot(s.root, '/probe', { followLast: false }), join(s.root, 'probe'));
    assert.equal(resolveInRoot(s.root, '/abs_etc/', { followLast: false }), join(s.root, 'etc'));
    assert.equal(resolveInRoot(s.root, '/abs_etc/.', { followLast: false }), join(s.root, 'etc'));
  });

  test('symlink loops fail', () => {
    const s = sandbox();
    assert.throws(() => resolveInRoot(s.root, '/loop1/x'), (e: unknown) => e instanceof HakoError && /too many levels of symbolic links/.test(e.message));
    assert.equal(resolveInRoot(s.root, '/loop1', { followLast: false }), join(s.root, 'loop1'));
  });

  test('a root reached through a host symlink gives paths below its real path', () => {
    const s = sandbox();
    const alias = join(s.host, 'alias');
    symlinkSync(s.root, alias);
    assert.equal(resolveInRoot(alias, '/abs_etc/passwd'), join(s.root, 'etc/passwd'));
  });
});

describe('copyFromContainer to a host path', () => {
  test('SRC file, DEST missing: DEST is the file; mode and mtime kept, owner the caller unless archive', async () => {
    const s = sandbox();
    const dest = join(s.host, 'out.txt');
    await copyFromContainer(s.root, '/data/f.txt', dest);
    assert.equal(readFileSync(dest, 'utf8'), 'hello\n');
    const st = lstatSync(dest);
    assert.equal(st.mode & 0o7777, 0o640);
    assert.equal(st.mtime.getTime(), MTIME.getTime());
    assert.equal(st.uid, process.getuid!());
    const kept = join(s.host, 'kept.txt');
    await copyFromContainer(s.root, 'data/f.txt', kept, undefined, { archive: true });
    assert.equal(lstatSync(kept).uid, 1000);
    assert.equal(lstatSync(kept).gid, 1001);
    assertHostUntouched(s);
  });

  test('SRC file, DEST an existing file: overwritten; DEST a directory: DEST/basename', async () => {
    const s = sandbox();
    const dest = join(s.host, 'existing');
    writeFileSync(dest, 'old content that is longer');
    await copyFromContainer(s.root, '/data/f.txt', dest);
    assert.equal(readFileSync(dest, 'utf8'), 'hello\n');
    mkdirSync(join(s.host, 'dir'));
    await copyFromContainer(s.root, '/data/f.txt', join(s.host, 'dir'));
    assert.equal(readFileSync(join(s.host, 'dir', 'f.txt'), 'utf8'), 'hello\n');
    await copyFromContainer(s.root, '/data/sub/g.txt', join(s.host, 'dir') + '/');
    assert.equal(readFileSync(join(s.host, 'dir', 'g.txt'), 'utf8'), 'g\n');
  });

  test('DEST ending with "/": must be an existing directory', async () => {
    const s = sandbox();
    await rejectsWith(copyFromContainer(s.root, '/data/f.txt', join(s.host, 'nodir') + '/'), 'not-found', /does not exist/);
    writeFileSync(join(s.host, 'file'), 'x');
    await rejectsWith(copyFromContainer(s.root, '/data/f.txt', join(s.host, 'file') + '/'), 'invalid-argument', /not a directory/);
    assert.equal(existsSync(join(s.host, 'nodir')), false);
    // a directory source creates it
    await copyFromContainer(s.root, '/data/sub', join(s.host, 'newdir') + '/');
    assert.equal(readFileSync(join(s.host, 'newdir', 'g.txt'), 'utf8'), 'g\n');
  });

  test('SRC directory: DEST missing is created with its content; DEST a dir gets DEST/basename; SRC/. copies the content', async () => {
    const s = sandbox();
    await copyFromContainer(s.root, '/data', join(s.host, 'copy'));
    assert.deepEqual(readdirSync(join(s.host, 'copy')).sort(), ['f.txt', 'hard', 'link', 'sub']);
    assert.equal(readlinkSync(join(s.host, 'copy', 'link')), 'f.txt');
    const a = lstatSync(join(s.host, 'copy', 'f.txt'));
    const b = lstatSync(join(s.host, 'copy', 'hard'));
    assert.equal(a.ino, b.ino, 'hard links stay hard links');
    assert.equal(lstatSync(join(s.host, 'copy', 'sub')).mtime.getTime(), MTIME.getTime(), 'directory mtimes kept');

    mkdirSync(join(s.host, 'into'));
    await copyFromContainer(s.root, '/data', join(s.host, 'into'));
    assert.deepEqual(readdirSync(join(s.host, 'into')), ['data']);
    await copyFromContainer(s.root, '/data/', join(s.host, 'into'));
    assert.deepEqual(readdirSync(join(s.host, 'into')), ['data']);

    mkdirSync(join(s.host, 'content'));
    writeFileSync(join(s.host, 'content', 'mine'), 'm');
    chmodSync(join(s.host, 'content'), 0o711);
    await copyFromContainer(s.root, '/data/.', join(s.host, 'content'));
    assert.deepEqual(readdirSync(join(s.host, 'content')).sort(), ['f.txt', 'hard', 'link', 'mine', 'sub']);
    assert.equal(lstatSync(join(s.host, 'content')).mode & 0o7777, 0o711, 'the destination keeps its own mode');

    await copyFromContainer(s.root, '/data/sub/.', join(s.host, 'fresh'));
    assert.deepEqual(readdirSync(join(s.host, 'fresh')), ['g.txt']);
  });

  test('SRC directory, DEST a file: error; a directory is not replaced by a file', async () => {
    const s = sandbox();
    writeFileSync(join(s.host, 'file'), 'x');
    await rejectsWith(copyFromContainer(s.root, '/data', join(s.host, 'file')), 'invalid-argument', /cannot copy a directory to a file/);
    mkdirSync(join(s.host, 'd', 'f.txt'), { recursive: true });
    await rejectsWith(copyFromContainer(s.root, '/data/f.txt', join(s.host, 'd')), 'invalid-argument', /cannot overwrite directory/);
  });

  test('missing source, missing destination parent, file source with a trailing "/"', async () => {
    const s = sandbox();
    await rejectsWith(copyFromContainer(s.root, '/nothing', join(s.host, 'x')), 'not-found', /could not find the file \/nothing/);
    await rejectsWith(copyFromContainer(s.root, '/data/f.txt', join(s.host, 'no', 'parent')), 'not-found', /does not exist/);
    await rejectsWith(copyFromContainer(s.root, '/data/f.txt/', join(s.host, 'x')), 'invalid-argument', /not a directory/);
    assert.deepEqual(readdirSync(s.host), []);
  });

  test('a symlink source is copied as a symlink; -L copies its target under the link name', async () => {
    const s = sandbox();
    await copyFromContainer(s.root, '/data/link', join(s.host, 'l'));
    assert.equal(readlinkSync(join(s.host, 'l')), 'f.txt');
    mkdirSync(join(s.host, 'd'));
    await copyFromContainer(s.root, '/data/link', join(s.host, 'd'), undefined, { followLink: true });
    assert.equal(lstatSync(join(s.host, 'd', 'link')).isFile(), true);
    assert.equal(readFileSync(join(s.host, 'd', 'link'), 'utf8'), 'hello\n');
  });

  test('a host DEST that is a symlink to a directory is followed', async () => {
    const s = sandbox();
    mkdirSync(join(s.host, 'real'));
    symlinkSync('real', join(s.host, 'alias'));
    await copyFromContainer(s.root, '/etc/hostname', join(s.host, 'alias'));
    assert.equal(readFileSync(join(s.host, 'real', 'hostname'), 'utf8'), 'container-host\n');
  });
});

describe('copyFromContainer to a tar stream', () => {
  test('a directory: entries named from its basename, owners and modes kept', async () => {
    const s = sandbox();
    const items = await tarOut(s.root, '/data');
    assert.deepEqual(items.map((i) => i.name), ['data/', 'data/f.txt', 'data/hard', 'data/link', 'data/sub/', 'data/sub/g.txt']);
    const f = items.find((i) => i.name === 'data/f.txt')!;
    assert.deepEqual([f.type, f.mode & 0o7777, f.uid, f.gid, f.body], ['file', 0o640, 1000, 1001, 'hello\n']);
    assert.deepEqual([items[2]!.type, items[2]!.linkname], ['link', 'data/f.txt']);
    assert.deepEqual([items[3]!.type, items[3]!.linkname], ['symlink', 'f.txt']);
  });

  test('a file, a directory\'s content, a symlink with and without -L', async () => {
    const s = sandbox();
    assert.deepEqual((await tarOut(s.root, '/etc/hostname')).map((i) => [i.name, i.body]), [['hostname', 'container-host\n']]);
    assert.deepEqual((await tarOut(s.root, '/data/sub/.')).map((i) => i.name), ['./', 'g.txt']);
    assert.deepEqual((await tarOut(s.root, '/data/link')).map((i) => [i.name, i.type]), [['link', 'symlink']]);
    assert.deepEqual((await tarOut(s.root, '/data/link', { followLink: true })).map((i) => [i.name, i.type, i.body]), [['link', 'file', 'hello\n']]);
    const zero = join(s.root, 'zero');
    writeFileSync(zero, '');
    chmodSync(zero, 0);
    assert.equal((await tarOut(s.root, '/zero'))[0]!.mode & 0o7777, 0, 'mode 000 survives');
  });
});

describe('copyToContainer from a host path', () => {
  test('a file to a missing DEST: created, owned by the container root unless archive', async () => {
    const s = sandbox();
    const src = hostFile(s, 'in.txt', 'from host\n', 0o4755);
    await copyToContainer(s.root, src, '/tmp/new.txt');
    const p = join(s.root, 'tmp', 'new.txt');
    assert.equal(readFileSync(p, 'utf8'), 'from host\n');
    const st = lstatSync(p);
    assert.deepEqual([st.uid, st.gid, st.mode & 0o7777, st.mtime.getTime()], [0, 0, 0o4755, MTIME.getTime()]);
    await copyToContainer(s.root, src, '/tmp/kept.txt', undefined, { archive: true });
    const k = lstatSync(join(s.root, 'tmp', 'kept.txt'));
    assert.deepEqual([k.uid, k.gid, k.mode & 0o7777], [1234, 1235, 0o4755]);
    await copyToContainer(s.root, src, '/tmp/remapped.txt', undefined, { rootIds: { uid: 100000, gid: 100000 } });
    assert.equal(lstatSync(join(s.root, 'tmp', 'remapped.txt')).uid, 100000);
    assertHostUntouched(s);
  });

  test('the Docker rules, into the container', async () => {
    const s = sandbox();
    const src = hostFile(s, 'f', 'F');
    mkdirSync(join(s.host, 'dir', 'inner'), { recursive: true });
    writeFileSync(join(s.host, 'dir', 'inner', 'x'), 'X');
    // file → existing dir, file → existing file
    await copyToContainer(s.root, src, '/tmp');
    assert.equal(readFileSync(join(s.root, 'tmp', 'f'), 'utf8'), 'F');
    await copyToContainer(s.root, src, '/etc/hostname');
    assert.equal(readFileSync(join(s.root, 'etc', 'hostname'), 'utf8'), 'F');
    // file → missing "dir/"
    await rejectsWith(copyToContainer(s.root, src, '/tmp/nodir/'), 'not-found', /does not exist/);
    await rejectsWith(copyToContainer(s.root, src, '/nowhere/x'), 'not-found', /does not exist/);
    await rejectsWith(copyToContainer(s.root, src, '/etc/passwd/'), 'invalid-argument', /not a directory/);
    // dir → missing, dir → existing dir, dir/. → existing dir, dir → file
    await copyToContainer(s.root, join(s.host, 'dir'), '/opt');
    assert.equal(readFileSync(join(s.root, 'opt', 'inner', 'x'), 'utf8'), 'X');
    await copyToContainer(s.root, join(s.host, 'dir'), '/opt');
    assert.equal(readFileSync(join(s.root, 'opt', 'dir', 'inner', 'x'), 'utf8'), 'X');
    await copyToContainer(s.root, join(s.host, 'dir') + '/.', '/data');
    assert.equal(readFileSync(join(s.root, 'data', 'inner', 'x'), 'utf8'), 'X');
    await rejectsWith(copyToContainer(s.root, join(s.host, 'dir'), '/etc/passwd'), 'invalid-argument', /cannot copy a directory to a file/);
    await rejectsWith(copyToContainer(s.root, join(s.host, 'missing'), '/tmp'), 'not-found', /no such file/);
    await rejectsWith(copyToContainer(s.root, src + '/', '/tmp'), 'invalid-argument', /not a directory/);
  });

  test('a host symlink is copied as a symlink, or followed with -L', async () => {
    const s = sandbox();
    hostFile(s, 'target', 'T');
    symlinkSync('target', join(s.host, 'ln'));
    await copyToContainer(s.root, join(s.host, 'ln'), '/tmp');
    assert.equal(readlinkSync(join(s.root, 'tmp', 'ln')), 'target');
    await copyToContainer(s.root, join(s.host, 'ln'), '/data', undefined, { followLink: true });
    assert.equal(readFileSync(join(s.root, 'data', 'ln'), 'utf8'), 'T');
    assert.equal(lstatSync(join(s.root, 'data', 'ln')).isFile(), true);
  });
});

describe('copyToContainer from a tar stream', () => {
  test('extracts into the directory DEST; owners root unless archive; modes and times kept', async () => {
    const s = sandbox();
    const entries: FixtureEntry[] = [
      { name: './', type: 'directory', mode: 0o700 },
      { name: 'a/', type: 'directory', mode: 0o750, uid: 7, gid: 8 },
      { name: 'a/file', body: 'body', mode: 0o600, uid: 7, gid: 8, mtime: MTIME },
      { name: 'a/ln', type: 'symlink', linkname: 'file' },
      { name: 'a/hl', type: 'link', linkname: 'a/file' },
      { name: 'x/y/z', body: 'deep' },
    ];
    await copyToContainer(s.root, '-', '/tmp', await tarIn(entries));
    assert.equal(readFileSync(join(s.root, 'tmp', 'a', 'file'), 'utf8'), 'body');
    const st = lstatSync(join(s.root, 'tmp', 'a', 'file'));
    assert.deepEqual([st.uid, st.gid, st.mode & 0o7777, st.mtime.getTime()], [0, 0, 0o600, MTIME.getTime()]);
    assert.equal(lstatSync(join(s.root, 'tmp', 'a', 'hl')).ino, st.ino);
    assert.equal(readlinkSync(join(s.root, 'tmp', 'a', 'ln')), 'file');
    assert.equal(readFileSync(join(s.root, 'tmp', 'x', 'y', 'z'), 'utf8'), 'deep');
    assert.notEqual(lstatSync(join(s.root, 'tmp')).mode & 0o7777, 0o700, 'the "." entry leaves DEST alone');
    await copyToContainer(s.root, '-', '/data', await tarIn(entries), { archive: true });
    const k = lstatSync(join(s.root, 'data', 'a', 'file'));
    assert.deepEqual([k.uid, k.gid], [7, 8]);
    assert.deepEqual([lstatSync(join(s.root, 'data', 'a')).uid, lstatSync(join(s.root, 'data', 'a')).mode & 0o7777], [7, 0o750]);
  });

  test('DEST must be an existing directory (a symlink to one is fine)', async () => {
    const s = sandbox();
    const one = [{ name: 'f', body: 'x' }];
    await rejectsWith(copyToContainer(s.root, '-', '/etc/passwd', await tarIn(one)), 'invalid-argument', /must be a directory/);
    await rejectsWith(copyToContainer(s.root, '-', '/nope', await tarIn(one)), 'not-found', /must be a directory/);
    await copyToContainer(s.root, '-', '/abs_etc', await tarIn(one));
    assert.equal(readFileSync(join(s.root, 'etc', 'f'), 'utf8'), 'x');
  });

  test('a directory and a non-directory never replace each other', async () => {
    const s = sandbox();
    await rejectsWith(copyToContainer(s.root, '-', '/', await tarIn([{ name: 'etc', body: 'x' }])), 'invalid-argument', /cannot overwrite directory/);
    await rejectsWith(copyToContainer(s.root, '-', '/etc', await tarIn([{ name: 'passwd/', type: 'directory' }])), 'invalid-argument', /cannot overwrite non-directory/);
    assert.equal(readFileSync(join(s.root, 'etc', 'passwd'), 'utf8'), 'root:x:0:0::/root:/bin/sh\n');
  });

  test('fifos and devices, both ways', async () => {
    const s = sandbox();
    await copyToContainer(
      s.root,
      '-',
      '/tmp',
      await tarIn([
        { name: 'fifo', type: 'fifo', mode: 0o620 },
        { name: 'null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
      ]),
    );
    const fifo = lstatSync(join(s.root, 'tmp', 'fifo'));
    assert.deepEqual([fifo.isFIFO(), fifo.mode & 0o7777, fifo.uid], [true, 0o620, 0]);
    const dev = lstatSync(join(s.root, 'tmp', 'null'));
    assert.deepEqual([dev.isCharacterDevice(), dev.rdev], [true, (1 << 8) | 3]);
    const items = await tarOut(s.root, '/tmp');
    const byName = new Map(items.map((i) => [i.name, i]));
    assert.equal(byName.get('tmp/fifo')?.type, 'fifo');
    assert.equal(byName.get('tmp/null')?.type, 'character-device');
    assert.equal(byName.get('tmp/null')?.dev, '1:3');
  });

  test('garbage is not a tar', async () => {
    const s = sandbox();
    await rejectsWith(copyToContainer(s.root, '-', '/tmp', tarStream(Buffer.alloc(1024, 'x'))), 'invalid-argument', /not a valid tar/);
  });
});

describe('hostile paths never reach the host', () => {
  test('copying into symlinks that point at /, /etc and out of the root', async () => {
    const s = sandbox();
    const src = hostFile(s, 'payload', 'pwned');
    // probe -> /etc/PROBE: the container's /etc, not the host's
    await copyToContainer(s.root, src, '/probe');
    assert.equal(readFileSync(join(s.root, 'etc', HOST_PROBE), 'utf8'), 'pwned');
    assert.equal(lstatSync(join(s.root, 'probe')).isSymbolicLink(), true);
    await copyToContainer(s.root, src, `/abs_etc/${HOST_PROBE}-2`);
    assert.equal(existsSync(join(s.root, 'etc', `${HOST_PROBE}-2`)), true);
    await copyToContainer(s.root, src, '/abs_root/abs_root/tmp/');
    assert.equal(readFileSync(join(s.root, 'tmp', 'payload'), 'utf8'), 'pwned');
    // ../../../tmp/PROBE is ROOT/tmp/PROBE
    await copyToContainer(s.root, src, '/deep_escape');
    assert.equal(readFileSync(join(s.root, 'tmp', HOST_PROBE), 'utf8'), 'pwned');
    // ../canary and BASE/canary (a real host directory) do not exist inside the root
    await rejectsWith(copyToContainer(s.root, src, '/escape/secret'), 'not-found', /does not exist/);
    await rejectsWith(copyToContainer(s.root, src, '/abs_canary/secret'), 'not-found', /does not exist/);
    mkdirSync(join(s.root, 'canary'));
    await copyToContainer(s.root, src, '/escape/secret');
    assert.equal(readFileSync(join(s.root, 'canary', 'secret'), 'utf8'), 'pwned');
    await rejectsWith(copyToContainer(s.root, s.host, '/abs_canary'), 'not-found', /does not exist/);
    assert.equal(existsSync(join(s.root, s.canary)), false);
    assertHostUntouched(s);
  });

  test('copying out of symlinks that point at /, /etc and out of the root', async () => {
    const s = sandbox();
    const out = join(s.host, 'o');
    await copyFromContainer(s.root, '/abs_etc/hostname', out);
    assert.equal(readFileSync(out, 'utf8'), 'container-host\n');
    await rejectsWith(copyFromContainer(s.root, '/escape/secret', join(s.host, 'o2')), 'not-found', /could not find/);
    await rejectsWith(copyFromContainer(s.root, '/abs_canary/secret', join(s.host, 'o3')), 'not-found', /could not find/);
    await rejectsWith(copyFromContainer(s.root, '/abs_canary', join(s.host, 'o4'), undefined, { followLink: true }), 'not-found', /could not find/);
    await rejectsWith(copyFromContainer(s.root, '/loop1/x', join(s.host, 'o5')), 'invalid-argument', /symbolic links/);
    // without -L the symlink itself is copied, pointing where it pointed (it is never followed)
    await copyFromContainer(s.root, '/abs_canary', join(s.host, 'o6'));
    assert.equal(readlinkSync(join(s.host, 'o6')), s.canary);
    // ".." cannot climb out of the root
    const items = await tarOut(s.root, '../../../etc/hostname');
    assert.deepEqual(items.map((i) => [i.name, i.body]), [['hostname', 'container-host\n']]);
    await copyFromContainer(s.root, '/abs_root/etc/./', join(s.host, 'etc-copy'));
    assert.deepEqual(readdirSync(join(s.host, 'etc-copy')).sort(), ['hostname', 'passwd']);
    assertHostUntouched(s);
  });

  test('tar entries named ../evil, /abs, or written through a symlink entry', async () => {
    const s = sandbox();
    await rejectsWith(copyToContainer(s.root, '-', '/tmp', await tarIn([{ name: '../evil', body: 'x' }])), 'invalid-argument', /outside of the destination/);
    await rejectsWith(copyToContainer(s.root, '-', '/tmp', await tarIn([{ name: 'a/../../evil', body: 'x' }])), 'invalid-argument', /outside of the destination/);
    await rejectsWith(copyToContainer(s.root, '-', '/', await tarIn([{ name: '../../../../canary/secret', body: 'x' }])), 'invalid-argument', /outside/);
    await rejectsWith(copyToContainer(s.root, '-', '/tmp', await tarIn([{ name: 'hl', type: 'link', linkname: '../../canary/secret' }])), 'invalid-argument', /outside/);
    assert.equal(existsSync(join(s.root, 'evil')), false);
    // absolute names are taken below DEST, as Docker does
    await copyToContainer(s.root, '-', '/tmp', await tarIn([{ name: '/abs', body: 'a' }, { name: '/../up', body: 'u' }]));
    assert.equal(readFileSync(join(s.root, 'tmp', 'abs'), 'utf8'), 'a');
    assert.equal(readFileSync(join(s.root, 'tmp', 'up'), 'utf8'), 'u');
    // a symlink entry, then entries through it: they land inside the root
    await copyToContainer(
      s.root,
      '-',
      '/tmp',
      await tarIn([
        { name: 'to_root', type: 'symlink', linkname: '/' },
        { name: 'to_root/etc/' + HOST_PROBE, body: 'via /' },
        { name: 'to_etc', type: 'symlink', linkname: '/etc' },
        { name: `to_etc/${HOST_PROBE}-etc`, body: 'via /etc' },
        { name: 'up', type: 'symlink', linkname: '../../../../../../../..' },
        { name: `up/tmp/${HOST_PROBE}`, body: 'via ..' },
        { name: 'canary', type: 'symlink', linkname: s.canary },
        { name: 'canary/secret', body: 'via abs host path' },
      ]),
    );
    assert.equal(readFileSync(join(s.root, 'etc', HOST_PROBE), 'utf8'), 'via /');
    assert.equal(readFileSync(join(s.root, 'etc', `${HOST_PROBE}-etc`), 'utf8'), 'via /etc');
    assert.equal(readFileSync(join(s.root, 'tmp', HOST_PROBE), 'utf8'), 'via ..');
    assert.equal(readFileSync(join(s.root, s.canary, 'secret'), 'utf8'), 'via abs host path');
    // a hard link to an absolute name is taken below DEST too
    await copyToContainer(s.root, '-', '/', await tarIn([{ name: 'hl', type: 'link', linkname: '/etc/passwd' }]));
    assert.equal(lstatSync(join(s.root, 'hl')).ino, lstatSync(join(s.root, 'etc', 'passwd')).ino);
    assertHostUntouched(s);
  });

  test('an existing symlink at an entry\'s name is replaced, never written through', async () => {
    const s = sandbox();
    symlinkSync(`/etc/${HOST_PROBE}`, join(s.root, 'tmp', 'victim'));
    symlinkSync(join(s.canary, 'secret'), join(s.root, 'tmp', 'victim2'));
    await copyToContainer(s.root, '-', '/tmp', await tarIn([{ name: 'victim', body: 'v' }, { name: 'victim2', body: 'v2' }]));
    assert.equal(lstatSync(join(s.root, 'tmp', 'victim')).isFile(), true);
    assert.equal(readFileSync(join(s.root, 'tmp', 'victim2'), 'utf8'), 'v2');
    assert.equal(existsSync(join(s.root, 'etc', HOST_PROBE)), false);
    // from a host path too
    symlinkSync(`/etc/${HOST_PROBE}`, join(s.root, 'tmp', 'payload'));
    await copyToContainer(s.root, hostFile(s, 'payload', 'p'), '/tmp/');
    assert.equal(lstatSync(join(s.root, 'tmp', 'payload')).isFile(), true);
    assertHostUntouched(s);
  });

  test('on the host, a symlink the copy made is never written through', async () => {
    const s = sandbox();
    const dest = join(s.host, 'dest');
    mkdirSync(dest);
    const entries = tarEntries(
      await tarIn([
        { name: 'x', type: 'symlink', linkname: s.canary },
        { name: 'x/secret', body: 'pwned' },
      ]),
    );
    await rejectsWith(extractEntries(entries, hostTarget(dest, 'none'), 'none'), 'invalid-argument', /through the symlink/);
    assert.equal(readlinkSync(join(dest, 'x')), s.canary);
    assertHostUntouched(s);
  });
});
