import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { createCipheriv, createHash, randomBytes, sign, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { makeTar } from '../image/tar-fixtures.ts';
import { busyboxTar } from './engine.ts';

/**
 * Fixtures for the registry client tests: a real registry (Debian's docker-registry,
 * Distribution 2.8) with no auth, htpasswd or token auth, a token server, a proxy that
 * cuts downloads mid-blob, and OCI layouts to push into them with skopeo.
 * Everything listens on 127.0.0.1 only.
 */

export const REGISTRY_BIN = '/usr/bin/docker-registry';
export const TOKEN_SERVICE = 'hako-test-registry';
export const TOKEN_ISSUER = 'hako-test-issuer';
export const BASIC_REALM = 'hako-test';
const DEFAULT_USERS: Record<string, string> = { alice: 'wonderland' };

export interface Registry {
  /** "127.0.0.1:PORT", as it goes into an image reference. */
  host: string;
  /** http://host or https://host */
  url: string;
  /** The temporary directory holding config, storage, certificates. */
  dir: string;
  token?: TokenServer;
  stop(): Promise<void>;
}

export interface TokenServer {
  /** The realm: the full URL of the token endpoint (http://127.0.0.1:PORT/token). */
  url: string;
  /** Every token request, in arrival order. */
  requests: { authorization?: string; scope: string[]; service?: string; account?: string }[];
  stop(): Promise<void>;
}

export interface CutProxy {
  host: string;
  /** Every request forwarded; path includes the query; status is the registry's. */
  requests: { method: string; path: string; range?: string; status: number; bytesSent: number }[];
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------
// Process hygiene: a crashed test must not leave registries behind.

const live = new Map<ChildProcess, string>();
process.on('exit', () => {
  for (const [child, dir] of live) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * 'exit' does not run when the test process is killed by a signal; the kernel's
 * parent-death signal (setpriv --pdeathsig) covers that case.
 */
function spawnTied(cmd: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const setpriv = '/usr/bin/setpriv';
  const [bin, argv] = existsSync(setpriv) ? [setpriv, ['--pdeathsig', 'KILL', '--', cmd, ...args]] : [cmd, args];
  return spawn(bin, argv, { stdio: ['ignore', 'ignore', 'pipe'], env });
}

/** A port nobody listens on right now (a small race with other processes, retried by the caller). */
async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** Status of GET URL, or undefined when nothing answers yet. Self-signed TLS is accepted. */
function probe(url: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const get = url.startsWith('https:') ? https.get : http.get;
    const req = get(url, { rejectUnauthorized: false, agent: false, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => req.destroy());
  });
}

// ---------------------------------------------------------------------------
// Certificates

/** An EC P-256 key and a self-signed certificate for 127.0.0.1 (serves both TLS and token signing). */
function makeCert(dir: string, name: string, cn: string): { key: string; cert: string } {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.crt`);
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${cn}`,
    '-addext', 'subjectAltName=IP:127.0.0.1',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  return { key, cert };
}

// ---------------------------------------------------------------------------
// Token server

interface Access {
  type: string;
  name: string;
  actions: string[];
}

/** "repository:NAME:pull,push" → Access. NAME has no ':' in practice, but the type and actions are the outer parts. */
function parseScope(scope: string): Access | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first < 0 || last <= first) return undefined;
  return { type: scope.slice(0, first), name: scope.slice(first + 1, last), actions: scope.slice(last + 1).split(',').filter(Boolean) };
}

/** What a caller may do: users get all they ask for, anonymous callers only pull public/*. */
function grant(scopes: string[], authenticated: boolean): Access[] {
  const out: Access[] = [];
  for (const s of scopes) {
    const a = parseScope(s);
    if (!a) continue;
    if (authenticated) out.push(a);
    else if (a.type === 'repository' && a.name.startsWith('public/') && a.actions.includes('pull')) out.push({ ...a, actions: ['pull'] });
  }
  return out;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/**
 * A JWT Distribution 2.8 accepts: ES256 (raw r||s signature, as JWS wants), the
 * certificate in x5c so the registry checks it against its rootcertbundle.
 */
function signToken(keyPem: string, certDer: Buffer, service: string, account: string, access: Access[]): string {
  const now = Math.floor(Date.now() / 1000);
  const header = { typ: 'JWT', alg: 'ES256', x5c: [certDer.toString('base64')] };
  const claims = { iss: TOKEN_ISSUER, sub: account, aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const sig = sign('sha256', Buffer.from(input), { key: keyPem, dsaEncoding: 'ieee-p1363' });
  return `${input}.${b64url(sig)}`;
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let s = '';
    req.setEncoding('utf8');
    req.on('data', (d) => (s += d));
    req.on('end', () => resolve(s));
    req.on('error', reject);
  });
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** 'ok' for a user's right password, 'anonymous' with no Authorization, 'denied' otherwise. */
function checkBasic(authorization: string | undefined, users: Record<string, string>): { result: 'ok' | 'anonymous' | 'denied'; user?: string } {
  if (!authorization) return { result: 'anonymous' };
  const m = /^Basic\s+(\S+)$/i.exec(authorization);
  if (!m) return { result: 'denied' };
  const plain = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = plain.indexOf(':');
  const user = plain.slice(0, colon);
  return colon > 0 && Object.hasOwn(users, user) && users[user] === plain.slice(colon + 1) ? { result: 'ok', user } : { result: 'denied' };
}

/**
 * Docker's token protocol: GET /token?service=&scope=… with optional Basic auth, and the
 * OAuth2 form (POST grant_type=password) that some clients use instead.
 */
export async function startTokenServer(opts: { users?: Record<string, string>; keyPem: string; certPem: string }): Promise<TokenServer> {
  const users = opts.users ?? DEFAULT_USERS;
  const certDer = Buffer.from(new X509Certificate(opts.certPem).raw);
  const requests: TokenServer['requests'] = [];
  const server = http.createServer(async (req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    if (u.pathname !== '/token') return json(res, 404, { errors: [{ code: 'NOT_FOUND', message: 'not found' }] });
    let params = u.searchParams;
    let authorization = req.headers.authorization;
    if (req.method === 'POST') {
      params = new URLSearchParams(await readBody(req));
      if (params.get('grant_type') === 'password') {
        authorization = `Basic ${Buffer.from(`${params.get('username') ?? ''}:${params.get('password') ?? ''}`).toString('base64')}`;
      }
    } else if (req.method !== 'GET') {
      return json(res, 405, { errors: [{ code: 'UNSUPPORTED', message: 'method not allowed' }] });
    }
    // Scopes may repeat, and OAuth2 also allows several in one, space-separated.
    const scope = params.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean);
    const service = params.get('service') ?? undefined;
    const account = params.get('account') ?? params.get('username') ?? undefined;
    requests.push({ authorization, scope, service, account });
    const who = checkBasic(authorization, users);
    if (who.result === 'denied') return json(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'invalid username or password' }] });
    const token = signToken(opts.keyPem, certDer, service ?? TOKEN_SERVICE, who.user ?? '', grant(scope, who.result === 'ok'));
    json(res, 200, { token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() });
  });
  const host = await listen(server);
  return { url: `http://${host}/token`, requests, stop: () => closeServer(server) };
}

