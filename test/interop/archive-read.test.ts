import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { ContentStore } from '../../src/image/content-store.ts';
import { readImageArchive, readOciLayoutDir } from '../../src/image/archive/read-archive.ts';
import { Dockerd, IMAGE, whyNoDockerd } from './dockerd.ts';

/**
 * What the peers write, hako reads: a `docker save` archive from Debian's docker.io and
 * an OCI layout written by `skopeo copy`, ingested and verified blob by blob.
 */
describe('image archives written by docker and skopeo', () => {
  const why = whyNoDockerd();
  const dir = mkdtempSync('/tmp/hako-archives-');
  const saved = join(dir, 'busybox.tar');
  let d: Dockerd | undefined;

  before(async () => {
    if (why) return;
    d = new Dockerd({});
    await d.start();
    d.importBusybox();
    const r = d.docker(['save', '-o', saved, IMAGE]);
    assert.equal(r.status, 0, r.stderr);
  });
  after(async () => {
    if (d) assert.deepEqual(await d.stop(), []);
    rmSync(dir, { recursive: true, force: true });
  });
  const need = (t: TestContext) => (why ? (t.skip(`dockerd cannot run here: ${why}`), false) : true);

  test('docker save → hako reads the image, its name and every blob', async (t) => {
    if (!need(t)) return;
    const store = new ContentStore(join(dir, 'store-docker'));
    const [img, ...more] = await readImageArchive(createReadStream(saved), store);
    assert.equal(more.length, 0);
    assert.deepEqual(img!.names, [IMAGE]);
    const inspect = JSON.parse(d!.docker(['image', 'inspect', IMAGE]).stdout)[0];
    assert.equal(img!.manifest.config.digest, inspect.Id);
    assert.deepEqual(img!.config.rootfs.diff_ids, inspect.RootFS.Layers);
    for (const l of img!.manifest.layers) assert.ok(await store.verify(l.digest), l.digest);
  });

  test('skopeo copy → an OCI layout hako reads, with the manifest digest skopeo reports', async (t) => {
    if (!need(t)) return;
    const layout = join(dir, 'layout');
    const c = spawnSync('skopeo', ['copy', '--quiet', `docker-archive:${saved}`, `oci:${layout}:hako/busybox:latest`], { encoding: 'utf8' });
    if (c.error) return t.skip('skopeo is not installed (scripts/peers installs it)');
    assert.equal(c.status, 0, c.stderr);
    const digest = JSON.parse(spawnSync('skopeo', ['inspect', `oci:${layout}:hako/busybox:latest`], { encoding: 'utf8' }).stdout).Digest;
    const [img] = await readOciLayoutDir(layout, new ContentStore(join(dir, 'store-oci')));
    assert.equal(img!.manifestDigest, digest);
    assert.deepEqual(img!.names, ['hako/busybox:latest']);
  });
});
