import assert from 'node:assert/strict';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { credentialKey, DOCKER_HUB_KEY, dockerConfigPath, eraseCredentials, getCredentials, storeCredentials } from './credentials.ts';

const roots: string[] = [];
const savedEnv = { PATH: process.env['PATH'], HOME: process.env['HOME'], DOCKER_CONFIG: process.env['DOCKER_CONFIG'] };

function restoreEnv(): void {
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
}

// Never the real ~/.docker: even a test that forgets configPath lands in a temp dir.
before(() => {
  const home = tempDir();
  process.env['HOME'] = home;
  process.env['DOCKER_CONFIG'] = join(home, 'docker-config');
  savedEnv.HOME = home;
  savedEnv.DOCKER_CONFIG = process.env['DOCKER_CONFIG'];
});
afterEach(restoreEnv);
after(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hako-creds-'));
  roots.push(dir);
  return dir;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** A config.json with CONTENT (an object is written as JSON) in a fresh directory. */
function config(content?: unknown): string {
  const path = join(tempDir(), 'config.json');
  if (content !== undefined) writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return path;
}

const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

/**
 * Puts a fake docker-credential-NAME on PATH. It keeps its inputs in STATE: "<action>.in"
 * holds what it read, "calls" the actions; get prints get.out if present, erase succeeds
 * if erase.ok is present; otherwise both answer "not found" as real helpers do.
 */
function fakeHelper(name: string, body?: string): string {
  const dir = tempDir();
  const state = join(dir, 'state');
  mkdirSync(state);
  const script =
    body ??
    `set -e
STATE='${state}'
echo "$1" >> "$STATE/calls"
cat > "$STATE/$1.in"
case "$1" in
  get) if [ -f "$STATE/get.out" ]; then cat "$STATE/get.out"; exit 0; fi ;;
  store) exit 0 ;;
  erase) if [ -f "$STATE/erase.ok" ]; then exit 0; fi ;;
  *) echo "unknown action $1"; exit 1 ;;
esac
echo "credentials not found in native keychain"
exit 1
`;
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, `docker-credential-${name}`), `#!/bin/sh\n${script}`);
  chmodSync(join(bin, `docker-credential-${name}`), 0o755);
  process.env['PATH'] = `${bin}:${process.env['PATH']}`;
  return state;
}

describe('credential keys', () => {
  test('Docker Hub under its legacy URL, other registries as host[:port]', () => {
    for (const h of ['docker.io', 'index.docker.io', 'registry-1.docker.io', 'Docker.IO', 'https://index.docker.io/v1/', 'https://registry-1.docker.io']) {
      assert.equal(credentialKey(h), DOCKER_HUB_KEY, h);
    }
    assert.equal(DOCKER_HUB_KEY, 'https://index.docker.io/v1/');
    assert.equal(credentialKey('MyReg.Example:5000'), 'myreg.example:5000');
    assert.equal(credentialKey('https://myreg:5000/v2/'), 'myreg:5000');
    assert.equal(credentialKey('http://myreg:5000'), 'myreg:5000');
    assert.equal(credentialKey('[::1]:5000'), '[::1]:5000');
    assert.equal(credentialKey('ghcr.io'), 'ghcr.io');
  });

  test('the config file: $DOCKER_CONFIG/config.json, else ~/.docker/config.json', async () => {
    const dir = tempDir();
    process.env['DOCKER_CONFIG'] = join(dir, 'cfg');
    assert.equal(dockerConfigPath(), join(dir, 'cfg', 'config.json'));
    assert.deepEqual(await storeCredentials('myreg:5000', { username: 'u', password: 'p' }), { kind: 'file', path: join(dir, 'cfg', 'config.json') });
    assert.deepEqual(await getCredentials('myreg:5000'), { username: 'u', password: 'p' });

    delete process.env['DOCKER_CONFIG'];
    process.env['HOME'] = dir;
    assert.equal(dockerConfigPath(), join(dir, '.docker', 'config.json'));
    assert.equal(await getCredentials('myreg:5000'), undefined);
    await storeCredentials('myreg:5000', { username: 'h', password: 'q' });
    assert.deepEqual(readJson(join(dir, '.docker', 'config.json')), { auths: { 'myreg:5000': { auth: b64('h:q') } } });
    process.env['DOCKER_CONFIG'] = '';
    assert.equal(dockerConfigPath(), join(dir, '.docker', 'config.json'), 'an empty DOCKER_CONFIG is unset');
  });
});

