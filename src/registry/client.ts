import { HakoError } from '../common/errors.ts';
import { digestOf, parseDigest } from '../image/digest.ts';
import { MAX_MANIFEST_BYTES } from '../image/manifest.ts';
import { MANIFEST_ACCEPT } from '../image/media-types.ts';
import { getCredentials, type AuthConfig } from './credentials.ts';
import { discard, isTransient, readBody, request, type HttpRequest, type HttpResponse } from './http.ts';
import { loadRegistryConfig, type RegistryConfig } from './registry-config.ts';
import { parseChallenges, type Challenge } from './www-authenticate.ts';

/**
 * A client of one registry (the OCI distribution protocol): where it is (https, or http
 * and unverified TLS for an insecure one; a mirror for Docker Hub), who we are to it
 * (Basic, or Bearer tokens per scope from its token server, with the user's credentials
 * or anonymous), and the few requests a pull and a push need.
 */
export interface ClientOptions {
  config?: RegistryConfig;
  /** credentials to use instead of the stored ones (login) */
  credentials?: AuthConfig;
  /** for pulls only: Docker Hub's mirrors may serve */
  mirrors?: boolean;
}

interface Endpoint {
  base: URL;
  insecureTls: boolean;
  /** the registry whose credentials apply: the mirror's own host for a mirror */
  credentialHost: string;
}

export type Scope = string[];
export const pullScope = (repo: string): Scope => [`repository:${repo}:pull`];
export const pushScope = (repo: string): Scope => [`repository:${repo}:pull,push`];

export interface FetchedManifest {
  bytes: Buffer;
  digest: string;
  mediaType: string | undefined;
}

const TOKEN_LIMIT = 1 << 20;
const ERROR_LIMIT = 1 << 16;

export class RegistryClient {
  /** the registry as named in references: docker.io, 127.0.0.1:5000 */
  readonly host: string;
  private readonly config: RegistryConfig;
  private readonly explicit: AuthConfig | undefined;
  private readonly useMirrors: boolean;
  private endpointP: Promise<Endpoint> | undefined;
  private credsP: Promise<AuthConfig | undefined> | undefined;
  private challenge: Challenge | undefined;
  private readonly tokens = new Map<string, string>();

  constructor(host: string, opts: ClientOptions = {}) {
    this.host = host;
    this.config = opts.config ?? loadRegistryConfig();
    this.explicit = opts.credentials;
    this.useMirrors = opts.mirrors ?? false;
  }

  /** Checks that the registry answers and accepts our credentials (`login`). */
  async ping(): Promise<void> {
    const ep = await this.endpoint();
    const res = await this.send('v2/', { method: 'GET' }, [], ep);
    discard(res);
    if (res.status !== 200) throw await this.errorOf(res, `${this.host}: /v2/`);
  }

  async getManifest(repo: string, reference: string, accept: readonly string[] = MANIFEST_ACCEPT): Promise<FetchedManifest> {
    const what = `${this.host}/${repo}${reference.includes(':') ? '@' : ':'}${reference}`;
    const res = await this.send(`v2/${repo}/manifests/${reference}`, { headers: { accept: accept.join(', ') } }, pullScope(repo));
    if (res.status === 404) {
      const e = await this.errorOf(res, '');
      throw new HakoError('not-found', `manifest for ${what} not found: ${e.message.replace(/^: /, '')}`);
    }
    if (res.status !== 200) throw await this.errorOf(res, `manifest for ${what}`);
    const bytes = await readBody(res, MAX_MANIFEST_BYTES, `manifest for ${what}`);
    const ct = res.headers['content-type']?.split(';')[0]?.trim();
    const algorithm = reference.includes(':') ? parseDigest(reference).algorithm : 'sha256';
    const digest = digestOf(bytes, algorithm);
    if (reference.includes(':') && digest !== reference) {
      throw new HakoError('invalid-argument', `manifest for ${what}: the registry sent content with digest ${digest}`);
    }
    const claimed = res.headers['docker-content-digest'];
    if (typeof claimed === 'string' && claimed.startsWith(`${algorithm}:`) && claimed !== digest) {
      throw new HakoError('invalid-argument', `manifest for ${what}: the registry says its digest is ${claimed}, its content hashes to ${digest}`);
    }
    return { bytes, digest, mediaType: ct && ct !== 'application/json' && ct !== 'text/plain' ? ct : undefined };
  }

