import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { after, before, describe, test, type TestContext } from 'node:test';
import { gunzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { readMountinfo } from '../../src/common/mountinfo.ts';
import { HakoError } from '../../src/common/errors.ts';
import { commitContainer } from '../../src/engine/image-commit.ts';
import { importImage } from '../../src/engine/image-import.ts';
import { saveImages } from '../../src/engine/image-save.ts';
import { ImageService } from '../../src/engine/image-service.ts';
import { containerChanges } from '../../src/image/layer-diff.ts';
import type { ContainerConfig } from '../../src/image/manifest.ts';
import { MediaType } from '../../src/image/media-types.ts';
import { hakoMount } from '../../src/storage/hako-mount.ts';
import type { ContainerLayer } from '../../src/storage/snapshots.ts';
import { baseRootfs } from '../helpers/bundle.ts';
import { runImage } from '../helpers/run-image.ts';
import { Dockerd, whyNoDockerd } from '../interop/dockerd.ts';

/**
 * `commit` end to end in a private data root, for both snapshot drivers: a busybox image
 * imported, a container layer made from it and changed directly in its merged directory,
 * committed; the new image runs with the changes — the deleted file stays deleted — and
 * its config and history are Docker's. Then: committing on a committed image, an
 * unchanged container, failures that must leave nothing behind, and `docker load`.
 */
const work = mkdtempSync('/tmp/hako-commit-');
const roots = new Map<string, string>();
after(async () => {
  for (const m of readMountinfo().filter((e) => e.mountPoint.startsWith(`${work}/`)).reverse()) await hakoMount(['umount', m.mountPoint]);
  rmSync(work, { recursive: true, force: true });
});

const PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const CONTAINER_ID = 'c0ffee'.repeat(10) + 'c0ff';
const CHECK = '[ -e /bin/ls ] || [ -L /bin/ls ] || echo ls-deleted; busybox ls /data/gone; busybox cat /data/replace; busybox tail -n 1 /etc/passwd; echo $COMMITTED';
const CHECKED = 'ls-deleted\nnew\nnow a file\nextra:x:1000:1000::/home/extra:/bin/sh\nyes\n';

/** The busybox rootfs plus two directories to replace, as an uncompressed tar. */
function baseTar(): string {
  const tree = join(work, 'base-tree');
  if (!existsSync(tree)) {
    execFileSync('cp', ['-a', `${baseRootfs()}/.`, tree]);
    mkdirSync(join(tree, 'data/gone/sub'), { recursive: true });
    writeFileSync(join(tree, 'data/gone/y'), 'y');
    writeFileSync(join(tree, 'data/gone/sub/z'), 'z');
    mkdirSync(join(tree, 'data/replace'));
    writeFileSync(join(tree, 'data/replace/z'), 'z');
    execFileSync('tar', ['-C', tree, '--numeric-owner', '-cf', join(work, 'base.tar'), '.']);
  }
  return join(work, 'base.tar');
}

function mutate(m: string): void {
  writeFileSync(join(m, 'newfile'), 'hello from the container\n');
  appendFileSync(join(m, 'etc/passwd'), 'extra:x:1000:1000::/home/extra:/bin/sh\n');
  rmSync(join(m, 'bin/ls'));
  rmSync(join(m, 'data/replace'), { recursive: true });
  writeFileSync(join(m, 'data/replace'), 'now a file\n');
  rmSync(join(m, 'data/gone'), { recursive: true });
  mkdirSync(join(m, 'data/gone'));
  writeFileSync(join(m, 'data/gone/new'), 'other content\n');
}

async function layerNames(svc: ImageService, digest: string): Promise<string[]> {
  const ex = tar.extract();
  Readable.from([gunzipSync(svc.content.read(digest, 1 << 30))]).pipe(ex);
  const names: string[] = [];
  for await (const e of ex) {
    names.push(e.header.name);
    e.resume();
  }
  return names;
}

for (const driver of ['overlay', 'copy'] as const) {
  describe(`commit (${driver})`, () => {
    let root: string;
    let svc: ImageService;
    let baseId: string;
    let n = 0;

    before(async () => {
      root = join(work, driver);
      roots.set(driver, root);
      process.env['HAKO_SNAPSHOTTER'] = driver; // read when the snapshotter is made, kept in the root
      try {
        svc = new ImageService(root);
        assert.equal(await svc.snapshots.driver(), driver);
      } finally {
        delete process.env['HAKO_SNAPSHOTTER'];
      }
      baseId = await importImage(svc, createReadStream(baseTar()), { sourceName: 'base.tar', reference: 'base:1' });
    });
    after(() => svc.close());

    async function container(ref: string): Promise<{ c: ContainerLayer; imageId: string; chain: string[] }> {
      const imageId = svc.resolve(ref).id;
      const chain = svc.meta.layersOf(imageId).map((l) => l.chainId);
      const c = await svc.snapshots.createContainerLayer(`c${++n}`, chain);
      await svc.snapshots.mount(c.key);
      return { c, imageId, chain };
    }

    const containerConfig: ContainerConfig = { Cmd: ['sh', '-c', 'echo hello from the container > /newfile'], Env: [PATH], WorkingDir: '/' };

    test('the new image carries the changes: it runs, the deleted file stays deleted', async () => {
      const { c, imageId } = await container('base:1');
      mutate(c.merged);
      const { id } = await commitContainer(svc, {
        layer: c,
        baseImageId: imageId,
        containerConfig,
        changes: ['CMD ["cat", "/newfile"]', 'ENV COMMITTED=yes'],
        comment: 'my change',
        author: 'Ann <ann@example.com>',
        reference: 'committed:1',
        containerId: CONTAINER_ID,
      });
      await svc.snapshots.removeContainerLayer(c.key);
      assert.match(id, /^sha256:[0-9a-f]{64}$/);
      assert.equal(svc.resolve('committed:1').id, id);

      const run = await runImage(root, 'committed:1');
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stdout, 'hello from the container\n');
      const check = await runImage(root, 'committed:1', { cmd: ['sh', '-c', CHECK] });
      assert.equal(check.stdout, CHECKED, check.stderr);
    });

    test("config, history and manifest as Docker's commit writes them", async () => {
      const base = svc.detail(svc.resolve('base:1'));
      const d = svc.detail(svc.resolve('committed:1'));
      assert.equal(d.record.id, d.manifest.config.digest);
      const raw = svc.content.readJson(d.manifest.config.digest) as Record<string, unknown>;
      assert.equal(raw['container'], CONTAINER_ID);
      assert.deepEqual(raw['container_config'], containerConfig);
      assert.equal(raw['author'], 'Ann <ann@example.com>');
      assert.equal(raw['comment'], 'my change');
      assert.deepEqual(d.config.config?.Cmd, ['cat', '/newfile']);
      assert.deepEqual(d.config.config?.Env, [PATH, 'COMMITTED=yes']);
      assert.equal(d.config.config?.WorkingDir, '/');
      assert.deepEqual([d.config.os, d.config.architecture], [base.config.os, base.config.architecture]);
      const h = d.config.history!;
      assert.equal(h.length, base.config.history!.length + 1);
      assert.deepEqual({ ...h.at(-1), created: undefined }, { created: undefined, created_by: 'sh -c echo hello from the container > /newfile', author: 'Ann <ann@example.com>', comment: 'my change' });
      assert.equal(h.at(-1)!.created, d.config.created);
      assert.deepEqual(d.config.rootfs.diff_ids.slice(0, -1), base.config.rootfs.diff_ids);
      assert.equal(d.config.rootfs.diff_ids.length, 2);
      assert.equal(d.manifest.mediaType, MediaType.OciManifest);
      assert.equal(d.manifest.layers[0]!.digest, base.manifest.layers[0]!.digest);
      assert.equal(d.manifest.layers[1]!.mediaType, MediaType.OciLayerGzip);
      const names = await layerNames(svc, d.manifest.layers[1]!.digest);
      for (const want of ['bin/.wh.ls', 'newfile', 'etc/passwd', 'data/replace']) assert.ok(names.includes(want), `${want} in ${names.join(' ')}`);
      assert.ok(names.includes(driver === 'overlay' ? 'data/gone/.wh..wh..opq' : 'data/gone/.wh.y'));
      // the new layer is a snapshot of its own, under its chain id
      const layers = svc.meta.layersOf(d.record.id);
      assert.equal(layers.length, 2);
      assert.ok(await svc.snapshots.layerDir(layers[1]!.chainId));
    });

    test('a commit on the committed image: a file deleted in the layer below is new again', async () => {
      const { c, imageId, chain } = await container('committed:1');
      writeFileSync(join(c.merged, 'bin/ls'), 'a new ls\n');
      const changes = await containerChanges(c, await svc.snapshots.lowerDirs(chain));
      assert.deepEqual(changes, [{ Kind: 0, Path: '/bin' }, { Kind: 1, Path: '/bin/ls' }]);
      await commitContainer(svc, { layer: c, baseImageId: imageId, containerConfig: { Cmd: ['cat', '/bin/ls'], Env: [PATH] }, reference: 'committed:2', containerId: CONTAINER_ID });
      await svc.snapshots.removeContainerLayer(c.key);
      const run = await runImage(root, 'committed:2');
      assert.equal(run.stdout, 'a new ls\n', run.stderr);
      assert.equal(svc.meta.layersOf(svc.resolve('committed:2').id).length, 3);
    });

    test('an unchanged container: a new image with the same layers and an empty_layer history entry, no blob left over', async () => {
      const { c, imageId } = await container('base:1');
      const blobs = svc.content.list();
      const { id } = await commitContainer(svc, { layer: c, baseImageId: imageId, containerConfig: { Cmd: ['sh'] }, containerId: CONTAINER_ID });
      await svc.snapshots.removeContainerLayer(c.key);
      assert.notEqual(id, baseId);
      const d = svc.detail(svc.resolve(id));
      assert.deepEqual(d.record.names, []);
      assert.deepEqual(d.config.rootfs.diff_ids, svc.detail(svc.resolve(baseId)).config.rootfs.diff_ids);
      assert.equal(d.config.history!.at(-1)!.empty_layer, true);
      assert.deepEqual(svc.meta.layersOf(id).map((l) => l.chainId), svc.meta.layersOf(baseId).map((l) => l.chainId));
      assert.deepEqual(svc.content.list().filter((b) => !blobs.includes(b)).sort(), [d.record.manifestDigest, d.manifest.config.digest].sort());
    });

    test('failures leave nothing behind', async () => {
      const { c, imageId } = await container('base:1');
      mutate(c.merged);
      const blobs = svc.content.list();
      const images = svc.meta.listImages().map((i) => i.id).sort();
      const layersDir = join(root, 'snapshots', driver, 'layers');
      const layerDirs = readdirSync(layersDir).sort();
      const unchanged = () => {
        assert.deepEqual(svc.content.list(), blobs);
        assert.deepEqual(svc.meta.listImages().map((i) => i.id).sort(), images);
        assert.deepEqual(readdirSync(layersDir).sort(), layerDirs);
        assert.deepEqual(readdirSync(join(root, 'content', 'ingest')), []);
        assert.deepEqual(readdirSync(join(root, 'snapshots', driver, 'tmp')).filter((f) => !f.startsWith('rm-')), []);
      };
      const opts = { layer: c, baseImageId: imageId, containerConfig, containerId: CONTAINER_ID };
      await assert.rejects(commitContainer(svc, { ...opts, changes: ['FROBNICATE x'] }), { code: 'invalid-argument', message: /FROBNICATE is not a valid change command/ });
      await assert.rejects(commitContainer(svc, { ...opts, reference: 'x@sha256:' + '0'.repeat(64) }), { code: 'invalid-argument' });
      await assert.rejects(commitContainer(svc, { ...opts, baseImageId: 'sha256:' + 'f'.repeat(64) }), { code: 'not-found' });
      unchanged();
      await assert.rejects(commitContainer(svc, { ...opts, layer: { driver: c.driver, upper: join(work, 'missing') } }), { code: 'system' });
      unchanged();
      // The last step fails: the blobs and the layer already unpacked go again.
      const meta = svc.meta;
      const addImage = meta.addImage;
      meta.addImage = () => {
        throw new HakoError('system', 'the database is full');
      };
      try {
        await assert.rejects(commitContainer(svc, opts), { message: 'the database is full' });
      } finally {
        meta.addImage = addImage;
      }
      unchanged();
      await svc.snapshots.removeContainerLayer(c.key);
    });
  });
}

