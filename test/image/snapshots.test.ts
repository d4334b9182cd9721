import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readMountinfo } from '../../src/common/mountinfo.ts';
import { getxattr, hakoMount } from '../../src/storage/hako-mount.ts';
import { overlayOptions } from '../../src/storage/overlay.ts';
import { Snapshotter } from '../../src/storage/snapshots.ts';
import { chainId, dirEntries, makeTar, prepareImage, sha256, treeOf, type FixtureEntry } from './tar-fixtures.ts';

const bases: string[] = [];
after(async () => {
  for (const b of bases) {
    // Only after a failed test: a passing one has unmounted everything itself.
    for (const m of readMountinfo().filter((e) => e.mountPoint.startsWith(`${b}/`)).reverse()) await hakoMount(['umount', m.mountPoint]);
    rmSync(b, { recursive: true, force: true });
  }
});

function tempBase(): string {
  const b = mkdtempSync('/tmp/hako-snap-');
  bases.push(b);
  return b;
}

function mountsUnder(dir: string): string[] {
  return readMountinfo().map((m) => m.mountPoint).filter((p) => p === dir || p.startsWith(`${dir}/`));
}

/**
 * Three layers that delete, replace and re-create files and directories:
 *   1: etc/{a,b,keep}, dir1/{x,sub/y}, dir2/z, f2d (file), d2f/inner, gone/deep/n
 *   2: deletes etc/a and dir2, replaces etc/b, makes dir1 opaque (+ dir1/new),
 *      f2d becomes a directory, d2f a file, deletes gone
 *   3: re-creates etc/a and dir2 (its old z must stay hidden), deletes dir1/new and
 *      etc/keep, re-creates gone with other contents, makes f2d opaque (+ f2d/in2)
 */
const THREE_LAYERS: FixtureEntry[][] = [
  [
    { name: 'etc/' }, { name: 'etc/a', body: 'a1' }, { name: 'etc/b', body: 'b1' }, { name: 'etc/keep', body: 'k1' },
    { name: 'dir1/' }, { name: 'dir1/x', body: 'x' }, { name: 'dir1/sub/' }, { name: 'dir1/sub/y', body: 'y' },
    { name: 'dir2/' }, { name: 'dir2/z', body: 'z' },
    { name: 'f2d', body: 'was a file' },
    { name: 'd2f/' }, { name: 'd2f/inner', body: 'inner' },
    { name: 'gone/' }, { name: 'gone/deep/' }, { name: 'gone/deep/n', body: 'n' },
    { name: 'link', type: 'symlink', linkname: 'etc/b' },
  ],
  [
    { name: 'etc/.wh.a', body: '' }, { name: 'etc/b', body: 'b2' },
    { name: 'dir1/' }, { name: 'dir1/.wh..wh..opq', body: '' }, { name: 'dir1/new', body: 'new2' },
    { name: '.wh.dir2', body: '' },
    { name: 'f2d/' }, { name: 'f2d/in', body: 'in' },
    { name: 'd2f', body: 'now a file' },
    { name: '.wh.gone', body: '' },
  ],
  [
    { name: 'etc/a', body: 'a3' }, { name: 'etc/.wh.keep', body: '' }, { name: 'etc/.wh.never-was', body: '' },
    { name: 'dir2/' }, { name: 'dir2/fresh', body: 'fresh' },
    { name: 'dir1/.wh.new', body: '' },
    { name: 'gone/' }, { name: 'gone/m', body: 'm' },
    { name: 'f2d/.wh..wh..opq', body: '' }, { name: 'f2d/in2', body: 'in2' },
  ],
];

const EXPECTED: Record<string, string> = {
  d2f: 'file:now a file',
  dir1: 'dir',
  dir2: 'dir',
  'dir2/fresh': 'file:fresh',
  etc: 'dir',
  'etc/a': 'file:a3',
  'etc/b': 'file:b2',
  f2d: 'dir',
  'f2d/in2': 'file:in2',
  gone: 'dir',
  'gone/m': 'file:m',
  link: 'symlink:etc/b',
};

async function threeLayerImage(snap: Snapshotter): Promise<string[]> {
  return prepareImage(snap, await Promise.all(THREE_LAYERS.map((l) => makeTar(l))));
}

