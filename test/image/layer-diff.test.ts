import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, chownSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import tar from 'tar-stream';
import { readMountinfo } from '../../src/common/mountinfo.ts';
import { comparePaths, containerChanges, exportTree, writeLayerTar } from '../../src/image/layer-diff.ts';
import { getxattr, hakoMount, setxattrOp } from '../../src/storage/hako-mount.ts';
import { Snapshotter, type ContainerLayer, type SnapshotDriver } from '../../src/storage/snapshots.ts';
import { makeTar, prepareImage, sha256, type FixtureEntry } from './tar-fixtures.ts';

/**
 * A container on a two-layer image (the second layer deletes and makes a directory
 * opaque) is changed directly in its merged directory; its changes, its layer tar and
 * its export are checked, for both snapshot drivers. The layer tar applied on the image
 * must give the container's view back.
 */
const work = mkdtempSync('/tmp/hako-layer-diff-');
after(async () => {
  for (const m of readMountinfo().filter((e) => e.mountPoint.startsWith(`${work}/`)).reverse()) await hakoMount(['umount', m.mountPoint]);
  rmSync(work, { recursive: true, force: true });
});

const LAYERS: FixtureEntry[][] = [
  [
    { name: 'bin/' }, { name: 'bin/busybox', body: 'busybox', mode: 0o755 }, { name: 'bin/ls', type: 'symlink', linkname: 'busybox' },
    { name: 'etc/' }, { name: 'etc/passwd', body: 'root:x:0:0:root:/root:/bin/sh\n' }, { name: 'etc/group', body: 'root:x:0:\n' },
    { name: 'data/' }, { name: 'data/keep/' }, { name: 'data/keep/k', body: 'k' },
    { name: 'data/gone/' }, { name: 'data/gone/y', body: 'y' }, { name: 'data/gone/sub/' }, { name: 'data/gone/sub/z', body: 'z' },
    { name: 'data/replace/' }, { name: 'data/replace/z', body: 'z' },
    { name: 'hl/' }, { name: 'hl/a', body: 'linked twice' }, { name: 'hl/b', type: 'link', linkname: 'hl/a' },
    { name: 'opq/' }, { name: 'opq/old', body: 'old' },
    { name: 'dev/' }, { name: 'tmp/', mode: 0o1777 },
  ],
  [
    { name: 'etc/' }, { name: 'etc/.wh.group', body: '' },
    { name: 'opq/' }, { name: 'opq/.wh..wh..opq', body: '' }, { name: 'opq/new', body: 'new' },
  ],
];

const T = 1_700_000_000;
// vfs_cap_data revision 2, effective: cap_net_raw (bytes all below 0x80) and cap_setuid (0x80: not UTF-8)
const CAP_NET_RAW = Buffer.from('0100000200200000000000000000000000000000', 'hex');
const CAP_SETUID = Buffer.from('0100000280000000000000000000000000000000', 'hex');

async function mutate(m: string): Promise<void> {
  writeFileSync(join(m, 'newfile'), 'hello from the container\n');
  chownSync(join(m, 'newfile'), 1234, 5678);
  appendFileSync(join(m, 'etc/passwd'), 'extra:x:1000:1000::/home/extra:/bin/sh\n');
  writeFileSync(join(m, 'etc/group'), 'root:x:0:\nextra:x:1000:\n'); // deleted by the second layer: new again
  rmSync(join(m, 'bin/ls'));
  rmSync(join(m, 'data/replace'), { recursive: true });
  writeFileSync(join(m, 'data/replace'), 'now a file\n');
  rmSync(join(m, 'data/gone'), { recursive: true });
  mkdirSync(join(m, 'data/gone'));
  writeFileSync(join(m, 'data/gone/new'), 'other content\n');
  rmSync(join(m, 'data/keep'), { recursive: true });
  rmSync(join(m, 'opq/new'));
  mkdirSync(join(m, 'newdir/sub'), { recursive: true });
  writeFileSync(join(m, 'newdir/sub/f'), 'f');
  writeFileSync(join(m, 'newdir/h1'), 'one inode');
  linkSync(join(m, 'newdir/h1'), join(m, 'newdir/h2'));
  symlinkSync('/', join(m, 'escape'));
  await hakoMount(['mknod', join(m, 'dev/mynull'), 'c', '1', '3', '666', '0', '0']);
  await hakoMount(['mknod', join(m, 'tmp/fifo'), 'p', '0', '0', '640', '7', '8']);
  // last: chown and writes drop a file capability
  await hakoMount(setxattrOp(join(m, 'newfile'), 'security.capability', CAP_NET_RAW));
  utimesSync(join(m, 'newfile'), T, T);
}

const CHANGES = `
C /bin
D /bin/ls
C /data
C /data/gone
A /data/gone/new
D /data/gone/sub
D /data/gone/y
D /data/keep
C /data/replace
C /dev
A /dev/mynull
A /escape
C /etc
A /etc/group
C /etc/passwd
A /newdir
A /newdir/h1
A /newdir/h2
A /newdir/sub
A /newdir/sub/f
A /newfile
C /opq
D /opq/new
C /tmp
A /tmp/fifo`;