  /** A blob's body from OFFSET on (a resumed download): status 200 (whole) or 206 (the rest). */
  async getBlob(repo: string, digest: string, offset = 0): Promise<HttpResponse> {
    const headers: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
    const res = await this.send(`v2/${repo}/blobs/${digest}`, { headers, idleTimeout: 60_000 }, pullScope(repo));
    if (res.status === 200 || res.status === 206) return res;
    if (res.status === 416 && offset > 0) {
      discard(res);
      return this.getBlob(repo, digest, 0);
    }
    throw await this.errorOf(res, `blob ${digest} of ${this.host}/${repo}`);
  }

  /** The blob's size if the repository has it. */
  async headBlob(repo: string, digest: string, scope: Scope = pushScope(repo)): Promise<number | undefined> {
    const res = await this.send(`v2/${repo}/blobs/${digest}`, { method: 'HEAD' }, scope);
    discard(res);
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw await this.errorOf(res, `blob ${digest} of ${this.host}/${repo}`);
    return Number(res.headers['content-length'] ?? -1);
  }

  /**
   * Starts an upload, or mounts DIGEST from repository FROM of the same registry (no bytes
   * sent). Returns 'mounted' or the upload's location.
   */
  async startUpload(repo: string, mount?: { digest: string; from: string }): Promise<{ mounted: true } | { mounted: false; location: string }> {
    const query = mount ? `?mount=${encodeURIComponent(mount.digest)}&from=${encodeURIComponent(mount.from)}` : '';
    const scope = mount && mount.from !== repo ? [...pushScope(repo), `repository:${mount.from}:pull`] : pushScope(repo);
    const res = await this.send(`v2/${repo}/blobs/uploads/${query}`, { method: 'POST', body: Buffer.alloc(0) }, scope);
    discard(res);
    if (res.status === 201 && mount) return { mounted: true };
    if (res.status === 202 && typeof res.headers.location === 'string') return { mounted: false, location: res.headers.location };
    throw await this.errorOf(res, `upload to ${this.host}/${repo}`);
  }

  /** PATCH one chunk (bytes START.. of the blob); returns the next location. */
  async uploadChunk(repo: string, location: string, body: Buffer, start: number): Promise<string> {
    const res = await this.send(
      location,
      { method: 'PATCH', body, headers: { 'content-type': 'application/octet-stream', 'content-range': `${start}-${start + body.length - 1}` } },
      pushScope(repo),
    );
    discard(res);
    if (res.status !== 202 || typeof res.headers.location !== 'string') throw await this.errorOf(res, `upload to ${this.host}/${repo}`);
    return res.headers.location;
  }

  /** Ends an upload with its digest (and, for a monolithic upload, the whole body). */
  async finishUpload(repo: string, location: string, digest: string, body?: HttpRequest['body'], size = 0): Promise<void> {
    const url = new URL(location, (await this.endpoint()).base);
    url.searchParams.set('digest', digest);
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
    if (typeof body === 'function') headers['content-length'] = String(size);
    const res = await this.send(url.href, { method: 'PUT', headers, ...(body ? { body } : {}) }, pushScope(repo));
    discard(res);
    if (res.status !== 201) throw await this.errorOf(res, `upload of ${digest} to ${this.host}/${repo}`);
  }

  async putManifest(repo: string, reference: string, bytes: Buffer, mediaType: string): Promise<string> {
    const res = await this.send(`v2/${repo}/manifests/${reference}`, { method: 'PUT', body: bytes, headers: { 'content-type': mediaType } }, pushScope(repo));
    discard(res);
    if (res.status !== 201) throw await this.errorOf(res, `manifest ${this.host}/${repo}:${reference}`);
    const d = res.headers['docker-content-digest'];
    return typeof d === 'string' ? d : digestOf(bytes);
  }

