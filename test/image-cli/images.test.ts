import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runImage } from '../helpers/run-image.ts';
import { baseRootfs, HAKO } from '../helpers/bundle.ts';

/**
 * The image commands through the real CLI, each test with its own --data-root: load a
 * docker-archive built from the busybox rootfs, list it, run a container from it, save and
 * load it back, import, tag and rmi (layers shared until the last image goes), and two
 * loads of the same image at once.
 */
const work = mkdtempSync('/tmp/hako-image-cli-');
const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

function hako(root: string, args: string[], input?: string): SpawnSyncReturns<string> {
  return spawnSync(HAKO, ['--data-root', root, ...args], { encoding: 'utf8', input: input ?? '', timeout: 60_000 });
}

function ok(r: SpawnSyncReturns<string>): string {
  assert.equal(r.status, 0, `exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}

function tarOf(dir: string, out: string, extra: string[] = []): void {
  const r = spawnSync('tar', ['-C', dir, ...extra, '-cf', out, '.'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

/** A `docker save` style archive: the given layer tars, a config with CMD, one RepoTag. */
function dockerArchive(name: string, layerTars: string[], cmd: string[], repoTag: string): string {
  const dir = join(work, `${name}.d`);
  mkdirSync(dir);
  const diffIds: string[] = [];
  const layers: string[] = [];
  for (const t of layerTars) {
    const hex = sha(readFileSync(t));
    mkdirSync(join(dir, hex), { recursive: true });
    writeFileSync(join(dir, hex, 'layer.tar'), readFileSync(t));
    diffIds.push(`sha256:${hex}`);
    layers.push(`${hex}/layer.tar`);
  }
  const created = new Date(Date.now() - 2 * 3600_000).toISOString();
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      created,
      config: { Cmd: cmd, Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
      rootfs: { type: 'layers', diff_ids: diffIds },
      history: layerTars.map((_, i) => ({ created, created_by: `/bin/sh -c #(nop) ADD layer ${i} in / ` })),
    }),
  );
  const configName = `${sha(config)}.json`;
  writeFileSync(join(dir, configName), config);
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify([{ Config: configName, RepoTags: [repoTag], Layers: layers }]));
  const out = join(work, `${name}.tar`);
  tarOf(dir, out);
  rmSync(dir, { recursive: true });
  return out;
}

const newRoot = () => mkdtempSync(join(work, 'root-'));
const blobs = (root: string) => readdirSync(join(root, 'content', 'blobs', 'sha256'));
const driver = (root: string) => (JSON.parse(readFileSync(join(root, 'snapshots', 'snapshotter.json'), 'utf8')) as { driver: string }).driver;
const layerDirs = (root: string) => {
  const dir = join(root, 'snapshots', driver(root), 'layers');
  return existsSync(dir) ? readdirSync(dir) : [];
};