function entriesFor(driver: SnapshotDriver): string[] {
  const gone = driver === 'overlay' ? ['data/gone/', 'data/gone/.wh..wh..opq', 'data/gone/new'] : ['data/gone/', 'data/gone/new', 'data/gone/.wh.sub', 'data/gone/.wh.y'];
  return [
    'bin/', 'bin/.wh.ls', 'data/', ...gone, 'data/.wh.keep', 'data/replace', 'dev/', 'dev/mynull', 'escape',
    'etc/', 'etc/group', 'etc/passwd', 'newdir/', 'newdir/h1', 'newdir/h2', 'newdir/sub/', 'newdir/sub/f', 'newfile',
    'opq/', 'opq/.wh.new', 'tmp/', 'tmp/fifo',
  ];
}

interface TarEntry {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  linkname: string | null;
  devmajor: number;
  devminor: number;
  pax: Record<string, string>;
  body: string;
}

async function readTar(buf: Buffer): Promise<TarEntry[]> {
  const ex = tar.extract();
  const out: TarEntry[] = [];
  Readable.from([buf]).pipe(ex);
  for await (const e of ex) {
    const chunks: Buffer[] = [];
    for await (const c of e) chunks.push(c as Buffer);
    const h = e.header;
    out.push({ name: h.name, type: h.type, mode: h.mode, uid: h.uid, gid: h.gid, mtime: h.mtime.getTime() / 1000, linkname: h.linkname, devmajor: h.devmajor, devminor: h.devminor, pax: (h.pax ?? {}) as Record<string, string>, body: Buffer.concat(chunks).toString() });
  }
  return out;
}

function collector(): { stream: Writable; data: () => Buffer } {
  const chunks: Buffer[] = [];
  return {
    stream: new Writable({
      write(c: Buffer, _e, cb) {
        chunks.push(c);
        cb();
      },
    }),
    data: () => Buffer.concat(chunks),
  };
}

/** Everything under ROOT that a commit must carry: type, owner, mode, content or target, and a file's time. */
function metaTree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const p = rel ? `${rel}/${name}` : name;
      const st = lstatSync(join(root, p));
      const own = `${st.uid}:${st.gid}:${(st.mode & 0o7777).toString(8)}`;
      if (st.isDirectory()) {
        out[p] = `dir ${own}`;
        walk(p);
      } else if (st.isSymbolicLink()) out[p] = `symlink ${readlinkSync(join(root, p))}`;
      else if (st.isFile()) out[p] = `file ${own} ${Math.floor(st.mtimeMs / 1000)} ${readFileSync(join(root, p), 'utf8')}`;
      else out[p] = `${st.isCharacterDevice() ? 'char' : st.isFIFO() ? 'fifo' : 'other'} ${own} ${st.rdev}`;
    }
  };
  walk('');
  return out;
}

function allPaths(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel))) {
      const p = rel ? `${rel}/${name}` : name;
      out.push(p);
      if (lstatSync(join(root, p)).isDirectory()) walk(p);
    }
  };
  walk('');
  return out.sort(comparePaths);
}