describe('credentials in config.json', () => {
  test('missing and empty files have no credentials', async () => {
    assert.equal(await getCredentials('myreg:5000', { configPath: config() }), undefined);
    assert.equal(await getCredentials('myreg:5000', { configPath: config('') }), undefined);
    assert.equal(await getCredentials('myreg:5000', { configPath: config({}) }), undefined);
    assert.equal(await getCredentials('myreg:5000', { configPath: config({ auths: null }) }), undefined);
    assert.equal(await getCredentials('myreg:5000', { configPath: config({ auths: { 'myreg:5000': {} } }) }), undefined);
  });

  test('auth is base64 "user:pass"; the password may hold colons', async () => {
    const configPath = config({
      auths: {
        'myreg:5000': { auth: b64('alice:pa:ss:word') },
        [DOCKER_HUB_KEY]: { auth: b64('hubuser:s3cret'), email: 'x@example.com' },
        'plain.example': { username: 'bob', password: 'pw' },
        'padded.example': { auth: b64('carol:pw\0\0') },
      },
    });
    assert.deepEqual(await getCredentials('myreg:5000', { configPath }), { username: 'alice', password: 'pa:ss:word' });
    assert.deepEqual(await getCredentials('docker.io', { configPath }), { username: 'hubuser', password: 's3cret' });
    assert.deepEqual(await getCredentials('index.docker.io', { configPath }), { username: 'hubuser', password: 's3cret' });
    assert.deepEqual(await getCredentials('plain.example', { configPath }), { username: 'bob', password: 'pw' });
    assert.deepEqual(await getCredentials('padded.example', { configPath }), { username: 'carol', password: 'pw' });
    assert.equal(await getCredentials('other:5000', { configPath }), undefined);
  });

  test('identity and registry tokens', async () => {
    const configPath = config({
      auths: {
        'tok.example': { auth: b64('u:'), identitytoken: 'refresh-me' },
        'reg.example': { registrytoken: 'bearer-tok' },
      },
    });
    assert.deepEqual(await getCredentials('tok.example', { configPath }), { username: 'u', identityToken: 'refresh-me' });
    assert.deepEqual(await getCredentials('reg.example', { configPath }), { registryToken: 'bearer-tok' });
  });

  test('keys written with a scheme or path match; the exact key wins', async () => {
    const configPath = config({
      auths: {
        'https://myreg:5000': { auth: b64('a:1') },
        'http://other:5000/v1/': { auth: b64('b:2') },
        'HTTPS://Upper.Example/v2/': { auth: b64('c:3') },
        'https://exact:1/': { auth: b64('variant:x') },
        'exact:1': { auth: b64('exact:y') },
        'index.docker.io': { auth: b64('hub:z') },
      },
    });
    assert.deepEqual(await getCredentials('myreg:5000', { configPath }), { username: 'a', password: '1' });
    assert.deepEqual(await getCredentials('other:5000', { configPath }), { username: 'b', password: '2' });
    assert.deepEqual(await getCredentials('upper.example', { configPath }), { username: 'c', password: '3' });
    assert.deepEqual(await getCredentials('exact:1', { configPath }), { username: 'exact', password: 'y' });
    assert.deepEqual(await getCredentials('docker.io', { configPath }), { username: 'hub', password: 'z' });
    assert.equal(await getCredentials('myreg', { configPath }), undefined, 'another port is another registry');
  });

  test('store: base64 entry, every other field kept, mode 0600, directory 0700', async () => {
    const dir = join(tempDir(), 'new', 'docker');
    const configPath = join(dir, 'config.json');
    assert.deepEqual(await storeCredentials('myreg:5000', { username: 'alice', password: 'pa:ss' }, { configPath }), { kind: 'file', path: configPath });
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(configPath).mode & 0o777, 0o600);
    assert.deepEqual(readJson(configPath), { auths: { 'myreg:5000': { auth: b64('alice:pa:ss') } } });

    const existing = {
      auths: { 'other.example': { auth: b64('o:p'), email: 'o@example.com' }, 'myreg:5000': { auth: b64('old:old'), email: 'keep?' } },
      credHelpers: { 'gcr.io': 'gcloud' },
      psFormat: 'table {{.ID}}',
      proxies: { default: { httpProxy: 'http://proxy:3128', noProxy: '*.local' } },
      experimental: 'enabled',
      plugins: { x: { n: 1.5, list: [1, 'two', null, true] } },
    };
    // A key named __proto__ must survive as data too.
    writeFileSync(configPath, `{"__proto__": "odd but kept", ${JSON.stringify(existing, null, 4).slice(1)}`);
    chmodSync(configPath, 0o644);
    await storeCredentials('MyReg:5000', { username: 'new', password: 'pw' }, { configPath });
    const after = readJson(configPath);
    assert.deepEqual(after.auths, { 'other.example': existing.auths['other.example'], 'myreg:5000': { auth: b64('new:pw') } });
    assert.deepEqual(after.proxies, existing.proxies);
    assert.deepEqual(after.plugins, existing.plugins);
    assert.equal(after.psFormat, existing.psFormat);
    assert.equal(after.experimental, 'enabled');
    assert.deepEqual(after.credHelpers, existing.credHelpers);
    assert.equal(Object.getOwnPropertyDescriptor(after, '__proto__')?.value, 'odd but kept');
    assert.deepEqual(Object.keys(after), ['__proto__', 'auths', 'credHelpers', 'psFormat', 'proxies', 'experimental', 'plugins'], 'key order kept');
    assert.equal(statSync(configPath).mode & 0o777, 0o600, 'a credentials file is made private');
    assert.match(readFileSync(configPath, 'utf8'), /^\{\n\t"__proto__"/, "Docker's tab indentation");
  });

  test('store keeps a symlinked config.json a symlink', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'real.json'), '{"psFormat":"x"}');
    symlinkSync('real.json', join(dir, 'config.json'));
    await storeCredentials('r.example', { username: 'u', password: 'p' }, { configPath: join(dir, 'config.json') });
    assert.equal(lstatSync(join(dir, 'config.json')).isSymbolicLink(), true);
    assert.deepEqual(readJson(join(dir, 'real.json')), { psFormat: 'x', auths: { 'r.example': { auth: b64('u:p') } } });
  });

  test('store refuses a username with a colon', async () => {
    await assert.rejects(storeCredentials('r.example', { username: 'a:b', password: 'p' }, { configPath: config() }), { code: 'invalid-argument' });
  });

  test('erase removes the entry and its scheme/path variants, and says whether there was one', async () => {
    const configPath = config({
      auths: {
        'myreg:5000': { auth: b64('a:1') },
        'https://myreg:5000': { auth: b64('a:2') },
        'http://myreg:5000/v1/': { auth: b64('a:3') },
        'myreg:5001': { auth: b64('keep:me') },
        [DOCKER_HUB_KEY]: { auth: b64('hub:x') },
      },
      psFormat: 'x',
    });
    assert.equal(await eraseCredentials('myreg:5000', { configPath }), true);
    assert.deepEqual(readJson(configPath), { auths: { 'myreg:5001': { auth: b64('keep:me') }, [DOCKER_HUB_KEY]: { auth: b64('hub:x') } }, psFormat: 'x' });
    assert.equal(await eraseCredentials('myreg:5000', { configPath }), false);
    assert.equal(await eraseCredentials('docker.io', { configPath }), true);
    assert.deepEqual(readJson(configPath), { auths: { 'myreg:5001': { auth: b64('keep:me') } }, psFormat: 'x' });
    const missing = config();
    assert.equal(await eraseCredentials('myreg:5000', { configPath: missing }), false);
    assert.equal(existsSync(missing), false, 'nothing to erase writes nothing');
  });

  test('a malformed file is refused, naming the file and the problem', async () => {
    const cases: Array<[unknown, RegExp]> = [
      ['{"auths": {', /invalid JSON/],
      ['[1]', /the top level must be a JSON object/],
      [{ auths: [] }, /"auths" must be an object/],
      [{ auths: { 'r.example': 'x' } }, /auths\["r.example"\] must be an object/],
      [{ auths: { 'r.example': { auth: 5 } } }, /auths\["r.example"\]\.auth must be a string/],
      [{ credsStore: 1 }, /"credsStore" must be a string/],
      [{ credHelpers: { 'r.example': false } }, /credHelpers\["r.example"\] must be a string/],
      [{ credsStore: '../../bin/sh' }, /invalid credential helper name "..\/..\/bin\/sh"/],
      [{ auths: { 'r.example': { auth: 'not base64!' } } }, /auths\["r.example"\]\.auth is not valid base64/],
      [{ auths: { 'r.example': { auth: b64('nocolon') } } }, /auths\["r.example"\]\.auth is not base64 of "username:password"/],
    ];
    for (const [content, message] of cases) {
      const configPath = config(content);
      await assert.rejects(
        getCredentials('r.example', { configPath }),
        (e: any) => e.code === 'invalid-config' && e.message.startsWith(`${configPath}: `) && message.test(e.message),
        String(content),
      );
    }
  });

  test("Go's case-insensitive field names are understood", async () => {
    const configPath = config({ Auths: { 'r.example': { Auth: b64('u:p') } } });
    assert.deepEqual(await getCredentials('r.example', { configPath }), { username: 'u', password: 'p' });
    await storeCredentials('s.example', { username: 'v', password: 'q' }, { configPath });
    assert.deepEqual(Object.keys(readJson(configPath)), ['Auths']);
  });
});

