import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { gunzipSync } from 'node:zlib';
import {
  type Registry,
  makeTestImages,
  pushLayout,
  skopeoInspectDigest,
  startCutProxy,
  startRegistry,
  whyNoRegistry,
} from '../helpers/registry.ts';

/** The registry fixtures check themselves: each flavour of registry, the token server and the cut proxy. */

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** false when the connection broke before the whole body arrived */
  complete: boolean;
}

/** One request without a client library in between, so the raw registry behaviour shows. */
function request(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const mod = url.startsWith('https:') ? https : http;
    const req = mod.request(url, { method: opts.method ?? 'GET', headers: opts.headers, rejectUnauthorized: false, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let settled = false;
      const done = (complete: boolean) => {
        if (settled) return;
        settled = true;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), complete });
      };
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done(res.complete));
      res.on('error', () => done(false));
      res.on('aborted', () => done(false));
      res.on('close', () => done(res.complete));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** The digest index.json of LAYOUT names "latest", i.e. what a preserving push must keep. */
function layoutDigest(layout: string): string {
  return (JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] }).manifests[0]!.digest;
}

function jwtPayload(token: string): { access: { type: string; name: string; actions: string[] }[]; aud: string; iss: string } {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'));
}

describe('registry fixtures', () => {
  const why = whyNoRegistry();
  const dir = mkdtempSync('/tmp/hako-regfix-');
  let images: Awaited<ReturnType<typeof makeTestImages>>;
  const running: Registry[] = [];

  before(async () => {
    if (why) return;
    images = await makeTestImages(dir);
  });
  after(async () => {
    await Promise.all(running.map((r) => r.stop()));
    rmSync(dir, { recursive: true, force: true });
  });
  const need = (t: TestContext) => (why ? (t.skip(why), false) : true);
  const start = async (opts: Parameters<typeof startRegistry>[0]) => {
    const r = await startRegistry(opts);
    running.push(r);
    return r;
  };

  test('the test images are OCI layouts with a correct diff_id chain', async (t) => {
    if (!need(t)) return;
    const blob = (layout: string, digest: string) => readFileSync(join(layout, 'blobs', 'sha256', digest.slice(7)));
    const single = JSON.parse(blob(images.single, layoutDigest(images.single)).toString());
    assert.equal(single.layers.length, 2);
    const config = JSON.parse(blob(images.single, single.config.digest).toString());
    assert.deepEqual([config.os, config.architecture, config.config.Cmd], ['linux', 'amd64', ['sh']]);
    for (const [i, l] of single.layers.entries()) {
      const gz = blob(images.single, l.digest);
      assert.equal(sha256(gz), l.digest);
      assert.equal(sha256(gunzipSync(gz)), config.rootfs.diff_ids[i]);
    }
    const multi = JSON.parse(blob(images.multi, layoutDigest(images.multi)).toString());
    assert.deepEqual(multi.manifests.map((m: { platform: unknown }) => m.platform), [
      { architecture: 'amd64', os: 'linux' },
      { architecture: 'arm64', os: 'linux' },
    ]);
    const big = JSON.parse(blob(images.big, layoutDigest(images.big)).toString());
    assert.ok(big.layers[1].size > 8_000_000, `random layer is ${big.layers[1].size} bytes`);
    // Deterministic: building again gives the same digests.
    const again = await makeTestImages(join(dir, 'again'));
    for (const k of ['single', 'multi', 'big'] as const) assert.equal(layoutDigest(again[k]), layoutDigest(images[k]), k);
  });

  test('plain registry: skopeo pushes single and multi (--all), digests kept, manifests served', async (t) => {
    if (!need(t)) return;
    const r = await start({});
    await pushLayout(images.single, `${r.host}/test/busybox:latest`);
    await pushLayout(images.multi, `${r.host}/test/multi:latest`, { all: true });
    assert.equal(await skopeoInspectDigest(`${r.host}/test/busybox:latest`), layoutDigest(images.single));
    assert.equal(await skopeoInspectDigest(`${r.host}/test/multi:latest`), layoutDigest(images.multi));
    const m = await request(`${r.url}/v2/test/multi/manifests/latest`, { headers: { accept: ACCEPT } });
    assert.equal(m.status, 200);
    assert.equal(m.headers['content-type'], 'application/vnd.oci.image.index.v1+json');
    assert.equal(m.headers['docker-content-digest'], layoutDigest(images.multi));
    assert.equal(sha256(m.body), layoutDigest(images.multi));
    const arm = JSON.parse(m.body.toString()).manifests[1];
    const armManifest = await request(`${r.url}/v2/test/multi/manifests/${arm.digest}`, { headers: { accept: ACCEPT } });
    assert.equal(armManifest.status, 200, 'every platform was pushed, not only the host one');
  });

  test('basic auth: 401 without credentials, alice gets in', async (t) => {
    if (!need(t)) return;
    const r = await start({ auth: 'basic' });
    await pushLayout(images.single, `${r.host}/test/busybox:latest`, { creds: 'alice:wonderland' });
    const anon = await request(`${r.url}/v2/test/busybox/manifests/latest`, { headers: { accept: ACCEPT } });
    assert.equal(anon.status, 401);
    assert.equal(anon.headers['www-authenticate'], 'Basic realm="hako-test"');
    const wrong = await request(`${r.url}/v2/`, { headers: { authorization: basic('alice', 'nope') } });
    assert.equal(wrong.status, 401);
    const ok = await request(`${r.url}/v2/test/busybox/manifests/latest`, { headers: { accept: ACCEPT, authorization: basic('alice', 'wonderland') } });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['docker-content-digest'], layoutDigest(images.single));
    assert.equal(await skopeoInspectDigest(`${r.host}/test/busybox:latest`, 'alice:wonderland'), layoutDigest(images.single));
    await assert.rejects(skopeoInspectDigest(`${r.host}/test/busybox:latest`, 'alice:nope'), /401|unauthorized/i);
  });

  test('token auth: Bearer challenge, tokens for users, pull-only anonymous tokens for public/*', async (t) => {
    if (!need(t)) return;
    const r = await start({ auth: 'token' });
    const ts = r.token!;
    await pushLayout(images.single, `${r.host}/test/busybox:latest`, { creds: 'alice:wonderland' });
    await pushLayout(images.single, `${r.host}/public/busybox:latest`, { creds: 'alice:wonderland' });
    assert.ok(ts.requests.some((q) => q.scope.includes('repository:test/busybox:pull,push') && q.authorization?.startsWith('Basic ')), JSON.stringify(ts.requests));
    assert.equal(await skopeoInspectDigest(`${r.host}/test/busybox:latest`, 'alice:wonderland'), layoutDigest(images.single));

    const manifest = `${r.url}/v2/test/busybox/manifests/latest`;
    const anon = await request(manifest, { headers: { accept: ACCEPT } });
    assert.equal(anon.status, 401);
    assert.equal(anon.headers['www-authenticate'], `Bearer realm="${ts.url}",service="hako-test-registry",scope="repository:test/busybox:pull"`);

    const tokenFor = async (scope: string, auth?: string) => {
      const q = new URLSearchParams({ service: 'hako-test-registry', scope });
      return request(`${ts.url}?${q}`, auth ? { headers: { authorization: auth } } : {});
    };
    const granted = await tokenFor('repository:test/busybox:pull', basic('alice', 'wonderland'));
    assert.equal(granted.status, 200);
    const body = JSON.parse(granted.body.toString());
    assert.equal(body.expires_in, 300);
    assert.equal(body.token, body.access_token);
    assert.equal(typeof body.issued_at, 'string');
    assert.deepEqual(jwtPayload(body.token).access, [{ type: 'repository', name: 'test/busybox', actions: ['pull'] }]);
    const withToken = await request(manifest, { headers: { accept: ACCEPT, authorization: `Bearer ${body.token}` } });
    assert.equal(withToken.status, 200);
    assert.equal(withToken.headers['docker-content-digest'], layoutDigest(images.single));

    // Anonymous: pull on public/*, never push, nothing elsewhere.
    const pub = JSON.parse((await tokenFor('repository:public/busybox:pull,push')).body.toString()).token;
    assert.deepEqual(jwtPayload(pub).access, [{ type: 'repository', name: 'public/busybox', actions: ['pull'] }]);
    const pulled = await request(`${r.url}/v2/public/busybox/manifests/latest`, { headers: { accept: ACCEPT, authorization: `Bearer ${pub}` } });
    assert.equal(pulled.status, 200);
    const push = await request(`${r.url}/v2/public/busybox/blobs/uploads/`, { method: 'POST', headers: { authorization: `Bearer ${pub}` } });
    assert.equal(push.status, 401);
    assert.match(String(push.headers['www-authenticate']), /error="insufficient_scope"/);
    const priv = JSON.parse((await tokenFor('repository:test/busybox:pull')).body.toString()).token;
    assert.deepEqual(jwtPayload(priv).access, []);
    assert.equal((await request(manifest, { headers: { accept: ACCEPT, authorization: `Bearer ${priv}` } })).status, 401);

    const wrong = await tokenFor('repository:test/busybox:pull', basic('alice', 'nope'));
    assert.equal(wrong.status, 401);
    assert.deepEqual(JSON.parse(wrong.body.toString()), { errors: [{ code: 'UNAUTHORIZED', message: 'invalid username or password' }] });

    // The OAuth2 form some Docker clients post.
    const form = new URLSearchParams({ grant_type: 'password', username: 'alice', password: 'wonderland', service: 'hako-test-registry', scope: 'repository:test/busybox:pull' });
    const posted = await request(ts.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
    assert.equal(posted.status, 200);
    const oauth = JSON.parse(posted.body.toString()).access_token;
    assert.equal((await request(manifest, { headers: { accept: ACCEPT, authorization: `Bearer ${oauth}` } })).status, 200);
    assert.equal(ts.requests.at(-1)!.account, 'alice');
  });

  test('tls: a self-signed https registry, reached as an insecure registry', async (t) => {
    if (!need(t)) return;
    const r = await start({ tls: true });
    assert.ok(r.url.startsWith('https://'));
    await pushLayout(images.single, `${r.host}/test/busybox:latest`);
    assert.equal(await skopeoInspectDigest(`${r.host}/test/busybox:latest`), layoutDigest(images.single));
  });

  test('cut proxy: the first blob GET breaks after N bytes; Range: bytes=N- gets the rest as 206', async (t) => {
    if (!need(t)) return;
    const r = await start({});
    await pushLayout(images.big, `${r.host}/test/big:latest`);
    const manifest = JSON.parse(readFileSync(join(images.big, 'blobs', 'sha256', layoutDigest(images.big).slice(7)), 'utf8'));
    const layer = manifest.layers[1] as { digest: string; size: number };
    const N = 1 << 20;
    const proxy = await startCutProxy(r.host, { cutAfterBytes: N, match: (m, p) => m === 'GET' && p.includes('/blobs/sha256:') });
    t.after(() => proxy.stop());
    const url = `http://${proxy.host}/v2/test/big/blobs/${layer.digest}`;
    const first = await request(url);
    assert.equal(first.status, 200);
    assert.equal(first.headers['content-length'], String(layer.size));
    assert.equal(first.complete, false);
    assert.equal(first.body.length, N);
    const rest = await request(url, { headers: { range: `bytes=${N}-` } });
    assert.equal(rest.status, 206);
    assert.equal(rest.headers['content-range'], `bytes ${N}-${layer.size - 1}/${layer.size}`);
    assert.ok(rest.complete);
    assert.equal(sha256(Buffer.concat([first.body, rest.body])), layer.digest);
    assert.deepEqual(
      proxy.requests.map((q) => [q.method, q.range, q.status, q.bytesSent]),
      [['GET', undefined, 200, N], ['GET', `bytes=${N}-`, 206, layer.size - N]],
    );
  });

  test('cut proxy: pushes stay behind it (upload Locations rewritten)', async (t) => {
    if (!need(t)) return;
    const r = await start({});
    const proxy = await startCutProxy(r.host, { cutAfterBytes: 0, match: () => false });
    t.after(() => proxy.stop());
    await pushLayout(images.single, `${proxy.host}/via/proxy:latest`);
    assert.ok(proxy.requests.some((q) => q.method === 'PUT' && q.path.includes('/blobs/uploads/') && q.status === 201), JSON.stringify(proxy.requests));
    assert.equal(await skopeoInspectDigest(`${r.host}/via/proxy:latest`), layoutDigest(images.single));
  });
});