  /**
   * Sends one request with our credentials for SCOPE; on a 401 it learns the challenge,
   * gets a token (or uses Basic) and tries once more. Transient network failures of
   * body-less requests are retried.
   */
  async send(path: string, req: HttpRequest, scope: Scope, ep?: Endpoint): Promise<HttpResponse> {
    const endpoint = ep ?? (await this.endpoint());
    const url = new URL(path, endpoint.base);
    const sameHost = url.host === endpoint.base.host;
    for (let attempt = 0; ; attempt++) {
      const auth = sameHost ? await this.authorization(scope) : undefined;
      let res: HttpResponse;
      try {
        res = await request(url, { ...req, insecureTls: endpoint.insecureTls, headers: { ...req.headers, ...(auth ? { authorization: auth } : {}) } });
      } catch (e) {
        if (attempt < 2 && isTransient(e) && (req.body === undefined || typeof req.body === 'function' || Buffer.isBuffer(req.body))) continue;
        throw e;
      }
      if (res.status === 401 && sameHost && attempt === 0) {
        const header = res.headers['www-authenticate'];
        discard(res);
        await this.authenticate(typeof header === 'string' ? header : '', scope, endpoint, auth !== undefined);
        continue;
      }
      if ((res.status === 307 || res.status === 302 || res.status === 303) && typeof res.headers.location === 'string' && (req.method ?? 'GET') === 'GET') {
        // Blob storage behind a redirect (S3 and the like): our credentials are not for it.
        discard(res);
        return request(new URL(res.headers.location, url), { ...req, insecureTls: endpoint.insecureTls });
      }
      if (res.status === 401) {
        throw await this.errorOf(res, '', true);
      }
      return res;
    }
  }

  private endpoint(): Promise<Endpoint> {
    this.endpointP ??= this.findEndpoint();
    this.endpointP.catch(() => (this.endpointP = undefined));
    return this.endpointP;
  }

  private async findEndpoint(): Promise<Endpoint> {
    if (this.useMirrors) {
      for (const m of this.config.mirrors(this.host)) {
        const base = new URL(m.endsWith('/') ? m : `${m}/`);
        const ep: Endpoint = { base, insecureTls: this.config.insecure(base.host), credentialHost: base.host };
        try {
          const res = await request(new URL('v2/', base), { insecureTls: ep.insecureTls, idleTimeout: 10_000 });
          discard(res);
          if (res.status === 200 || res.status === 401) return ep;
        } catch {
          // a mirror that does not answer is skipped, as Docker does
        }
      }
    }
    const apiHost = this.host === 'docker.io' ? 'registry-1.docker.io' : this.host;
    const secure: Endpoint = { base: new URL(`https://${apiHost}/`), insecureTls: false, credentialHost: this.host };
    if (!this.config.insecure(this.host)) return secure;
    // Insecure: https without verifying the certificate first, then plain http.
    const unverified = { ...secure, insecureTls: true };
    try {
      const res = await request(new URL('v2/', unverified.base), { insecureTls: true, idleTimeout: 10_000 });
      discard(res);
      return unverified;
    } catch {
      return { base: new URL(`http://${apiHost}/`), insecureTls: false, credentialHost: this.host };
    }
  }

  private credentials(host: string): Promise<AuthConfig | undefined> {
    if (this.explicit) return Promise.resolve(this.explicit);
    this.credsP ??= getCredentials(host);
    return this.credsP;
  }

  private async authorization(scope: Scope): Promise<string | undefined> {
    if (!this.challenge) return undefined;
    if (this.challenge.scheme === 'basic') {
      const c = await this.credentials((await this.endpoint()).credentialHost);
      return c?.username !== undefined ? basicHeader(c.username, c.password ?? '') : undefined;
    }
    const token = this.tokens.get(scope.join(' '));
    return token ? `Bearer ${token}` : undefined;
  }

  private async authenticate(header: string, scope: Scope, ep: Endpoint, hadAuth: boolean): Promise<void> {
    const challenges = parseChallenges(header);
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    const basic = challenges.find((c) => c.scheme === 'basic');
    if (bearer) {
      this.challenge = bearer;
      this.tokens.set(scope.join(' '), await this.fetchToken(bearer, scope, ep));
    } else if (basic) {
      this.challenge = basic;
      const c = await this.credentials(ep.credentialHost);
      if (c?.username === undefined || hadAuth) throw unauthorized(this.host, hadAuth ? 'invalid username or password' : 'authentication required');
    } else {
      throw new HakoError('registry', `${this.host}: the registry asks for authentication it does not name (WWW-Authenticate: ${JSON.stringify(header)})`);
    }
  }

