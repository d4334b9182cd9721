import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readMountinfo } from '../../src/common/mountinfo.ts';
import { hakoMount } from '../../src/storage/hako-mount.ts';
import { Snapshotter } from '../../src/storage/snapshots.ts';
import { baseRootfs, baseSpec, Bundle } from '../helpers/bundle.ts';
import { dirEntries, makeTar, prepareImage } from './tar-fixtures.ts';

const bases: string[] = [];
after(async () => {
  for (const b of bases) {
    for (const m of readMountinfo().filter((e) => e.mountPoint.startsWith(`${b}/`)).reverse()) await hakoMount(['umount', m.mountPoint]);
    rmSync(b, { recursive: true, force: true });
  }
});

/**
 * Layer 1 is the busybox rootfs; layer i (2..N) adds /layers/i, and every tenth
 * layer also deletes /layers/(i-5) with a whiteout.
 */
async function layers(n: number): Promise<{ tars: Buffer[]; expected: string[] }> {
  const tars = [await makeTar(dirEntries(baseRootfs()))];
  const present = new Set<number>();
  for (let i = 2; i <= n; i++) {
    const entries = [{ name: 'layers/', type: 'directory' as const }, { name: `layers/${i}`, body: `layer ${i}\n` }];
    present.add(i);
    if (i % 10 === 0) {
      entries.push({ name: `layers/.wh.${i - 5}`, body: '' });
      present.delete(i - 5);
    }
    tars.push(await makeTar(entries));
  }
  return { tars, expected: [...present].map(String).sort() };
}

for (const n of [100, 130]) {
  test(`a ${n}-layer chain mounts with overlay and a container runs on it`, async () => {
    const base = mkdtempSync('/tmp/hako-layers-');
    bases.push(base);
    const snap = new Snapshotter(join(base, 'root'));
    assert.equal(await snap.driver(), 'overlay');
    const { tars, expected } = await layers(n);
    const chain = await prepareImage(snap, tars);
    const c = await snap.createContainerLayer('c1', chain);
    // the image's n layers under the container's init layer (the engine's mount points)
    assert.equal(c.mounts[0]!.options.split(',')[0]!.split(':').length, n + 1);
    const merged = await snap.mount('c1');
    const b = new Bundle();
    try {
      const spec = baseSpec(`ls /layers | sort | tr '\\n' ' '; echo; cat /layers/${n}; echo from-container > /written`);
      spec.root = { path: merged };
      b.write(spec);
      const r = b.run();
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, `${expected.join(' ')} \nlayer ${n}\n`);
      assert.deepEqual(readdirSync(c.upper).sort(), ['written'], 'the container wrote to its upper dir only');
      assert.deepEqual(b.leftovers(), []);
    } finally {
      b.cleanup();
    }
    await snap.removeContainerLayer('c1');
    assert.deepEqual(readMountinfo().filter((m) => m.mountPoint.startsWith(`${base}/`)), []);
    for (const id of [...chain].reverse()) await snap.removeLayer(id);
    for (const d of ['layers', 'l', 'containers', 'tmp']) assert.deepEqual(readdirSync(join(snap.root, 'overlay', d)), [], d);
  });
}