/** Writes through the container's view and checks the result, then removes everything and checks nothing is left. */
async function exerciseContainer(snap: Snapshotter, chain: string[]): Promise<void> {
  const c = await snap.createContainerLayer('box', chain);
  const merged = await snap.mount('box');
  assert.equal(merged, c.merged);
  // overlay adds the container's init layer: empty mount points for the engine's /etc files
  const init = c.driver === 'overlay' ? { 'etc/hostname': 'file:', 'etc/hosts': 'file:', 'etc/resolv.conf': 'file:' } : {};
  assert.deepEqual(treeOf(merged), { ...EXPECTED, ...init });
  writeFileSync(join(merged, 'etc/new'), 'container');
  unlinkSync(join(merged, 'etc/b'));
  assert.equal(readFileSync(join(c.upper, 'etc/new'), 'utf8'), 'container');
  if (c.driver === 'overlay') {
    assert.ok(lstatSync(join(c.upper, 'etc/b')).isCharacterDevice(), 'deleting a lower file leaves a whiteout in upper');
    await snap.unmount('box');
    assert.deepEqual(mountsUnder(snap.root), []);
    assert.deepEqual(readdirSync(merged), [], 'unmounted: the merged directory is empty again');
    await snap.mount('box');
    assert.equal(readFileSync(join(merged, 'etc/new'), 'utf8'), 'container', 'changes survive a remount');
  }
  await assert.rejects(snap.removeLayer(chain[0]!), { code: 'invalid-state' });
  await snap.removeContainerLayer('box');
  assert.deepEqual(mountsUnder(snap.root), []);
  for (const id of [...chain].reverse()) await snap.removeLayer(id);
  const base = join(snap.root, c.driver);
  for (const d of ['layers', 'containers', 'tmp', ...(c.driver === 'overlay' ? ['l'] : [])]) {
    assert.deepEqual(readdirSync(join(base, d)), [], `${d} is empty`);
  }
}

test('overlay: whiteouts and opaque directories of a three-layer image, seen through the mount', async () => {
  const snap = new Snapshotter(join(tempBase(), 'root'));
  assert.equal(await snap.driver(), 'overlay');
  const chain = await threeLayerImage(snap);
  // The layers hold overlay's own encoding.
  const l2 = (await snap.layerDir(chain[1]!))!;
  assert.ok(lstatSync(join(l2, 'etc/a')).isCharacterDevice());
  assert.equal(lstatSync(join(l2, 'etc/a')).rdev, 0);
  assert.deepEqual(await getxattr(join(l2, 'dir1'), 'trusted.overlay.opaque'), Buffer.from('y'));
  assert.equal(await getxattr(join(l2, 'etc'), 'trusted.overlay.opaque'), undefined);
  const l3 = (await snap.layerDir(chain[2]!))!;
  assert.deepEqual(await getxattr(join(l3, 'dir2'), 'trusted.overlay.opaque'), undefined, 'dir2 re-created without a whiteout of its own: merges');
  const c = await snap.createContainerLayer('box', chain);
  assert.equal(c.mounts.length, 1);
  assert.match(c.mounts[0]!.options, /^lowerdir=containers\/box\/init:l\/[A-Z0-9]{10}:l\/[A-Z0-9]{10}:l\/[A-Z0-9]{10},upperdir=containers\/box\/upper,workdir=containers\/box\/work$/);
  assert.equal(c.mounts[0]!.cwd, join(snap.root, 'overlay'));
  await snap.removeContainerLayer('box');
  await exerciseContainer(snap, chain);
});

test('copy fallback on a root where overlay cannot be mounted (the root is itself on overlayfs)', async () => {
  const base = tempBase();
  for (const d of ['l', 'u', 'w', 'm']) mkdirSync(join(base, 'ovl', d), { recursive: true });
  const m = join(base, 'ovl', 'm');
  await hakoMount(['mount', 'overlay', 'overlay', m, 'lowerdir=l,upperdir=u,workdir=w', join(base, 'ovl')]);
  try {
    const snap = new Snapshotter(join(m, 'root'));
    const info = await snap.driverInfo();
    assert.equal(info.driver, 'copy');
    // overlayfs refuses to hold a whiteout (mknod: EPERM) and to be an upper dir (mount: EINVAL)
    assert.match(info.reason ?? '', /^(mknod|mount overlay on) .*overlay-probe-.*: (Operation not permitted|Invalid argument)/);
    assert.deepEqual(JSON.parse(readFileSync(join(m, 'root', 'snapshotter.json'), 'utf8')), info, 'the answer is kept');
    assert.deepEqual(readdirSync(join(m, 'root')), ['snapshotter.json'], 'the probe cleaned up');
    const chain = await threeLayerImage(snap);
    // Each copy layer is the whole file system so far, without whiteouts.
    assert.deepEqual(treeOf((await snap.layerDir(chain[2]!))!), EXPECTED);
    const c = await snap.createContainerLayer('box', chain);
    assert.deepEqual(c.mounts, []);
    assert.equal(c.upper, c.merged);
    await snap.removeContainerLayer('box');
    await exerciseContainer(snap, chain);
    assert.deepEqual(mountsUnder(join(m, 'root')), []);
  } finally {
    await hakoMount(['umount', m]);
  }
});

