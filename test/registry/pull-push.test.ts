import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { storePaths } from '../../src/engine/store-paths.ts';
import { HAKO } from '../helpers/bundle.ts';
import { Engine } from '../helpers/engine.ts';
import { makeTestImages, pushLayout, skopeoInspectDigest, startCutProxy, startRegistry, whyNoRegistry, type Registry } from '../helpers/registry.ts';

/**
 * hako's distribution client against Debian's docker-registry on 127.0.0.1: push, pull
 * into an empty store and run; basic and token auth; a cut connection resumed; a tampered
 * blob refused; platform choice from an index.
 */
const skip = whyNoRegistry();
if (skip) console.log(`# registry tests skipped: ${skip}`);

const work = mkdtempSync('/tmp/hako-reg-');
const roots: string[] = [];
let images: { single: string; multi: string; big: string };

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * hako in a child process, awaited: the token server and the cut proxy run in this
 * process, so a blocking spawnSync would starve them.
 */
function hako(args: string[], opts: { input?: string; env?: Record<string, string> } = {}): Promise<Result> {
  return new Promise((resolve) => {
    const p = spawn(HAKO, args, { env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), 120_000);
    p.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
    p.stdin.end(opts.input ?? '');
  });
}

/** An empty data root and a private Docker config dir. */
function store(): { root: string; dockerConfig: string; run: (args: string[], opts?: { input?: string; env?: Record<string, string> }) => Promise<Result> } {
  const root = mkdtempSync(join(work, 'root-'));
  roots.push(root);
  const dockerConfig = mkdtempSync(join(work, 'docker-'));
  return {
    root,
    dockerConfig,
    run: (args, opts = {}) => hako(['--data-root', root, ...args], { ...opts, env: { DOCKER_CONFIG: dockerConfig, HAKO_REGISTRY_CONFIG: join(work, 'none.json'), ...opts.env } }),
  };
}