describe('interop', () => {
  test('the committed image, saved as a docker-archive, loads and runs in a private dockerd', async (t: TestContext) => {
    const why = whyNoDockerd();
    if (why) return t.skip(`dockerd cannot run here: ${why}`);
    const root = roots.get('overlay');
    if (!root) return t.skip('the overlay commit did not run');
    const archive = join(work, 'committed.tar');
    const svc = new ImageService(root);
    try {
      const out = createWriteStream(archive);
      await saveImages(svc, ['committed:1'], 'docker', out);
      await finished(out);
    } finally {
      svc.close();
    }
    const d = new Dockerd();
    try {
      await d.start();
      const load = d.docker(['load', '-i', archive]);
      assert.equal(load.status, 0, load.stderr);
      assert.match(load.stdout, /Loaded image: committed:1/);
      const run = d.docker(['run', '--rm', 'committed:1']);
      assert.equal(run.stdout, 'hello from the container\n', run.stderr);
      const check = d.docker(['run', '--rm', 'committed:1', 'sh', '-c', CHECK]);
      assert.equal(check.stdout, CHECKED, check.stderr);
      const history = d.docker(['history', '--no-trunc', '--format', '{{.CreatedBy}}|{{.Comment}}', 'committed:1']);
      assert.match(history.stdout, /^sh -c echo hello from the container > \/newfile\|my change\n/);
    } finally {
      const problems = await d.stop();
      assert.deepEqual(problems, []);
    }
  });
});