// ---------------------------------------------------------------------------
// Registry

function registryConfig(o: { dir: string; port: number; auth: string; tls?: { key: string; cert: string }; tokenRealm?: string; rootCert?: string }): string {
  const lines = [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(o.dir, 'storage')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${o.port}`,
    // A fixed secret silences the "generated random secret" warning; nothing is shared.
    '  secret: hako-test-secret',
  ];
  if (o.tls) lines.push('  tls:', `    certificate: ${o.tls.cert}`, `    key: ${o.tls.key}`);
  if (o.auth === 'basic') lines.push('auth:', '  htpasswd:', `    realm: ${BASIC_REALM}`, `    path: ${join(o.dir, 'htpasswd')}`);
  if (o.auth === 'token') {
    lines.push('auth:', '  token:', `    realm: ${o.tokenRealm}`, `    service: ${TOKEN_SERVICE}`, `    issuer: ${TOKEN_ISSUER}`, `    rootcertbundle: ${o.rootCert}`);
  }
  return `${lines.join('\n')}\n`;
}

function writeHtpasswd(path: string, users: Record<string, string>): void {
  const lines = Object.entries(users).map(([u, p]) => execFileSync('htpasswd', ['-Bbn', u, p], { encoding: 'utf8' }).trim());
  writeFileSync(path, `${lines.join('\n')}\n`);
}

/** Starts docker-registry; resolves once /v2/ answers, rejects with its stderr if it exits first. */
async function launch(config: string, url: string, dir: string): Promise<ChildProcess> {
  // REGISTRY_* variables would override the config file.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REGISTRY_')));
  const child = spawnTied(REGISTRY_BIN, ['serve', config], env);
  live.set(child, dir);
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d) => (stderr += d));
  let exited = false;
  child.once('exit', () => ((exited = true), live.delete(child)));
  const deadline = Date.now() + 15_000;
  while (!exited && Date.now() < deadline) {
    if ((await probe(`${url}/v2/`)) !== undefined) return child;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`docker-registry did not start (${exited ? `exit ${child.exitCode}` : 'timeout'}): ${stderr}`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await gone;
  clearTimeout(timer);
}

/** Why the registry fixtures cannot run here, or undefined if they can. */
export function whyNoRegistry(): string | undefined {
  for (const bin of [REGISTRY_BIN, '/usr/bin/skopeo', '/usr/bin/htpasswd', '/usr/bin/openssl']) {
    if (!existsSync(bin)) return `${bin} is missing (bash scripts/peers installs it)`;
  }
  return undefined;
}

export async function startRegistry(opts: { auth?: 'none' | 'basic' | 'token'; users?: Record<string, string>; tls?: boolean } = {}): Promise<Registry> {
  const auth = opts.auth ?? 'none';
  const users = opts.users ?? DEFAULT_USERS;
  const dir = mkdtempSync('/tmp/hako-registry-');
  let token: TokenServer | undefined;
  try {
    const tls = opts.tls ? makeCert(dir, 'tls', '127.0.0.1') : undefined;
    let rootCert: string | undefined;
    if (auth === 'basic') writeHtpasswd(join(dir, 'htpasswd'), users);
    if (auth === 'token') {
      const signing = makeCert(dir, 'token', TOKEN_ISSUER);
      rootCert = signing.cert;
      token = await startTokenServer({ users, keyPem: readFileSync(signing.key, 'utf8'), certPem: readFileSync(signing.cert, 'utf8') });
    }
    // The free port may be taken between probe and bind; a few attempts make that harmless.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const host = `127.0.0.1:${port}`;
      const url = `${tls ? 'https' : 'http'}://${host}`;
      const config = join(dir, 'config.yml');
      writeFileSync(config, registryConfig({ dir, port, auth, tls, tokenRealm: token?.url, rootCert }));
      let child: ChildProcess;
      try {
        child = await launch(config, url, dir);
      } catch (e) {
        if (attempt < 3 && /address already in use/.test(String(e))) continue;
        throw e;
      }
      const tokenServer = token;
      return {
        host,
        url,
        dir,
        ...(tokenServer ? { token: tokenServer } : {}),
        async stop() {
          await stopChild(child);
          await tokenServer?.stop();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
  } catch (e) {
    await token?.stop();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

// ---------------------------------------------------------------------------
// Cut proxy

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade', 'te', 'trailer']);

function endToEnd(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

/**
 * A reverse proxy to TARGET (plain http) that cuts the first TIMES matching 200/206
 * responses after CUT bytes of body: status and headers (Content-Length included) go
 * out whole, then the client's socket is destroyed, as when a connection drops mid-layer.
 */
export async function startCutProxy(target: string, opts: { cutAfterBytes: number; match: (method: string, path: string) => boolean; times?: number }): Promise<CutProxy> {
  const [targetHost, targetPort] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  let cutsLeft = opts.times ?? 1;
  const requests: CutProxy['requests'] = [];
  const agent = new http.Agent({ keepAlive: true });
  let self = '';
  const server = http.createServer((req, res) => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const rec: CutProxy['requests'][number] = { method, path, status: 0, bytesSent: 0 };
    if (typeof req.headers.range === 'string') rec.range = req.headers.range;
    requests.push(rec);
    // Host is the registry's own: it then builds upload URLs for itself, which are rewritten below.
    const up = http.request({ host: targetHost, port: targetPort, method, path, agent, headers: { ...endToEnd(req.headers), host: target } }, (ur) => {
      const status = ur.statusCode ?? 502;
      rec.status = status;
      const headers = endToEnd(ur.headers);
      if (typeof headers.location === 'string') headers.location = headers.location.replace(`//${target}/`, `//${self}/`);
      const cut = cutsLeft > 0 && (status === 200 || status === 206) && opts.match(method, path);
      if (cut) cutsLeft--;
      res.writeHead(status, headers);
      if (!cut) {
        ur.on('data', (c: Buffer) => (rec.bytesSent += c.length));
        ur.pipe(res);
        return;
      }
      let left = opts.cutAfterBytes;
      const cutNow = () => {
        ur.destroy();
        // The callback runs once what was written reached the socket, so exactly CUT bytes get out.
        res.write(Buffer.alloc(0), () => res.socket?.destroy());
      };
      if (left <= 0) return cutNow();
      ur.on('data', (c: Buffer) => {
        if (left <= 0) return;
        const part = c.subarray(0, left);
        left -= part.length;
        rec.bytesSent += part.length;
        res.write(part);
        if (left <= 0) cutNow();
      });
      ur.on('end', () => res.end()); // the body was shorter than CUT
    });
    up.on('error', (e) => {
      rec.status = 502;
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(String(e));
    });
    // A client that goes away must not leave the registry request hanging.
    res.on('close', () => up.destroy());
    req.pipe(up);
  });
  self = await listen(server);
  return {
    host: self,
    requests,
    async stop() {
      await closeServer(server);
      agent.destroy();
    },
  };
}

// ---------------------------------------------------------------------------
// OCI layouts

const MT = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { architecture: string; os: string };
  annotations?: Record<string, string>;
}

/** An uncompressed layer tar and its gzip form (gzip's header mtime is 0 in node:zlib, so both are stable). */
interface Layer {
  tar: Buffer;
  gz: Buffer;
}

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const FIXED_TIME = '2024-01-01T00:00:00Z';

function layer(tar: Buffer, level = 6): Layer {
  return { tar, gz: gzipSync(tar, { level }) };
}

function writeBlob(layout: string, mediaType: string, data: Buffer): Descriptor {
  const digest = sha256(data);
  const dir = join(layout, 'blobs', 'sha256');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, digest.slice('sha256:'.length)), data);
  return { mediaType, digest, size: data.length };
}

const jsonBlob = (layout: string, mediaType: string, v: unknown) => writeBlob(layout, mediaType, Buffer.from(JSON.stringify(v)));

/** Config, layers and manifest of one linux image into LAYOUT; returns the manifest's descriptor. */
function writeImage(layout: string, layers: Layer[], architecture: string): Descriptor {
  const config = {
    created: FIXED_TIME,
    architecture,
    os: 'linux',
    config: { Cmd: ['sh'], Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => sha256(l.tar)) },
    history: layers.map((_, i) => ({ created: FIXED_TIME, created_by: `hako test fixture layer ${i}` })),
  };
  const manifest = {
    schemaVersion: 2,
    mediaType: MT.manifest,
    config: jsonBlob(layout, MT.config, config),
    layers: layers.map((l) => writeBlob(layout, MT.layer, l.gz)),
  };
  return { ...jsonBlob(layout, MT.manifest, manifest), platform: { architecture, os: 'linux' } };
}

