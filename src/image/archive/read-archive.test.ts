import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { ContentStore } from '../content-store.ts';
import { digestOf } from '../digest.ts';
import { MediaType } from '../media-types.ts';
import { readImageArchive, readOciLayoutDir } from './read-archive.ts';

const roots: string[] = [];
after(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));
const freshStore = () => {
  const root = mkdtempSync(join(tmpdir(), 'hako-archive-'));
  roots.push(root);
  return new ContentStore(root);
};

/** A tar of name → content (strings or buffers), as a Buffer. */
async function tar(files: Record<string, string | Buffer>, links: Record<string, string> = {}): Promise<Buffer> {
  const p = pack();
  for (const [name, content] of Object.entries(files)) p.entry({ name }, typeof content === 'string' ? Buffer.from(content) : content);
  for (const [name, linkname] of Object.entries(links)) p.entry({ name, type: 'symlink', linkname });
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function sampleImage() {
  const layer = await tar({ 'hello.txt': 'hello from a layer\n' });
  const diffId = digestOf(layer);
  const config = JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    config: { Cmd: ['cat', '/hello.txt'] },
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created_by: 'test' }],
  });
  return { layer, diffId, config, configDigest: digestOf(config) };
}

describe('docker save archives', () => {
  test('one pass: blobs stored, a manifest made, names kept', async () => {
    const { layer, diffId, config, configDigest } = await sampleImage();
    const cfgName = `${configDigest.slice(7)}.json`;
    const archive = await tar({
      [cfgName]: config,
      'abc123/layer.tar': layer,
      'manifest.json': JSON.stringify([{ Config: cfgName, RepoTags: ['example/hello:1.0'], Layers: ['abc123/layer.tar'] }]),
      repositories: '{}',
    });
    const store = freshStore();
    const [img, ...rest] = await readImageArchive(Readable.from(archive), store);
    assert.equal(rest.length, 0);
    assert.deepEqual(img!.names, ['example/hello:1.0']);
    assert.equal(img!.manifest.config.digest, configDigest);
    assert.deepEqual(img!.manifest.layers, [{ mediaType: MediaType.DockerLayer, digest: diffId, size: layer.length }]);
    assert.ok(store.has(img!.manifestDigest) && store.has(diffId) && store.has(configDigest));
    assert.deepEqual(img!.config.config?.Cmd, ['cat', '/hello.txt']);
  });

  test('a gzip layer (newer docker save) and an OCI-style symlinked layer path are understood', async () => {
    const { layer, config, configDigest } = await sampleImage();
    const gz = gzipSync(layer);
    const archive = await tar(
      { [`blobs/sha256/${configDigest.slice(7)}`]: config, [`blobs/sha256/${digestOf(gz).slice(7)}`]: gz, 'manifest.json': '' },
      { 'abc/layer.tar': `../blobs/sha256/${digestOf(gz).slice(7)}` },
    );
    const fixed = await tar({
      [`blobs/sha256/${configDigest.slice(7)}`]: config,
      [`blobs/sha256/${digestOf(gz).slice(7)}`]: gz,
      'manifest.json': JSON.stringify([{ Config: `blobs/sha256/${configDigest.slice(7)}`, RepoTags: null, Layers: ['abc/layer.tar'] }]),
    }, { 'abc/layer.tar': `../blobs/sha256/${digestOf(gz).slice(7)}` });
    await assert.rejects(readImageArchive(Readable.from(archive), freshStore()), /manifest\.json: invalid JSON/);
    const [img] = await readImageArchive(Readable.from(fixed), freshStore());
    assert.equal(img!.manifest.layers[0]!.mediaType, MediaType.DockerLayerGzip);
    assert.deepEqual(img!.names, []);
  });

  test('a layer whose bytes do not match the diff_id is refused', async () => {
    const { config, configDigest } = await sampleImage();
    const other = await tar({ 'evil.txt': 'not the layer the config names\n' });
    const archive = await tar({
      'c.json': config,
      'l/layer.tar': other,
      'manifest.json': JSON.stringify([{ Config: 'c.json', RepoTags: ['x:1'], Layers: ['l/layer.tar'] }]),
    });
    void configDigest;
    await assert.rejects(readImageArchive(Readable.from(archive), freshStore()), /layer 0 \(l\/layer\.tar\) does not match the image's diff_id/);
  });

  test('missing members and hostile member names are clear errors', async () => {
    const { config } = await sampleImage();
    const missing = await tar({ 'c.json': config, 'manifest.json': JSON.stringify([{ Config: 'c.json', Layers: ['nope/layer.tar'] }]) });
    await assert.rejects(readImageArchive(Readable.from(missing), freshStore()), /Layers\[0\] "nope\/layer\.tar" is missing/);
    const hostile = await tar({ '../../etc/evil': 'x', 'manifest.json': '[]' });
    await assert.rejects(readImageArchive(Readable.from(hostile), freshStore()), /member "\.\.\/\.\.\/etc\/evil" is not a relative name/);
    const neither = await tar({ 'readme.txt': 'hi' });
    await assert.rejects(readImageArchive(Readable.from(neither), freshStore()), /neither manifest\.json .* nor index\.json/);
  });
});

describe('OCI image layouts', () => {
  async function layout() {
    const { layer, config, configDigest } = await sampleImage();
    const gz = gzipSync(layer);
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: configDigest, size: Buffer.byteLength(config) },
      layers: [{ mediaType: MediaType.OciLayerGzip, digest: digestOf(gz), size: gz.length }],
    });
    const index = JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: MediaType.OciManifest, digest: digestOf(manifest), size: Buffer.byteLength(manifest), annotations: { 'org.opencontainers.image.ref.name': 'example/hello:2.0' } }],
    });
    const blobs: Record<string, string | Buffer> = {
      [`blobs/sha256/${configDigest.slice(7)}`]: config,
      [`blobs/sha256/${digestOf(gz).slice(7)}`]: gz,
      [`blobs/sha256/${digestOf(manifest).slice(7)}`]: manifest,
    };
    return { files: { 'oci-layout': '{"imageLayoutVersion":"1.0.0"}', 'index.json': index, ...blobs }, manifestDigest: digestOf(manifest) };
  }

  test('as a tar and as a directory', async () => {
    const { files, manifestDigest } = await layout();
    const [fromTar] = await readImageArchive(Readable.from(await tar(files)), freshStore());
    assert.equal(fromTar!.manifestDigest, manifestDigest);
    assert.deepEqual(fromTar!.names, ['example/hello:2.0']);
    const dir = mkdtempSync(join(tmpdir(), 'hako-layout-'));
    roots.push(dir);
    for (const [name, content] of Object.entries(files)) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), content);
    }
    const [fromDir] = await readOciLayoutDir(dir, freshStore());
    assert.equal(fromDir!.manifestDigest, manifestDigest);
  });

  test('a blob whose content does not match its name is refused', async () => {
    const { files } = await layout();
    const name = Object.keys(files).find((n) => n.startsWith('blobs/') && !n.endsWith(files['index.json']!.toString()))!;
    const tampered = { ...files, [name]: 'tampered' };
    await assert.rejects(readImageArchive(Readable.from(await tar(tampered)), freshStore()), /does not match its name|bytes, the descriptor says/);
  });
});
