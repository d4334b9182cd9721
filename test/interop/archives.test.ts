import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createReadStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { ContentStore } from '../../src/image/content-store.ts';
import { readImageArchive, readOciLayoutDir } from '../../src/image/archive/read-archive.ts';
import { writeDockerArchive, writeOciLayoutDir, writeOciLayoutTar } from '../../src/image/archive/write-archive.ts';
import { createWriteStream } from 'node:fs';
import { Dockerd, IMAGE, whyNoDockerd } from './dockerd.ts';
import { REPO } from '../helpers/bundle.ts';
import { runImage } from '../helpers/run-image.ts';

/**
 * What the peers write, hako reads: a `docker save` archive from Debian's docker.io and
 * an OCI layout written by `skopeo copy`, ingested and verified blob by blob.
 */
describe('image archives: docker and skopeo write, hako reads; hako writes, they read', () => {
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

  test('hako save (docker-archive) → docker load → docker run', async (t) => {
    if (!need(t)) return;
    const store = new ContentStore(join(dir, 'store-roundtrip'));
    const [img] = await readImageArchive(createReadStream(saved), store);
    const out = join(dir, 'from-hako.tar');
    await writeDockerArchive([{ ...img!, names: ['hako-saved/busybox:rt'] }], store, createWriteStream(out));
    const load = d!.docker(['load', '-i', out]);
    assert.equal(load.status, 0, load.stderr);
    assert.match(load.stdout, /Loaded image: hako-saved\/busybox:rt/);
    const run = d!.docker(['run', '--rm', 'hako-saved/busybox:rt', 'echo', 'saved by hako']);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, 'saved by hako\n');
  });

  test('hako save (OCI layout) → skopeo inspect and umoci ls read it; the tar form reads back', async (t) => {
    if (!need(t)) return;
    const store = new ContentStore(join(dir, 'store-layout'));
    const [img] = await readImageArchive(createReadStream(saved), store);
    const layout = join(dir, 'hako-layout');
    await writeOciLayoutDir([{ ...img!, names: ['hako/busybox:oci'] }], store, layout);
    const inspect = spawnSync('skopeo', ['inspect', `oci:${layout}:oci`], { encoding: 'utf8' });
    if (inspect.error) return t.skip('skopeo is not installed (scripts/peers installs it)');
    assert.equal(inspect.status, 0, inspect.stderr);
    const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'));
    assert.equal(index.manifests[0].mediaType, 'application/vnd.oci.image.manifest.v1+json');
    assert.equal(JSON.parse(inspect.stdout).Digest, index.manifests[0].digest);
    const umoci = spawnSync('umoci', ['ls', '--layout', layout], { encoding: 'utf8' });
    if (!umoci.error) {
      assert.equal(umoci.status, 0, umoci.stderr);
      assert.equal(umoci.stdout.trim(), 'oci');
    }
    const tarPath = join(dir, 'hako-layout.tar');
    await writeOciLayoutTar([{ ...img!, names: ['hako/busybox:oci'] }], store, createWriteStream(tarPath));
    const [back] = await readImageArchive(createReadStream(tarPath), new ContentStore(join(dir, 'store-back')));
    assert.equal(back!.manifestDigest, index.manifests[0].digest);
    assert.equal(back!.manifest.config.digest, img!.manifest.config.digest, 'the same image: same config, same layers');
    assert.deepEqual(back!.names, ['hako/busybox:oci']);
  });

  test('docker save → hako load (CLI) → the image runs', async (t) => {
    if (!need(t)) return;
    const root = join(dir, 'data-root');
    const load = spawnSync(join(REPO, 'bin', 'hako'), ['--data-root', root, 'load', '-i', saved], { encoding: 'utf8' });
    assert.equal(load.status, 0, load.stderr);
    assert.equal(load.stdout, `Loaded image: ${IMAGE}\n`);
    const run = await runImage(root, IMAGE, { cmd: ['echo', 'loaded from docker save'] });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, 'loaded from docker save\n');
  });

  test('hako save --format oci-dir (CLI) → skopeo inspect reads it, hako load reads it back', async (t) => {
    if (!need(t)) return;
    const root = join(dir, 'data-root-dir');
    const hako = (args: string[]) => spawnSync(join(REPO, 'bin', 'hako'), ['--data-root', root, ...args], { encoding: 'utf8' });
    assert.equal(hako(['load', '-i', saved]).status, 0);
    const out = join(dir, 'cli-layout');
    const r = hako(['save', '--format', 'oci-dir', '-o', out, IMAGE]);
    assert.equal(r.status, 0, r.stderr);
    const again = hako(['save', '--format', 'oci-dir', '-o', out, IMAGE]);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /exists/);
    const inspect = spawnSync('skopeo', ['inspect', `oci:${out}:latest`], { encoding: 'utf8' });
    if (inspect.error) return t.skip('skopeo is not installed (scripts/peers installs it)');
    assert.equal(inspect.status, 0, inspect.stderr);
    const fresh = join(dir, 'data-root-dir2');
    const back = spawnSync(join(REPO, 'bin', 'hako'), ['--data-root', fresh, 'load', '-i', out], { encoding: 'utf8' });
    assert.equal(back.status, 0, back.stderr);
    assert.match(back.stdout, /Loaded image: hako-test\/busybox:latest/);
  });
});