function ok(r: Result | SpawnSyncReturns<string>, what: string): string {
  assert.equal(r.status, 0, `${what}: exit ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** The store holds no blob, partial download or layer of a failed pull. */
function storeContents(root: string): { blobs: string[]; ingest: string[]; layers: string[] } {
  const p = storePaths(root);
  const list = (d: string) => (existsSync(d) ? readdirSync(d) : []);
  return {
    blobs: list(join(p.content, 'blobs', 'sha256')),
    ingest: list(join(p.content, 'ingest')),
    layers: [...list(join(p.snapshots, 'overlay', 'layers')), ...list(join(p.snapshots, 'copy', 'layers'))],
  };
}

function blobFile(reg: Registry, digest: string): string {
  const hex = digest.slice('sha256:'.length);
  return join(reg.dir, 'storage', 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
}

function layersOf(layout: string): { digest: string; size: number }[] {
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const m = JSON.parse(readFileSync(join(layout, 'blobs', 'sha256', index.manifests[0]!.digest.slice(7)), 'utf8')) as { layers: { digest: string; size: number }[] };
  return m.layers;
}

before(async () => {
  if (!skip) images = await makeTestImages(join(work, 'images'));
});
after(() => {
  for (const r of roots) {
    spawnSync(HAKO, ['--data-root', r, 'rm', '-f', ...spawnSync(HAKO, ['--data-root', r, 'ps', '-aq'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean)]);
    rmSync(storePaths(r).runtime, { recursive: true, force: true });
    rmSync(r, { recursive: true, force: true });
  }
  rmSync(work, { recursive: true, force: true });
});

describe('registry: push and pull', { skip }, () => {
  let reg: Registry;
  before(async () => {
    reg = await startRegistry();
  });
  after(() => reg?.stop());

  test('push, pull back into an empty store, run; digests agree with skopeo', async () => {
    const src = new Engine('hako-reg-src-');
    roots.push(src.root);
    const ref = `${reg.host}/test/busybox:v1`;
    src.ok(['tag', 'busybox', ref]);
    const pushed = src.hako(['push', ref]);  // a registry without auth: no in-process server to starve
    const out = ok(pushed, 'push');
    assert.match(out, new RegExp(`^The push refers to repository \\[${reg.host}/test/busybox\\]$`, 'm'));
    const digest = /^v1: digest: (sha256:[0-9a-f]{64}) size: \d+$/m.exec(out)?.[1];
    assert.ok(digest, out);
    assert.equal(await skopeoInspectDigest(ref), digest);
    // Again: nothing to upload.
    assert.match(ok(src.hako(['push', ref]), 'push again'), /Layer already exists/);

    const dst = store();
    const pulled = ok(await dst.run(['pull', ref]), 'pull');
    assert.match(pulled, new RegExp(`^Digest: ${digest}$`, 'm'));
    assert.match(pulled, new RegExp(`^Status: Downloaded newer image for ${reg.host}/test/busybox:v1$`, 'm'));
    assert.match(pulled, new RegExp(`^${reg.host}/test/busybox:v1$`, 'm'));
    assert.equal(ok(await dst.run(['run', '--rm', ref, 'echo', 'hi']), 'run'), 'hi\n');
    const inspect = JSON.parse(ok(await dst.run(['image', 'inspect', ref]), 'inspect')) as { Id: string; RepoDigests: string[] }[];
    assert.deepEqual(inspect[0]!.RepoDigests, [`${reg.host}/test/busybox@${digest}`]);
    assert.equal(inspect[0]!.Id, JSON.parse(src.ok(['image', 'inspect', ref]))[0].Id);
    assert.match(ok(await dst.run(['pull', ref]), 'pull again'), /Status: Image is up to date/);
    src.cleanup();
  });

  test('an image pushed by skopeo (gzip layers) pulls, runs, and pushes on by mount and in chunks', async () => {
    await pushLayout(images.single, `${reg.host}/other/single:latest`);
    const s = store();
    ok(await s.run(['pull', `${reg.host}/other/single`]), 'pull');
    assert.equal(ok(await s.run(['run', '--rm', `${reg.host}/other/single`, 'cat', '/hello.txt']), 'run'), 'hello from the registry\n');
    // A push to another repository of the same registry mounts the blobs it came with.
    ok(await s.run(['tag', `${reg.host}/other/single`, `${reg.host}/mounted/single:1`]), 'tag');
    const out = ok(await s.run(['push', `${reg.host}/mounted/single:1`]), 'push');
    assert.match(out, /Mounted from other\/single/);
    assert.equal(await skopeoInspectDigest(`${reg.host}/mounted/single:1`), await skopeoInspectDigest(`${reg.host}/other/single:latest`));
    // Chunked: a small chunk size makes several PATCHes.
    const proxy = await startCutProxy(reg.host, { cutAfterBytes: 0, times: 0, match: () => false });
    try {
      ok(await s.run(['tag', `${reg.host}/other/single`, `${proxy.host}/chunked/single:1`]), 'tag');
      const r = await s.run(['push', `${proxy.host}/chunked/single:1`], { env: { HAKO_PUSH_CHUNK_SIZE: '65536' } });
      ok(r, 'chunked push');
      const patches = proxy.requests.filter((q) => q.method === 'PATCH');
      assert.ok(patches.length > 2, `PATCH requests: ${patches.length}`);
      assert.equal(await skopeoInspectDigest(`${reg.host}/chunked/single:1`), await skopeoInspectDigest(`${reg.host}/other/single:latest`));
    } finally {
      await proxy.stop();
    }
  });

  test('a multi-platform index: linux/amd64 by default, --platform picks another', async () => {
    await pushLayout(images.multi, `${reg.host}/test/multi:latest`, { all: true });
    const s = store();
    ok(await s.run(['pull', `${reg.host}/test/multi`]), 'pull');
    const inspect = JSON.parse(ok(await s.run(['image', 'inspect', `${reg.host}/test/multi`]), 'inspect'))[0];
    assert.equal(inspect.Architecture, 'amd64');
    assert.deepEqual(inspect.RepoDigests, [`${reg.host}/test/multi@${await skopeoInspectDigest(`${reg.host}/test/multi:latest`)}`]);
    assert.equal(ok(await s.run(['run', '--rm', `${reg.host}/test/multi`, 'cat', '/arch.txt']), 'run'), 'amd64\n');
    const arm = store();
    ok(await arm.run(['pull', '--platform', 'linux/arm64', `${reg.host}/test/multi`]), 'pull arm64');
    assert.equal(JSON.parse(ok(await arm.run(['image', 'inspect', `${reg.host}/test/multi`]), 'inspect'))[0].Architecture, 'arm64');
    const none = await arm.run(['pull', '--platform', 'linux/s390x', `${reg.host}/test/multi`]);
    assert.equal(none.status, 1);
    assert.match(none.stderr, /no image for platform linux\/s390x.*available: linux\/amd64, linux\/arm64/);
  });

  test('run --pull: missing pulls (saying so), never refuses, always pulls', async () => {
    await pushLayout(images.single, `${reg.host}/test/runpull:latest`);
    const s = store();
    const never = await s.run(['run', '--rm', '--pull', 'never', `${reg.host}/test/runpull`, 'true']);
    assert.equal(never.status, 125);
    const r = await s.run(['run', '--rm', `${reg.host}/test/runpull`, 'cat', '/hello.txt']);
    assert.equal(r.stdout, 'hello from the registry\n', r.stderr);
    assert.match(r.stderr, new RegExp(`^Unable to find image '${reg.host}/test/runpull' locally$`, 'm'));
    const again = await s.run(['run', '--rm', '--pull', 'always', `${reg.host}/test/runpull`, 'true']);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /Image is up to date/);
  });

  test('bad references and missing images: clear errors, exit 1', async () => {
    const s = store();
    const missing = await s.run(['pull', `${reg.host}/test/nothing:here`]);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /manifest for .*test\/nothing:here not found: manifest unknown/);
    const bad = await s.run(['pull', 'UPPER/Case']);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /invalid reference format/);
    const noTag = await s.run(['push', `${reg.host}/test/absent:1`]);
    assert.equal(noTag.status, 1);
    assert.match(noTag.stderr, /An image does not exist locally with the tag|No such image/);
    assert.deepEqual(storeContents(s.root).blobs, []);
  });

  test('a tampered blob is refused and nothing of it stays', async () => {
    await pushLayout(images.single, `${reg.host}/test/tampered:latest`);
    const layer = layersOf(images.single)[1]!;
    const file = blobFile(reg, layer.digest);
    const data = readFileSync(file);
    data[data.length - 20] = data[data.length - 20]! ^ 0xff;
    writeFileSync(file, data);
    const s = store();
    const r = await s.run(['pull', `${reg.host}/test/tampered`]);
    assert.equal(r.status, 1, r.stdout);
    assert.match(r.stderr, new RegExp(`${layer.digest}.*digest mismatch|digest mismatch.*${layer.digest}`));
    const left = storeContents(s.root);
    assert.deepEqual(left.ingest, [], 'no partial download');
    assert.ok(!left.blobs.includes(layer.digest.slice(7)), 'the bad blob is not stored');
    assert.deepEqual(left.layers, [], `no layer unpacked ${r.stderr}`);
    assert.equal(ok(await s.run(['images', '-q']), 'images'), '');
  });

  test('two pulls of one image at once fetch each blob once', async () => {
    await pushLayout(images.big, `${reg.host}/test/twice:latest`);
    const proxy = await startCutProxy(reg.host, { cutAfterBytes: 0, times: 0, match: () => false });
    try {
      const s = store();
      const ref = `${proxy.host}/test/twice`;
      const runs = await Promise.all(
        [0, 1].map(
          () =>
            new Promise<{ status: number | null; err: string }>((resolve) => {
              const p = spawn(HAKO, ['--data-root', s.root, 'pull', ref], { env: { ...process.env, DOCKER_CONFIG: s.dockerConfig } });
              let err = '';
              p.stderr.on('data', (d) => (err += d));
              p.stdout.resume();
              p.on('exit', (status) => resolve({ status, err }));
            }),
        ),
      );
      for (const r of runs) assert.equal(r.status, 0, r.err);
      for (const l of layersOf(images.big)) {
        const gets = proxy.requests.filter((q) => q.method === 'GET' && q.path.endsWith(`/blobs/${l.digest}`));
        assert.equal(gets.length, 1, `GETs of ${l.digest}: ${gets.length}`);
      }
      assert.equal(ok(await s.run(['run', '--rm', ref, 'true']), 'run'), '');
    } finally {
      await proxy.stop();
    }
  });
});

describe('registry: an interrupted pull resumes', { skip }, () => {
  let reg: Registry;
  before(async () => {
    reg = await startRegistry();
    await pushLayout(images.big, `${reg.host}/test/big:latest`);
  });
  after(() => reg?.stop());

  const bigLayer = () => layersOf(images.big).reduce((a, b) => (b.size > a.size ? b : a));

  test('cut off mid-layer: the same pull resumes with a range, nothing fetched twice', async () => {
    const layer = bigLayer();
    const cut = Math.floor(layer.size / 3);
    const proxy = await startCutProxy(reg.host, { cutAfterBytes: cut, times: 1, match: (m, p) => m === 'GET' && p.endsWith(`/blobs/${layer.digest}`) });
    try {
      const s = store();
      ok(await s.run(['pull', `${proxy.host}/test/big`]), 'pull');
      const gets = proxy.requests.filter((q) => q.method === 'GET' && q.path.endsWith(`/blobs/${layer.digest}`));
      assert.equal(gets.length, 2, JSON.stringify(gets));
      assert.equal(gets[0]!.range, undefined);
      assert.equal(gets[0]!.bytesSent, cut);
      // What the client had when the connection died (bytes still in flight are lost).
      const from = Number(/^bytes=(\d+)-$/.exec(gets[1]!.range ?? '')?.[1]);
      assert.ok(from > cut / 2 && from <= cut, `resumed from ${gets[1]!.range}, cut at ${cut}`);
      assert.equal(gets[1]!.status, 206);
      assert.equal(gets[1]!.bytesSent, layer.size - from);
      assert.equal(ok(await s.run(['run', '--rm', `${proxy.host}/test/big`, 'true']), 'run'), '');
    } finally {
      await proxy.stop();
    }
  });

  test('a pull that gives up keeps the partial layer; the next pull resumes from it', async () => {
    const layer = bigLayer();
    const cut = 512 * 1024;
    // Every attempt of the first pull is cut: it fails, keeping what arrived.
    const proxy = await startCutProxy(reg.host, { cutAfterBytes: cut, times: 5, match: (m, p) => m === 'GET' && p.endsWith(`/blobs/${layer.digest}`) });
    try {
      const s = store();
      const first = await s.run(['pull', `${proxy.host}/test/big`]);
      assert.equal(first.status, 1, first.stdout);
      assert.match(first.stderr, /broke off at \d+ of \d+ bytes.*pull again to resume/);
      const partial = storeContents(s.root).ingest;
      assert.equal(partial.length, 1, JSON.stringify(partial));
      const kept = statSync(join(storePaths(s.root).content, 'ingest', partial[0]!)).size;
      assert.ok(kept > 0 && kept <= 5 * cut, `kept ${kept}`);
      assert.equal(ok(await s.run(['images', '-q']), 'images'), '');
      ok(await s.run(['pull', `${proxy.host}/test/big`]), 'second pull');
      const gets = proxy.requests.filter((q) => q.method === 'GET' && q.path.endsWith(`/blobs/${layer.digest}`));
      assert.equal(gets.at(-1)!.range, `bytes=${kept}-`);
      assert.equal(gets.at(-1)!.bytesSent, layer.size - kept, 'only the rest is sent');
      assert.deepEqual(storeContents(s.root).ingest, []);
    } finally {
      await proxy.stop();
    }
  });
});

describe('registry: authentication', { skip }, () => {
  for (const auth of ['basic', 'token'] as const) {
    describe(`${auth} auth`, () => {
      let reg: Registry;
      before(async () => {
        reg = await startRegistry({ auth, users: { alice: 'wonderland' } });
        await pushLayout(images.single, `${reg.host}/private/img:latest`, { creds: 'alice:wonderland' });
        if (auth === 'token') await pushLayout(images.single, `${reg.host}/public/img:latest`, { creds: 'alice:wonderland' });
      });
      after(() => reg?.stop());

      test("without credentials: refused with Docker's message", async () => {
        const s = store();
        const r = await s.run(['pull', `${reg.host}/private/img`]);
        assert.equal(r.status, 1);
        assert.match(r.stderr, /pull access denied for .*private\/img.*hako login|unauthorized/);
        assert.deepEqual(storeContents(s.root).blobs, []);
      });

      test('a wrong password: a clear error and exit 1', async () => {
        const s = store();
        const login = await s.run(['login', '-u', 'alice', '--password-stdin', reg.host], { input: 'wrong\n' });
        assert.equal(login.status, 1);
        assert.match(login.stderr, /unauthorized: .*(invalid username or password|authentication required)/);
        assert.ok(!existsSync(join(s.dockerConfig, 'config.json')), 'nothing stored');
        writeFileSync(join(s.dockerConfig, 'config.json'), JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from('alice:wrong').toString('base64') } } }));
        const r = await s.run(['pull', `${reg.host}/private/img`]);
        assert.equal(r.status, 1);
        assert.match(r.stderr, /unauthorized: .*(invalid username or password|authentication required)/);
      });

      test('login stores the credentials as Docker does; pull and push use them; logout forgets', async () => {
        const s = store();
        const login = await s.run(['login', '-u', 'alice', '--password-stdin', reg.host], { input: 'wonderland\n' });
        assert.equal(login.stdout, 'Login Succeeded\n', login.stderr);
        const cfg = JSON.parse(readFileSync(join(s.dockerConfig, 'config.json'), 'utf8'));
        assert.equal(cfg.auths[reg.host].auth, Buffer.from('alice:wonderland').toString('base64'));
        ok(await s.run(['pull', `${reg.host}/private/img`]), 'pull');
        assert.equal(ok(await s.run(['run', '--rm', `${reg.host}/private/img`, 'cat', '/hello.txt']), 'run'), 'hello from the registry\n');
        ok(await s.run(['tag', `${reg.host}/private/img`, `${reg.host}/private/copy:2`]), 'tag');
        ok(await s.run(['push', `${reg.host}/private/copy:2`]), 'push');
        assert.equal(ok(await s.run(['logout', reg.host]), 'logout'), `Removing login credentials for ${reg.host}\n`);
        assert.equal(ok(await s.run(['logout', reg.host]), 'logout again'), `Not logged in to ${reg.host}\n`);
        if (auth === 'token') {
          const granted = reg.token!.requests.filter((q) => q.authorization);
          assert.ok(granted.some((q) => q.scope.includes('repository:private/copy:pull,push')), JSON.stringify(reg.token!.requests));
        }
      });

      if (auth === 'token') {
        test('anonymous: a token for public repositories only', async () => {
          const s = store();
          ok(await s.run(['pull', `${reg.host}/public/img`]), 'anonymous pull');
          ok(await s.run(['tag', `${reg.host}/public/img`, `${reg.host}/public/mine:1`]), 'tag');
          const push = await s.run(['push', `${reg.host}/public/mine:1`]);
          assert.equal(push.status, 1);
          assert.match(push.stderr, /unauthorized|denied/);
        });
      }
    });
  }
});

describe('registry: where registries are reached', { skip }, () => {
  test('a loopback registry with a self-signed certificate: https without verification, as Docker', async () => {
    const reg = await startRegistry({ tls: true });
    try {
      await pushLayout(images.single, `${reg.host}/tls/img:latest`);
      const s = store();
      ok(await s.run(['pull', `${reg.host}/tls/img`]), 'pull over https');
      assert.equal(ok(await s.run(['run', '--rm', `${reg.host}/tls/img`, 'cat', '/hello.txt']), 'run'), 'hello from the registry\n');
    } finally {
      await reg.stop();
    }
  });

  test('registry-mirrors: a Docker Hub name is pulled from the mirror', async () => {
    const reg = await startRegistry();
    try {
      await pushLayout(images.single, `${reg.host}/library/mirrored:latest`);
      const s = store();
      const config = join(work, 'mirrors.json');
      writeFileSync(config, JSON.stringify({ 'registry-mirrors': [`http://${reg.host}`] }));
      const out = ok(await s.run(['pull', 'mirrored'], { env: { HAKO_REGISTRY_CONFIG: config } }), 'pull from the mirror');
      assert.match(out, /^latest: Pulling from library\/mirrored$/m);
      assert.match(out, /^docker\.io\/library\/mirrored:latest$/m);
      assert.match(ok(await s.run(['images', '--format', '{{.Repository}}:{{.Tag}}']), 'images'), /^mirrored:latest$/m);
    } finally {
      await reg.stop();
    }
  });
});

