import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { HakoError } from '../common/errors.ts';

/**
 * One HTTP exchange with a registry or token server, over node:http(s) rather than
 * fetch: hako needs unverified TLS for insecure registries, a streamed request body for
 * uploads and a streamed response it can cut off, all without another dependency.
 */
export interface HttpRequest {
  method?: string;
  headers?: Record<string, string>;
  /** a Buffer, or a stream made fresh for each attempt */
  body?: Buffer | (() => Readable);
  /** skip certificate verification (an insecure registry over https) */
  insecureTls?: boolean;
  /** ms without a byte before the exchange is given up */
  idleTimeout?: number;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: IncomingMessage;
}

export const USER_AGENT = 'hako/0.1.0';
const DEFAULT_IDLE_MS = 30_000;

// Keep-alive: a pull makes dozens of requests to one host.
const agents = {
  http: new http.Agent({ keepAlive: true, maxSockets: 16 }),
  https: new https.Agent({ keepAlive: true, maxSockets: 16 }),
  httpsInsecure: new https.Agent({ keepAlive: true, maxSockets: 16, rejectUnauthorized: false }),
};

export function request(url: URL, req: HttpRequest = {}): Promise<HttpResponse> {
  const isHttps = url.protocol === 'https:';
  if (!isHttps && url.protocol !== 'http:') return Promise.reject(new HakoError('invalid-argument', `unsupported URL scheme in ${url.href}`));
  const mod = isHttps ? https : http;
  const agent = isHttps ? (req.insecureTls ? agents.httpsInsecure : agents.https) : agents.http;
  const headers: Record<string, string> = { 'user-agent': USER_AGENT, ...req.headers };
  const body = typeof req.body === 'function' ? req.body() : req.body;
  if (Buffer.isBuffer(body)) headers['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    const r = mod.request(url, { method: req.method ?? 'GET', headers, agent }, (res) => {
      res.setTimeout(req.idleTimeout ?? DEFAULT_IDLE_MS, () => res.destroy(new HakoError('system', `${url.host}: no data for ${(req.idleTimeout ?? DEFAULT_IDLE_MS) / 1000}s`)));
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res });
    });
    r.setTimeout(req.idleTimeout ?? DEFAULT_IDLE_MS, () => r.destroy(new HakoError('system', `${url.host}: timed out`)));
    r.on('error', (e) => reject(networkError(url, e)));
    if (body === undefined) r.end();
    else if (Buffer.isBuffer(body)) r.end(body);
    else {
      body.on('error', (e) => r.destroy(e));
      body.pipe(r);
    }
  });
}

/** The response body, bounded: a registry that sends more than `limit` bytes is refused. */
export async function readBody(res: HttpResponse, limit: number, what: string): Promise<Buffer> {
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    res.body.destroy();
    throw new HakoError('invalid-argument', `${what}: ${declared} bytes is more than the ${limit} allowed`);
  }
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    n += chunk.length;
    if (n > limit) {
      res.body.destroy();
      throw new HakoError('invalid-argument', `${what}: more than the ${limit} bytes allowed`);
    }
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}

/** Drains a response nobody reads, so its socket goes back to the pool. */
export function discard(res: HttpResponse): void {
  res.body.resume();
}

export function networkError(url: URL, e: unknown): HakoError {
  if (e instanceof HakoError) return e;
  const err = e as NodeJS.ErrnoException;
  const detail = err?.code ? `${err.code}${err.message && !err.message.startsWith(err.code) ? ` (${err.message})` : ''}` : String(err?.message ?? e);
  return new HakoError('system', `${url.protocol}//${url.host}${url.pathname}: ${detail}`, { cause: e });
}

/** Errors after which the same request may succeed: the connection, not the answer, failed. */
export function isTransient(e: unknown): boolean {
  const code = ((e as { cause?: NodeJS.ErrnoException })?.cause ?? (e as NodeJS.ErrnoException))?.code;
  return ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE', 'UND_ERR_SOCKET', 'EAI_AGAIN'].includes(code ?? '') || (e as Error)?.message === 'aborted';
}