describe('credential helpers', () => {
  test('credsStore: get sends the key on stdin and reads {ServerURL, Username, Secret}', async () => {
    const state = fakeHelper('fake');
    const configPath = config({ credsStore: 'fake', auths: { 'myreg:5000': { auth: b64('plaintext:ignored') } } });
    writeFileSync(join(state, 'get.out'), JSON.stringify({ ServerURL: 'myreg:5000', Username: 'alice', Secret: 'from-helper' }));
    assert.deepEqual(await getCredentials('myreg:5000', { configPath }), { username: 'alice', password: 'from-helper' });
    assert.equal(readFileSync(join(state, 'get.in'), 'utf8'), 'myreg:5000');
    await getCredentials('docker.io', { configPath });
    assert.equal(readFileSync(join(state, 'get.in'), 'utf8'), DOCKER_HUB_KEY);
  });

  test('Username "<token>" means the Secret is an identity token', async () => {
    const state = fakeHelper('fake');
    writeFileSync(join(state, 'get.out'), JSON.stringify({ ServerURL: 'r', Username: '<token>', Secret: 'refresh' }));
    assert.deepEqual(await getCredentials('r.example', { configPath: config({ credsStore: 'fake' }) }), { identityToken: 'refresh' });
  });

  test('"credentials not found in native keychain" is no credentials, not an error', async () => {
    fakeHelper('fake');
    // With a helper, a plain-text secret in the file is not used (as Docker).
    const configPath = config({ credsStore: 'fake', auths: { 'r.example': { auth: b64('u:p') } } });
    assert.equal(await getCredentials('r.example', { configPath }), undefined);
  });

  test('credHelpers for the registry comes before credsStore, which comes before auths', async () => {
    const special = fakeHelper('special');
    const general = fakeHelper('general');
    writeFileSync(join(special, 'get.out'), JSON.stringify({ Username: 's', Secret: '1' }));
    writeFileSync(join(general, 'get.out'), JSON.stringify({ Username: 'g', Secret: '2' }));
    const configPath = config({ credsStore: 'general', credHelpers: { 'myreg:5000': 'special', [DOCKER_HUB_KEY]: 'special' } });
    assert.deepEqual(await getCredentials('myreg:5000', { configPath }), { username: 's', password: '1' });
    assert.deepEqual(await getCredentials('docker.io', { configPath }), { username: 's', password: '1' });
    assert.deepEqual(await getCredentials('other:5000', { configPath }), { username: 'g', password: '2' });
    const onlyHelpers = config({ credHelpers: { 'myreg:5000': 'special' }, auths: { 'other:5000': { auth: b64('file:3') } } });
    assert.deepEqual(await getCredentials('other:5000', { configPath: onlyHelpers }), { username: 'file', password: '3' });
  });

  test('store goes to the helper; config.json keeps only an empty marker entry', async () => {
    const state = fakeHelper('fake');
    const configPath = config({ credsStore: 'fake', auths: { 'myreg:5000': { auth: b64('old:plaintext') }, 'x.example': {} }, psFormat: 'p' });
    assert.deepEqual(await storeCredentials('MyReg:5000', { username: 'alice', password: 'pa:ss' }, { configPath }), { kind: 'helper', helper: 'docker-credential-fake' });
    assert.deepEqual(JSON.parse(readFileSync(join(state, 'store.in'), 'utf8')), { ServerURL: 'myreg:5000', Username: 'alice', Secret: 'pa:ss' });
    assert.deepEqual(readJson(configPath), { credsStore: 'fake', auths: { 'myreg:5000': {}, 'x.example': {} }, psFormat: 'p' });
  });

  test('erase goes to the helper and drops the marker entry', async () => {
    const state = fakeHelper('fake');
    const configPath = config({ credsStore: 'fake', auths: { 'myreg:5000': {} } });
    writeFileSync(join(state, 'erase.ok'), '');
    assert.equal(await eraseCredentials('myreg:5000', { configPath }), true);
    assert.equal(readFileSync(join(state, 'erase.in'), 'utf8'), 'myreg:5000');
    assert.deepEqual(readJson(configPath), { credsStore: 'fake', auths: {} });
    rmSync(join(state, 'erase.ok'));
    assert.equal(await eraseCredentials('myreg:5000', { configPath }), false, 'the helper has none and there is no entry');
    assert.deepEqual(readFileSync(join(state, 'calls'), 'utf8').split('\n').filter(Boolean), ['erase', 'erase']);
  });

  test('a helper that is not installed is a clear not-found error', async () => {
    process.env['PATH'] = `${tempDir()}:relative/bin:`;
    const configPath = config({ credsStore: 'nosuch' });
    await assert.rejects(getCredentials('r.example', { configPath }), {
      code: 'not-found',
      message: `docker-credential-nosuch: not found on PATH (credsStore in ${configPath})`,
    });
    const helpers = config({ credHelpers: { 'r.example': 'nosuch' } });
    await assert.rejects(storeCredentials('r.example', { username: 'u', password: 'p' }, { configPath: helpers }), {
      code: 'not-found',
      message: `docker-credential-nosuch: not found on PATH (credHelpers in ${helpers})`,
    });
    await assert.rejects(eraseCredentials('r.example', { configPath }), { code: 'not-found' });
  });

  test('a failing helper is an error naming it and its message', async () => {
    fakeHelper('broken', 'cat >/dev/null\necho "gpg: decryption failed: No secret key"\nexit 2\n');
    const configPath = config({ credsStore: 'broken' });
    await assert.rejects(getCredentials('r.example', { configPath }), {
      code: 'system',
      message: 'docker-credential-broken get failed (exit status 2): gpg: decryption failed: No secret key',
    });
    await assert.rejects(storeCredentials('r.example', { username: 'u', password: 'p' }, { configPath }), { message: /^docker-credential-broken store failed \(exit status 2\): gpg/ });
    await assert.rejects(eraseCredentials('r.example', { configPath }), { message: /^docker-credential-broken erase failed/ });

    fakeHelper('stderr', 'echo "panic: boom" >&2\nexit 3\n');
    await assert.rejects(getCredentials('r.example', { configPath: config({ credsStore: 'stderr' }) }), {
      message: 'docker-credential-stderr get failed (exit status 3): panic: boom',
    });

    fakeHelper('garbage', 'cat >/dev/null\necho "not json"\n');
    await assert.rejects(getCredentials('r.example', { configPath: config({ credsStore: 'garbage' }) }), {
      code: 'system',
      message: 'docker-credential-garbage get: its output is not a JSON object',
    });
  });
});