describe('progress output', () => {
  test('plain: one line per status change, no bars; json: Docker\'s message stream', async () => {
    const { ProgressPrinter } = await import('../../src/cli/image/progress.ts');
    const dir = mkdtempSync(join(work, 'progress-'));
    const { openSync, closeSync } = await import('node:fs');
    const render = (mode: 'plain' | 'json' | 'tty') => {
      const file = join(dir, mode);
      const fd = openSync(file, 'w');
      const p = new ProgressPrinter(fd, mode);
      p.event({ id: 'latest', status: 'Pulling from library/x' });
      p.event({ id: 'aaa', status: 'Pulling fs layer' });
      p.event({ id: 'bbb', status: 'Pulling fs layer' });
      p.event({ id: 'aaa', status: 'Downloading', current: 50, total: 100 });
      p.event({ id: 'aaa', status: 'Downloading', current: 100, total: 100 });
      p.event({ id: 'aaa', status: 'Pull complete' });
      p.event({ status: 'Digest: sha256:abc' });
      closeSync(fd);
      return readFileSync(file, 'utf8');
    };
    assert.equal(
      render('plain'),
      'latest: Pulling from library/x\naaa: Pulling fs layer\nbbb: Pulling fs layer\naaa: Downloading\naaa: Pull complete\nDigest: sha256:abc\n',
    );
    const json = render('json').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual({ ...json[3], progress: undefined }, { status: 'Downloading', progressDetail: { current: 50, total: 100 }, progress: undefined, id: 'aaa' });
    assert.match(json[3].progress, /^\[={25}> {24}\] +50B\/100B$/);
    assert.deepEqual(json[6], { status: 'Digest: sha256:abc' });
    // tty: the layer's own line is rewritten in place (cursor up, clear, down)
    const tty = render('tty');
    assert.match(tty, /\x1b\[2A\r\x1b\[2Kaaa: Downloading \[=+>/);
    assert.match(tty, /\x1b\[2A\r\x1b\[2Kaaa: Pull complete\r\x1b\[2B/);
  });
});

describe('registry: a misbehaving registry', () => {
  /** A fake registry (node:http) that answers each manifest path with what the test says. */
  async function fakeRegistry(routes: Record<string, (res: import('node:http').ServerResponse) => void>) {
    const { createServer } = await import('node:http');
    const server = createServer((req, res) => {
      const route = routes[req.url ?? ''];
      if (route) return route(res);
      if (req.url === '/v2/') return res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown to registry' }] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as import('node:net').AddressInfo).port;
    return { host: `127.0.0.1:${port}`, stop: () => new Promise<void>((r) => server.close(() => r())) };
  }
  const manifestType = 'application/vnd.oci.image.manifest.v1+json';
  const json = (body: unknown, status = 200, type = manifestType) => (res: import('node:http').ServerResponse) => res.writeHead(status, { 'content-type': type }).end(typeof body === 'string' ? body : JSON.stringify(body));
  const missingConfig = { schemaVersion: 2, mediaType: manifestType, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${'1'.repeat(64)}`, size: 10 }, layers: [] };

  test('malformed, oversized, lying and failing answers: clear errors, exit 1, nothing stored', async () => {
    const big = Buffer.alloc(5 << 20, ' ');
    const fake = await fakeRegistry({
      '/v2/t/manifests/malformed': json('{"schemaVersion": 2, "layers": ['),
      '/v2/t/manifests/noconfig': json({ schemaVersion: 2, mediaType: manifestType, layers: [] }),
      '/v2/t/manifests/oversized': (res) => res.writeHead(200, { 'content-type': manifestType }).end(big),
      '/v2/t/manifests/lying': (res) => res.writeHead(200, { 'content-type': manifestType, 'docker-content-digest': `sha256:${'2'.repeat(64)}` }).end(JSON.stringify(missingConfig)),
      '/v2/t/manifests/missingblob': json(missingConfig),
      '/v2/t/manifests/broken': json({ errors: [{ code: 'UNKNOWN', message: 'the disk is on fire' }] }, 500, 'application/json'),
      '/v2/t/manifests/schema1': json({ schemaVersion: 1, name: 't', tag: 'schema1', fsLayers: [] }, 200, 'application/vnd.docker.distribution.manifest.v1+prettyjws'),
    });
    try {
      const s = store();
      const cases: [string, RegExp][] = [
        ['malformed', /manifest|JSON|json/],
        ['noconfig', /config/],
        ['oversized', /more than the \d+ (bytes )?allowed/],
        ['lying', /says its digest is sha256:2{64}, its content hashes to/],
        ['missingblob', /blob unknown to registry/],
        ['broken', /the disk is on fire/],
        ['schema1', /schema 1|schema version 1|schemaVersion/i],
      ];
      for (const [tag, re] of cases) {
        const r = await s.run(['pull', `${fake.host}/t:${tag}`]);
        assert.equal(r.status, 1, `${tag}: ${r.stdout}`);
        assert.match(r.stderr, /^hako: /, tag);
        assert.match(r.stderr, re, tag);
        assert.equal(r.stderr.split('\n').length, 2, `${tag}: one line: ${r.stderr}`);
      }
      assert.deepEqual(storeContents(s.root), { blobs: [], ingest: [], layers: [] });
    } finally {
      await fake.stop();
    }
  });
});