  private async fetchToken(ch: Challenge, scope: Scope, ep: Endpoint): Promise<string> {
    const realm = ch.params['realm'];
    if (!realm) throw new HakoError('registry', `${this.host}: its Bearer challenge has no realm`);
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new HakoError('registry', `${this.host}: its token realm ${JSON.stringify(realm)} is not a URL`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new HakoError('registry', `${this.host}: its token realm ${realm} is not http(s)`);
    const c = await this.credentials(ep.credentialHost);
    let res: HttpResponse;
    if (c?.identityToken) {
      // An identity token (from a login) is an OAuth2 refresh token.
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: c.identityToken, client_id: 'hako', service: ch.params['service'] ?? '', scope: scope.join(' ') });
      res = await request(url, { method: 'POST', body: Buffer.from(form.toString()), headers: { 'content-type': 'application/x-www-form-urlencoded' }, insecureTls: this.config.insecure(url.host) });
    } else {
      if (ch.params['service']) url.searchParams.set('service', ch.params['service']);
      for (const s of scope) url.searchParams.append('scope', s);
      const headers: Record<string, string> = c?.username !== undefined ? { authorization: basicHeader(c.username, c.password ?? '') } : {};
      res = await request(url, { headers, insecureTls: this.config.insecure(url.host) });
    }
    if (res.status === 401 || res.status === 403) {
      const e = await registryErrorText(res);
      throw unauthorized(this.host, e || 'the token server refused the credentials');
    }
    if (res.status !== 200) throw new HakoError('registry', `${this.host}: token server ${url.host}: HTTP ${res.status} ${await registryErrorText(res)}`.trim());
    let body: { token?: unknown; access_token?: unknown };
    try {
      body = JSON.parse((await readBody(res, TOKEN_LIMIT, 'token')).toString('utf8')) as typeof body;
    } catch (e) {
      throw e instanceof HakoError ? e : new HakoError('registry', `${this.host}: token server ${url.host} sent a malformed token response`);
    }
    const token = typeof body.token === 'string' && body.token ? body.token : body.access_token;
    if (typeof token !== 'string' || !token) throw new HakoError('registry', `${this.host}: token server ${url.host} sent no token`);
    return token;
  }

  /** An error from a response: the registry's own code and message, as Docker prints them. */
  async errorOf(res: HttpResponse, what: string, denied = false): Promise<HakoError> {
    const text = await registryErrorText(res);
    if (denied || res.status === 401) return unauthorized(this.host, text || 'authentication required');
    if (res.status === 403) return new HakoError('unauthorized', `${what}: denied${text ? `: ${text}` : ''}`);
    if (res.status === 404) return new HakoError('not-found', `${what}: ${text || 'not found'}`);
    return new HakoError('registry', `${what}: ${text || `HTTP ${res.status}`}`);
  }
}

function basicHeader(user: string, pass: string): string {
  return `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
}

function unauthorized(host: string, detail: string): HakoError {
  return new HakoError('unauthorized', `${host}: unauthorized: ${detail}`);
}

/** `code: message` of each error in a distribution error body, or the status text. */
async function registryErrorText(res: HttpResponse): Promise<string> {
  let raw: Buffer;
  try {
    raw = await readBody(res, ERROR_LIMIT, 'error');
  } catch {
    return '';
  }
  try {
    const body = JSON.parse(raw.toString('utf8')) as { errors?: { code?: unknown; message?: unknown }[]; details?: unknown };
    if (Array.isArray(body.errors) && body.errors.length) {
      return body.errors.map((e) => [typeof e.code === 'string' ? e.code.toLowerCase().replace(/_/g, ' ') : '', typeof e.message === 'string' ? e.message : ''].filter(Boolean).join(': ')).join('; ');
    }
  } catch {
    // not JSON: the text itself, if short and printable
  }
  const t = raw.toString('utf8').trim();
  return t.length <= 200 && /^[\x20-\x7e]*$/.test(t) ? t : '';
}