/** index.json naming TOP "latest", and the oci-layout marker. */
function finishLayout(layout: string, top: Descriptor): void {
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const { platform: _, ...desc } = top;
  const index = { schemaVersion: 2, mediaType: MT.index, manifests: [{ ...desc, annotations: { 'org.opencontainers.image.ref.name': 'latest' } }] };
  writeFileSync(join(layout, 'index.json'), JSON.stringify(index));
}

/** A tar with one root-owned file at a fixed mtime. */
const fileLayer = (name: string, body: string | Buffer) => makeTar([{ name, body, mode: 0o644 }]);

/** Incompressible but reproducible bytes (an AES-CTR keystream), so the big image's digests never change. */
function pseudoRandom(size: number): Buffer {
  const cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), Buffer.alloc(16, 0));
  return Buffer.concat([cipher.update(Buffer.alloc(size)), cipher.final()]);
}

/**
 * Three OCI layouts under DIR, each tagged "latest":
 * single (busybox + /hello.txt), multi (an index of linux/amd64 and linux/arm64, each
 * busybox + /arch.txt) and big (busybox, ~8 MiB of random data, a small file).
 */
export async function makeTestImages(dir: string): Promise<{ single: string; multi: string; big: string }> {
  const busybox = layer(readFileSync(busyboxTar()));
  const single = join(dir, 'single');
  finishLayout(single, writeImage(single, [busybox, layer(await fileLayer('hello.txt', 'hello from the registry\n'))], 'amd64'));

  const multi = join(dir, 'multi');
  const platforms = [];
  for (const arch of ['amd64', 'arm64']) platforms.push(writeImage(multi, [busybox, layer(await fileLayer('arch.txt', `${arch}\n`))], arch));
  finishLayout(multi, jsonBlob(multi, MT.index, { schemaVersion: 2, mediaType: MT.index, manifests: platforms }));

  const big = join(dir, 'big');
  // Level 1: the random data does not compress anyway, and it gzips faster.
  const random = layer(await fileLayer('random.bin', pseudoRandom(8 << 20)), 1);
  finishLayout(big, writeImage(big, [busybox, random, layer(await fileLayer('big.txt', 'the big image\n'))], 'amd64'));
  return { single, multi, big };
}