for (const driver of ['overlay', 'copy'] as const) {
  describe(`${driver}: a container's changes`, () => {
    let snap: Snapshotter;
    let chain: string[];
    let c: ContainerLayer;
    let lowerDirs: string[];
    let layerTar: Buffer;

    before(async () => {
      snap = new Snapshotter(join(work, driver), { driver });
      assert.equal(await snap.driver(), driver);
      chain = await prepareImage(snap, await Promise.all(LAYERS.map((l) => makeTar(l))));
      c = await snap.createContainerLayer('box', chain);
      await snap.mount('box');
      await mutate(c.merged);
      lowerDirs = await snap.lowerDirs(chain);
      assert.equal(lowerDirs.length, driver === 'overlay' ? 2 : 1);
    });

    test('containerChanges: the exact list, sorted, parents as C', async () => {
      const changes = await containerChanges(c, lowerDirs);
      const text = changes.map((ch) => `${'CAD'[ch.Kind]} ${ch.Path}`).join('\n');
      assert.equal(text, CHANGES.trim());
    });

    test('writeLayerTar: the changes as an OCI layer, whiteouts by name', async () => {
      const out = collector();
      const res = await writeLayerTar(c, lowerDirs, out.stream);
      layerTar = out.data();
      assert.equal(res.diffId, sha256(layerTar));
      assert.equal(res.size, layerTar.length);
      const entries = await readTar(layerTar);
      assert.deepEqual(entries.map((e) => e.name), entriesFor(driver));
      const by = new Map(entries.map((e) => [e.name, e]));
      const newfile = by.get('newfile')!;
      assert.deepEqual([newfile.type, newfile.uid, newfile.gid, newfile.mode, newfile.mtime, newfile.body], ['file', 1234, 5678, 0o644, T, 'hello from the container\n']);
      assert.equal(newfile.pax['SCHILY.xattr.security.capability'], CAP_NET_RAW.toString('utf8'));
      assert.deepEqual(Object.keys(newfile.pax).filter((k) => k.includes('overlay')), []);
      assert.deepEqual([by.get('bin/.wh.ls')!.type, by.get('bin/.wh.ls')!.body], ['file', '']);
      assert.deepEqual([by.get('newdir/h2')!.type, by.get('newdir/h2')!.linkname], ['link', 'newdir/h1']);
      assert.deepEqual([by.get('escape')!.type, by.get('escape')!.linkname], ['symlink', '/']);
      assert.deepEqual([by.get('dev/mynull')!.type, by.get('dev/mynull')!.devmajor, by.get('dev/mynull')!.devminor], ['character-device', 1, 3]);
      assert.deepEqual([by.get('tmp/fifo')!.type, by.get('tmp/fifo')!.mode, by.get('tmp/fifo')!.uid, by.get('tmp/fifo')!.gid], ['fifo', 0o640, 7, 8]);
      assert.equal(by.get('tmp/')!.mode, 0o1777);
      assert.equal(by.get('data/replace')!.body, 'now a file\n');
    });

    test('the layer applied on the image gives the container its view back', async () => {
      const [top] = await prepareImage(snap, [...(await Promise.all(LAYERS.map((l) => makeTar(l)))), layerTar]).then((ids) => ids.slice(-1));
      const c2 = await snap.createContainerLayer('again', [...chain, top!]);
      await snap.mount('again');
      try {
        const want = metaTree(c.merged);
        assert.ok(!('bin/ls' in want) && !('data/keep' in want) && !('opq/old' in want) && !('data/gone/y' in want));
        assert.deepEqual(metaTree(c2.merged), want);
        const h1 = lstatSync(join(c2.merged, 'newdir/h1'));
        assert.equal(lstatSync(join(c2.merged, 'newdir/h2')).ino, h1.ino, 'the hard link is one');
        assert.deepEqual(await getxattr(join(c2.merged, 'newfile'), 'security.capability'), CAP_NET_RAW);
        // nothing changed relative to the container's own layer
        assert.deepEqual(await containerChanges(c2, await snap.lowerDirs([...chain, top!])), []);
      } finally {
        await snap.removeContainerLayer('again');
      }
    });

    test('exportTree: the whole tree, sorted, symlinks stored and never followed, devices and links kept', async () => {
      writeFileSync(join(c.merged, 'capped'), 'x');
      await hakoMount(setxattrOp(join(c.merged, 'capped'), 'security.capability', CAP_SETUID));
      symlinkSync('../../../../../etc', join(c.merged, 'up-and-out'));
      const out = collector();
      await exportTree(c.merged, out.stream);
      const entries = await readTar(out.data());
      const names = entries.map((e) => e.name.replace(/\/$/, ''));
      assert.deepEqual(names, allPaths(c.merged));
      assert.ok(names.includes('bin/busybox') && !names.includes('bin/ls') && names.includes('etc/group'));
      assert.ok(!names.some((n) => n.includes('.wh.')), 'no whiteouts');
      assert.ok(!names.some((n) => n.startsWith('escape/') || n.startsWith('up-and-out/')), 'symlinks are not followed');
      const by = new Map(entries.map((e) => [e.name, e]));
      assert.deepEqual([by.get('escape')!.type, by.get('escape')!.linkname], ['symlink', '/']);
      assert.deepEqual([by.get('up-and-out')!.type, by.get('up-and-out')!.linkname], ['symlink', '../../../../../etc']);
      assert.ok(by.get('bin/')!.type === 'directory');
      assert.deepEqual([by.get('hl/b')!.type, by.get('hl/b')!.linkname], ['link', 'hl/a']);
      assert.deepEqual([by.get('newdir/h2')!.type, by.get('newdir/h2')!.linkname], ['link', 'newdir/h1']);
      assert.equal(by.get('dev/mynull')!.type, 'character-device');
      // A binary capability (not UTF-8) goes into its own PAX block: GNU tar reads it back exactly.
      const file = join(work, `export-${driver}.tar`);
      writeFileSync(file, out.data());
      const dest = join(work, `export-${driver}`);
      mkdirSync(dest);
      const x = spawnSync('tar', ['--xattrs', '--xattrs-include=security.capability', '-xpf', file, '-C', dest, 'capped', 'newfile'], { encoding: 'utf8' });
      assert.equal(x.status, 0, x.stderr);
      assert.deepEqual(await getxattr(join(dest, 'capped'), 'security.capability'), CAP_SETUID);
      assert.deepEqual(await getxattr(join(dest, 'newfile'), 'security.capability'), CAP_NET_RAW);
      assert.equal(readFileSync(join(dest, 'capped'), 'utf8'), 'x');
    });

    test('bad input: the copy driver compares with exactly one tree', async () => {
      if (driver === 'copy') await assert.rejects(containerChanges(c, [...lowerDirs, lowerDirs[0]!]), { code: 'invalid-argument' });
      await assert.rejects(exportTree(join(work, 'nope'), collector().stream), { code: 'system', message: /ENOENT/ });
    });

    after(async () => {
      await snap.removeContainerLayer('box').catch(() => {});
    });
  });
}