test('copy driver chosen by option; a root keeps its driver', async () => {
  const root = join(tempBase(), 'root');
  const snap = new Snapshotter(root, { driver: 'copy' });
  assert.equal(await snap.driver(), 'copy');
  await exerciseContainer(snap, await threeLayerImage(snap));
  await assert.rejects(new Snapshotter(root, { driver: 'overlay' }).driver(), { code: 'invalid-state', message: /holds copy snapshots/ });
  assert.equal(await new Snapshotter(root).driver(), 'copy');
});

test('chain and key checks', async () => {
  const snap = new Snapshotter(join(tempBase(), 'root'));
  const [l1, l2] = await prepareImage(snap, [await makeTar([{ name: 'a', body: 'a' }]), await makeTar([{ name: 'b', body: 'b' }])]);
  const again = await snap.prepareLayer(l1!, undefined, () => assert.fail('apply must not run for an existing layer'));
  assert.equal(again.created, false);
  await assert.rejects(snap.prepareLayer(sha256('x'), sha256('missing'), async () => {}), { code: 'not-found', message: /parent layer .* is not prepared/ });
  await assert.rejects(snap.prepareLayer('sha256:../../etc', undefined, async () => {}), { code: 'invalid-argument' });
  await assert.rejects(snap.createContainerLayer('box', [l2!]), { code: 'invalid-argument', message: /sits on sha256:.*, not on nothing/ });
  await assert.rejects(snap.createContainerLayer('../x', [l1!]), { code: 'invalid-argument', message: /invalid snapshot key/ });
  await assert.rejects(snap.createContainerLayer('box', [sha256('nope')]), { code: 'not-found' });
  await assert.rejects(snap.removeLayer(l1!), { code: 'invalid-state', message: /is the parent of layer/ });
  // A failing apply leaves nothing behind.
  await assert.rejects(snap.prepareLayer(chainId(l2, sha256('bad')), l2, async (dir) => {
    writeFileSync(join(dir, 'partial'), '');
    throw new Error('boom');
  }), /boom/);
  await snap.removeLayer(l2!);
  await snap.removeLayer(l1!);
  for (const d of ['layers', 'l', 'tmp']) assert.deepEqual(readdirSync(join(snap.root, 'overlay', d)), [], d);
});

test('too many layers for one mount page are refused with the numbers', () => {
  assert.throws(() => overlayOptions(Array(400).fill('ABCDEFGHIJ'), 'u', 'w'), { code: 'unsupported', message: /400 layers do not fit in one overlay mount: the options are \d+ bytes, the kernel takes 4095/ });
});

test('two processes preparing the same chain id at once: both succeed, one layer remains', async () => {
  const base = tempBase();
  const root = join(base, 'root');
  await new Snapshotter(root).driver(); // probe once, not in both children
  const tarPath = join(base, 'layer.tar');
  const buf = await makeTar(dirEntries(join(import.meta.dirname, '..', '..', 'src')).slice(0, 200));
  writeFileSync(tarPath, buf);
  const id = sha256(buf);
  const url = (p: string) => new URL(p, import.meta.url).href;
  const script = `
    import { createReadStream, writeFileSync } from 'node:fs';
    import { setTimeout as sleep } from 'node:timers/promises';
    import { Snapshotter } from ${JSON.stringify(url('../../src/storage/snapshots.js'))};
    import { applyLayer } from ${JSON.stringify(url('../../src/image/layer-apply.js'))};
    let applied = false;
    const r = await new Snapshotter(process.argv[1]).prepareLayer(process.argv[2], undefined, async (dir, mode) => {
      applied = true;
      const res = await applyLayer(createReadStream(process.argv[3]), dir, { mode });
      await sleep(300); // hold the layer in tmp while the other process gets there too
      return res;
    });
    console.log(JSON.stringify({ created: r.created, applied, diffId: r.applied?.diffId }));
  `;
  const run = () => new Promise<{ created: boolean; applied: boolean; diffId?: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, root, id, tarPath], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`child exited ${code}`))));
  });
  const results = await Promise.all([run(), run()]);
  assert.ok(results.every((r) => r.applied), 'both applied: they really overlapped');
  assert.deepEqual(results.map((r) => r.created).sort(), [false, true]);
  assert.equal(results.find((r) => r.created)!.diffId, id);
  const o = join(root, 'overlay');
  assert.deepEqual(readdirSync(join(o, 'layers')), [id.slice(7)]);
  assert.deepEqual(readdirSync(join(o, 'l')), [readFileSync(join(o, 'layers', id.slice(7), 'link'), 'utf8')], 'the loser removed its link');
  assert.deepEqual(readdirSync(join(o, 'tmp')), []);
  assert.ok(readdirSync(join(o, 'layers', id.slice(7), 'diff')).length > 0);
});