// ---------------------------------------------------------------------------
// skopeo

let preserveDigests: boolean | undefined;

/** skopeo ≥ 1.6 can refuse to rewrite manifests; older ones would silently change digests. */
function canPreserveDigests(): boolean {
  preserveDigests ??= spawnSync('skopeo', ['copy', '--help'], { encoding: 'utf8' }).stdout.includes('--preserve-digests');
  return preserveDigests;
}

/**
 * Runs skopeo without blocking: the token server and the cut proxy live in this process,
 * and a spawnSync would leave them unable to answer skopeo.
 */
function skopeo(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn('skopeo', args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code, signal) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(`skopeo ${args.join(' ')}: ${signal ?? `exit ${code}`}\n${stderr}`));
    });
  });
}

/** Pushes LAYOUT's "latest" to REF (host/name:tag); ALL pushes every image of an index. */
export async function pushLayout(layoutDir: string, ref: string, opts: { creds?: string; all?: boolean } = {}): Promise<void> {
  await skopeo([
    'copy', '--quiet', '--dest-tls-verify=false',
    ...(opts.all ? ['--all'] : []),
    ...(canPreserveDigests() ? ['--preserve-digests'] : []),
    ...(opts.creds ? ['--dest-creds', opts.creds] : []),
    `oci:${layoutDir}:latest`, `docker://${ref}`,
  ]);
}

/** The digest skopeo reports for REF: the top-level manifest's (the index's for a multi-platform image). */
export async function skopeoInspectDigest(ref: string, creds?: string): Promise<string> {
  const out = await skopeo(['inspect', '--tls-verify=false', ...(creds ? ['--creds', creds] : []), `docker://${ref}`]);
  return (JSON.parse(out) as { Digest: string }).Digest;
}