describe('image commands', () => {
  let baseLayer = '';
  let extraLayer = '';
  let busybox = '';
  let derived = '';

  before(() => {
    baseLayer = join(work, 'base-layer.tar');
    tarOf(baseRootfs(), baseLayer);
    const extra = join(work, 'extra');
    mkdirSync(join(extra, 'etc'), { recursive: true });
    writeFileSync(join(extra, 'etc', 'motd'), 'from the second layer\n');
    extraLayer = join(work, 'extra-layer.tar');
    tarOf(extra, extraLayer, ['--owner=0', '--group=0']);
    busybox = dockerArchive('busybox', [baseLayer], ['sh', '-c', 'echo hello from the image'], 'busybox:latest');
    derived = dockerArchive('derived', [baseLayer, extraLayer], ['cat', '/etc/motd'], 'hako/derived:1');
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  test('load a docker archive; images lists it as Docker does; it runs', async () => {
    const root = newRoot();
    assert.equal(ok(hako(root, ['load', '-i', busybox])), 'Loaded image: busybox:latest\n');
    const lines = ok(hako(root, ['images'])).split('\n');
    assert.match(lines[0]!, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    assert.match(lines[1]!, /^busybox\s+latest\s+[0-9a-f]{12}\s+2 hours ago\s+\d+(\.\d+)?MB$/);
    assert.equal(ok(hako(root, ['images', '--format', '{{.Repository}}:{{.Tag}}'])), 'busybox:latest\n');
    const row = JSON.parse(ok(hako(root, ['image', 'ls', '--format', 'json'])));
    assert.equal(row.Repository, 'busybox');
    assert.equal(ok(hako(root, ['images', '-f', 'dangling=true'])).split('\n').length, 2, 'the header only');
    assert.equal(ok(hako(root, ['images', '-q', '-f', 'reference=busy*'])).trim().length, 12);
    const [inspect] = JSON.parse(ok(hako(root, ['image', 'inspect', 'busybox'])));
    assert.deepEqual(inspect.RepoTags, ['busybox:latest']);
    assert.deepEqual(inspect.Config.Cmd, ['sh', '-c', 'echo hello from the image']);
    assert.match(ok(hako(root, ['history', 'busybox'])), /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT\n[0-9a-f]{12}\s+2 hours ago\s+\/bin\/sh -c #\(nop\) ADD layer 0 in \//);
    assert.match(ok(hako(root, ['info'])), /Images: 1\n[\s\S]*Storage Driver: (overlay|copy)/);

    const missing = hako(root, ['image', 'inspect', 'nope']);
    assert.equal(missing.status, 1);
    assert.equal(missing.stdout, '[]\n');
    assert.equal(missing.stderr, 'hako: No such image: nope\n');

    // a container from the image: snapshot, mount, a bundle whose process comes from the image
    const run = await runImage(root, 'busybox');
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, 'hello from the image\n');
  });

  test('save → load round trip into an empty store (docker and oci formats)', () => {
    const root = newRoot();
    ok(hako(root, ['load', '-i', busybox]));
    const id = ok(hako(root, ['images', '-q', '--no-trunc'])).trim();
    const saved = join(work, 'saved.tar');
    ok(hako(root, ['save', '-o', saved, 'busybox']));
    const oci = join(work, 'saved-oci.tar');
    const r = spawnSync(HAKO, ['--data-root', root, 'save', '--format', 'oci', 'busybox:latest'], { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 30 });
    assert.equal(r.status, 0, String(r.stderr));
    writeFileSync(oci, r.stdout);
    for (const archive of [saved, oci]) {
      const fresh = newRoot();
      assert.equal(ok(hako(fresh, ['load', '-i', archive])), 'Loaded image: busybox:latest\n');
      assert.equal(ok(hako(fresh, ['images', '-q', '--no-trunc'])).trim(), id);
    }
    // from stdin, and an OCI layout directory
    const fresh = newRoot();
    const viaStdin = spawnSync(HAKO, ['--data-root', fresh, 'load', '-q'], { input: readFileSync(saved), encoding: 'utf8' });
    assert.equal(ok(viaStdin), 'Loaded image: busybox:latest\n');
    const layout = join(work, 'layout');
    mkdirSync(layout);
    assert.equal(spawnSync('tar', ['-C', layout, '-xf', oci]).status, 0);
    const fromDir = newRoot();
    assert.equal(ok(hako(fromDir, ['load', '-i', layout])), 'Loaded image: busybox:latest\n');
    const bad = hako(root, ['save', '-o', join(work, 'x.tar'), 'nope']);
    assert.equal(bad.status, 1);
    assert.equal(bad.stderr, 'hako: No such image: nope\n');
    assert.equal(existsSync(join(work, 'x.tar')), false);
  });

  test('import with -c and -m: inspect shows the Cmd, history the message', () => {
    const root = newRoot();
    const gz = join(work, 'rootfs.tar.gz');
    assert.equal(spawnSync('tar', ['-C', baseRootfs(), '-czf', gz, '.']).status, 0);
    const id = ok(hako(root, ['import', '-c', 'CMD ["echo","hi"]', '-c', 'ENV A=b', '-m', 'from a tarball', gz, 'imported:v1'])).trim();
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    assert.equal(ok(hako(root, ['image', 'inspect', '--format', '{{json .Config.Cmd}}', 'imported:v1'])), '["echo","hi"]\n');
    assert.equal(ok(hako(root, ['image', 'inspect', '-f', '{{.Id}} {{.Comment}}', 'imported:v1'])), `${id} from a tarball\n`);
    assert.match(ok(hako(root, ['history', 'imported:v1'])), /from a tarball/);
    const viaStdin = spawnSync(HAKO, ['--data-root', root, 'import', '-', 'other'], { input: readFileSync(gz), encoding: 'utf8' });
    assert.match(ok(viaStdin), /^sha256:/);
    assert.match(ok(hako(root, ['history', 'other'])), /Imported from -/);
  });

  test('tag and rmi: shared layers stay until the last image using them goes', () => {
    const root = newRoot();
    ok(hako(root, ['load', '-i', busybox]));
    ok(hako(root, ['load', '-i', derived]));
    const before = blobs(root);
    assert.equal(layerDirs(root).length, 2, 'the base layer is unpacked once');
    ok(hako(root, ['tag', 'hako/derived:1', 'copy:two']));
    assert.equal(ok(hako(root, ['images', '--format', '{{.Repository}}:{{.Tag}}'])).split('\n').filter(Boolean).sort().join(), 'busybox:latest,copy:two,hako/derived:1');

    const derivedId = ok(hako(root, ['images', '-q', '--no-trunc', 'copy:two'])).trim();
    const conflict = hako(root, ['rmi', derivedId]);
    assert.equal(conflict.status, 1);
    assert.match(conflict.stderr, /^hako: conflict: unable to delete [0-9a-f]{12} \(must be forced\) - image is referenced in multiple repositories\n$/);

    const rm1 = ok(hako(root, ['rmi', 'busybox']));
    assert.match(rm1, /^Untagged: busybox:latest\nDeleted: sha256:[0-9a-f]{64}\n$/, 'no layer deleted: the derived image uses it');
    assert.equal(layerDirs(root).length, 2);
    assert.equal(ok(hako(root, ['rmi', 'copy:two'])), 'Untagged: copy:two\n');
    const rm2 = ok(hako(root, ['rmi', 'hako/derived:1']));
    assert.equal(rm2.split('\n').filter((l) => l.startsWith('Deleted: ')).length, 3, 'the image and both layers');
    assert.deepEqual(layerDirs(root), []);
    const images = new Set(before.filter((b) => !blobs(root).includes(b)));
    assert.ok(images.size >= 5, 'configs, manifests and layer blobs are gone');
    for (const layer of [baseLayer, extraLayer]) assert.ok(!blobs(root).includes(sha(readFileSync(layer))));

    const missing = hako(root, ['rmi', 'nope', 'busybox']);
    assert.equal(missing.status, 1);
    assert.equal(missing.stderr, 'hako: No such image: nope\nhako: No such image: busybox\n');
  });

  test('image prune removes dangling images; -a all of them', () => {
    const root = newRoot();
    ok(hako(root, ['load', '-i', busybox]));
    ok(hako(root, ['load', '-i', derived]));
    ok(hako(root, ['rmi', 'busybox']));
    ok(hako(root, ['load', '-i', busybox]));
    ok(hako(root, ['tag', 'busybox', 'hako/derived:1'])); // the derived image loses its only name: dangling
    assert.match(ok(hako(root, ['images', '-f', 'dangling=true'])), /\n<none>\s+<none>\s+[0-9a-f]{12}/);
    const pruned = ok(hako(root, ['image', 'prune', '-f']));
    assert.match(pruned, /^Deleted Images:\ndeleted: sha256:[0-9a-f]{64}\ndeleted: sha256:[0-9a-f]{64}\n\nTotal reclaimed space: \d+(\.\d+)?kB\n$/);
    assert.equal(ok(hako(root, ['image', 'prune', '-f'])), 'Total reclaimed space: 0B\n');
    assert.match(ok(hako(root, ['image', 'prune', '-a', '-f'])), /^Deleted Images:\nuntagged: busybox:latest\nuntagged: hako\/derived:1\ndeleted: sha256:[0-9a-f]{64}\ndeleted: sha256:[0-9a-f]{64}\n\nTotal reclaimed space: 2.\d+MB\n$/);
    assert.deepEqual(layerDirs(root), []);
    assert.equal(ok(hako(root, ['images', '-q'])), '');
  });

  test('a layer whose content does not match its diff id is refused and not kept', () => {
    const root = newRoot();
    const dir = join(work, 'bad.d');
    mkdirSync(dir);
    const gz = spawnSync('gzip', ['-c', extraLayer], { maxBuffer: 1 << 28 }).stdout as Buffer;
    writeFileSync(join(dir, 'layer.tar.gz'), gz);
    const wrong = `sha256:${'0'.repeat(64)}`;
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [wrong] } }));
    writeFileSync(join(dir, 'config.json'), config);
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify([{ Config: 'config.json', RepoTags: ['bad:1'], Layers: ['layer.tar.gz'] }]));
    const archive = join(work, 'bad.tar');
    tarOf(dir, archive);
    const r = hako(root, ['load', '-i', archive]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`^hako: layer 0 \\(sha256:[0-9a-f]{64}\\) unpacks to sha256:${sha(readFileSync(extraLayer))}, but the image config says its diff id is ${wrong}\n$`));
    assert.deepEqual(layerDirs(root), []);
    assert.deepEqual(readdirSync(join(root, 'snapshots', driver(root), 'tmp')), []);
    assert.equal(ok(hako(root, ['images', '-q'])), '');
  });

  test('rmi of one image while another sharing its base layer loads: the base layer is never deleted under it', async () => {
    const root = newRoot();
    ok(hako(root, ['load', '-i', busybox])); // fixes the driver; both images share the base layer
    const baseDir = join(root, 'snapshots', driver(root), 'layers', sha(readFileSync(baseLayer)), 'diff');
    // Each loop loads its image, checks the base layer is there, removes the image again.
    const loop = (archive: string, ref: string) =>
      new Promise<string>((resolve) => {
        const script = `for i in $(seq 12); do "$0" --data-root "$1" load -q -i "$2" >/dev/null || echo "load failed"; ` +
          `[ -d "$4" ] || echo "base layer missing after load $i"; "$0" --data-root "$1" rmi "$3" >/dev/null || echo "rmi failed"; done`;
        const c = spawn('sh', ['-c', script, HAKO, root, archive, ref, baseDir], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        c.stdout.on('data', (d: Buffer) => (out += d));
        c.stderr.on('data', (d: Buffer) => (out += d));
        c.on('exit', () => resolve(out));
      });
    ok(hako(root, ['rmi', 'busybox']));
    const [a, b] = await Promise.all([loop(busybox, 'busybox:latest'), loop(derived, 'hako/derived:1')]);
    assert.equal(a, '', a);
    assert.equal(b, '', b);
    // Both gone at the end, and with them every layer and blob.
    assert.deepEqual(layerDirs(root), []);
    assert.deepEqual(blobs(root), []);
  });

  test('two processes load the same image at once: both succeed, one copy of each blob and layer', async () => {
    const root = newRoot();
    const runLoad = () =>
      new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        const p = spawn(HAKO, ['--data-root', root, 'load', '-i', derived]);
        let out = '';
        let err = '';
        p.stdout.on('data', (d) => (out += d));
        p.stderr.on('data', (d) => (err += d));
        p.on('close', (code) => resolve({ code, out, err }));
      });
    const results = await Promise.all([runLoad(), runLoad(), runLoad()]);
    for (const r of results) {
      assert.equal(r.code, 0, r.err);
      assert.equal(r.out, 'Loaded image: hako/derived:1\n');
    }
    assert.equal(layerDirs(root).length, 2);
    assert.equal(readdirSync(join(root, 'snapshots', driver(root), 'tmp')).length, 0);
    if (driver(root) === 'overlay') assert.equal(readdirSync(join(root, 'snapshots', 'overlay', 'l')).length, 2);
    assert.deepEqual(readdirSync(join(root, 'content', 'ingest')), []);
    const names = blobs(root);
    for (const layer of [baseLayer, extraLayer]) assert.equal(names.filter((n) => n === sha(readFileSync(layer))).length, 1);
    assert.equal(ok(hako(root, ['images', '-q'])).split('\n').filter(Boolean).length, 1);
    // the unpacked tree is the one loaded: a container of it reads the second layer's file
    assert.equal(readFileSync(join(root, 'snapshots', driver(root), 'layers', layerDirs(root).find((d) => existsSync(join(root, 'snapshots', driver(root), 'layers', d, 'diff', 'etc', 'motd')))!, 'diff', 'etc', 'motd'), 'utf8'), 'from the second layer\n');
  });
});
