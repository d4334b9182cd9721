import { spawn } from 'node:child_process';
import { accessSync, chownSync, constants, mkdirSync, readFileSync, realpathSync, statSync, type Stats } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { HakoError, isErrno, systemError } from '../common/errors.ts';
import { atomicWriteFile } from '../common/fs.ts';

/**
 * Registry credentials in Docker's own store (docker/cli's config.json and the
 * docker-credential-helpers protocol), so that `docker login` and `hako login` share them.
 */

/** The key Docker files Docker Hub's credentials under. */
export const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';

const HUB_HOSTS = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/** what a helper prints (stdout) when it has nothing for a server */
const NOT_FOUND_MESSAGE = 'credentials not found in native keychain';

/** the Username a helper stores for an identity (refresh) token */
const TOKEN_USERNAME = '<token>';

export interface AuthConfig {
  username?: string;
  password?: string;
  identityToken?: string;
  registryToken?: string;
}

export interface CredentialOptions {
  /** config.json to use instead of $DOCKER_CONFIG/config.json or ~/.docker/config.json */
  configPath?: string;
}

/** Where storeCredentials put the secret: the CLI warns about a plain-text file. */
export type StoredIn = { kind: 'file'; path: string } | { kind: 'helper'; helper: string };

export function dockerConfigPath(): string {
  const dir = process.env['DOCKER_CONFIG'];
  return join(dir ? dir : join(homedir(), '.docker'), 'config.json');
}

/** docker/cli's ConvertToHostname: "https://myreg:5000/v1/" → "myreg:5000". */
function stripSchemeAndPath(address: string): string {
  const m = /^https?:\/\//i.exec(address);
  const rest = m ? address.slice(m[0].length) : address;
  const slash = rest.indexOf('/');
  return slash < 0 ? rest : rest.slice(0, slash);
}

/** The config.json key of a registry: Docker Hub's legacy URL, else host[:port]. */
export function credentialKey(registryHost: string): string {
  const host = stripSchemeAndPath(registryHost.trim()).toLowerCase();
  return HUB_HOSTS.has(host) ? DOCKER_HUB_KEY : host;
}

// ---- config.json ----------------------------------------------------------------

type Json = Record<string, unknown>;

interface ConfigFile {
  path: string;
  exists: boolean;
  doc: Json;
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

const invalid = (path: string, what: string) => new HakoError('invalid-config', `${path}: ${what}`);

/**
 * The key under which OBJ holds NAME. Docker decodes config.json with Go's encoding/json,
 * which prefers the exact name but accepts any letter case ("Auths", "credsstore").
 */
function fieldKey(obj: Json, name: string): string | undefined {
  if (Object.hasOwn(obj, name)) return name;
  const lower = name.toLowerCase();
  return Object.keys(obj).find((k) => k.toLowerCase() === lower);
}

function field(obj: Json, name: string): unknown {
  const k = fieldKey(obj, name);
  return k === undefined ? undefined : obj[k];
}

/** Sets a key without invoking a setter: a registry named "__proto__" stays a plain entry. */
function setKey(obj: Json, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function readConfig(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return { path, exists: false, doc: {} };
    throw systemError(err, `reading ${path}`);
  }
  // An empty file is an empty config to Docker (its JSON decoder stops at EOF).
  if (text.trim() === '') return { path, exists: true, doc: {} };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw invalid(path, `invalid JSON: ${(err as Error).message}`);
  }
  if (!isObject(doc)) throw invalid(path, 'the top level must be a JSON object');
  checkShape(path, doc);
  return { path, exists: true, doc };
}

/** The fields this module reads must have Docker's types; anything else is left alone. */
function checkShape(path: string, doc: Json): void {
  const auths = field(doc, 'auths');
  if (auths !== undefined && auths !== null) {
    if (!isObject(auths)) throw invalid(path, '"auths" must be an object');
    for (const [key, entry] of Object.entries(auths)) {
      if (entry === null) continue;
      if (!isObject(entry)) throw invalid(path, `auths[${JSON.stringify(key)}] must be an object`);
      for (const name of ['auth', 'username', 'password', 'identitytoken', 'registrytoken']) {
        const v = field(entry, name);
        if (v !== undefined && v !== null && typeof v !== 'string') throw invalid(path, `auths[${JSON.stringify(key)}].${name} must be a string`);
      }
    }
  }
  const store = field(doc, 'credsStore');
  if (store !== undefined && store !== null && typeof store !== 'string') throw invalid(path, '"credsStore" must be a string');
  const helpers = field(doc, 'credHelpers');
  if (helpers !== undefined && helpers !== null) {
    if (!isObject(helpers)) throw invalid(path, '"credHelpers" must be an object');
    for (const [key, v] of Object.entries(helpers)) {
      if (typeof v !== 'string') throw invalid(path, `credHelpers[${JSON.stringify(key)}] must be a string`);
    }
  }
}

function authsOf(doc: Json): Json | undefined {
  const auths = field(doc, 'auths');
  return isObject(auths) ? auths : undefined;
}

/**
 * The auths keys that belong to KEY: the exact one first, then those written with a scheme
 * or a path ("https://myreg:5000", "http://myreg:5000/v1/", "docker.io" for Docker Hub),
 * as Docker's file store and `docker logout` accept them.
 */
function matchingAuthKeys(auths: Json, key: string): string[] {
  const exact = Object.hasOwn(auths, key) ? [key] : [];
  return [...exact, ...Object.keys(auths).filter((k) => k !== key && credentialKey(k) === key)];
}

function writeConfig(cfg: ConfigFile): void {
  try {
    mkdirSync(dirname(cfg.path), { recursive: true, mode: 0o700 });
    // A symlinked config.json (dotfile managers) keeps its link: write where it points.
    const target = cfg.exists ? realpathSync(cfg.path) : cfg.path;
    const before: Stats | undefined = cfg.exists ? statSync(target) : undefined;
    // Docker writes MarshalIndent(config, "", "\t"), with no newline at the end.
    atomicWriteFile(target, JSON.stringify(cfg.doc, null, '\t'), 0o600);
    // root (sudo with the user's HOME or DOCKER_CONFIG) must not take the file from its owner.
    if (before && process.getuid?.() === 0 && (before.uid !== 0 || before.gid !== 0)) chownSync(target, before.uid, before.gid);
  } catch (err) {
    throw systemError(err, `writing ${cfg.path}`);
  }
}

// ---- credential helpers -----------------------------------------------------------

interface Helper {
  name: string;
  /** where it was configured, for messages */
  origin: string;
}

/** Docker's order: a per-registry credHelpers entry, then the credsStore for all. */
function helperFor(cfg: ConfigFile, key: string): Helper | undefined {
  const helpers = field(cfg.doc, 'credHelpers');
  if (isObject(helpers)) {
    const k = Object.hasOwn(helpers, key) ? key : Object.keys(helpers).find((h) => h.toLowerCase() === key);
    const name = k === undefined ? undefined : helpers[k];
    if (typeof name === 'string' && name !== '') return checkedHelper(cfg.path, name, `credHelpers in ${cfg.path}`);
  }
  const store = field(cfg.doc, 'credsStore');
  if (typeof store === 'string' && store !== '') return checkedHelper(cfg.path, store, `credsStore in ${cfg.path}`);
  return undefined;
}

function checkedHelper(path: string, name: string, origin: string): Helper {
  // The name is appended to "docker-credential-" and looked up on PATH: a '/' would make it a path.
  if (name.includes('/') || name.includes('\0')) throw invalid(path, `invalid credential helper name ${JSON.stringify(name)}`);
  return { name, origin };
}

function findOnPath(program: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    // Relative PATH entries (and "" for the current directory) are not searched, as Go's LookPath refuses them.
    if (!isAbsolute(dir)) continue;
    const candidate = join(dir, program);
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here, or not executable: keep looking
    }
  }
  return undefined;
}

interface HelperResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

async function runHelper(helper: Helper, action: 'get' | 'store' | 'erase', input: string): Promise<HelperResult> {
  const program = `docker-credential-${helper.name}`;
  const path = findOnPath(program);
  if (!path) throw new HakoError('not-found', `${program}: not found on PATH (${helper.origin})`);
  return new Promise((resolve, reject) => {
    const child = spawn(path, [action], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => reject(systemError(e, `running ${program} ${action}`)));
    child.on('close', (code, signal) =>
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }),
    );
    // A helper that exits without reading its input must not crash us with EPIPE.
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}

const helperNotFound = (r: HelperResult) => r.code !== 0 && r.stdout.trim() === NOT_FOUND_MESSAGE;

function helperFailed(helper: Helper, action: string, r: HelperResult): HakoError {
  const status = r.signal ? `killed by ${r.signal}` : `exit status ${r.code}`;
  // Helpers report on stdout (the protocol), but a crashing one may only have stderr.
  const message = r.stdout.trim() || r.stderr.trim();
  return new HakoError('system', `docker-credential-${helper.name} ${action} failed (${status})${message ? `: ${message}` : ''}`);
}

async function helperGet(helper: Helper, key: string): Promise<AuthConfig | undefined> {
  const r = await runHelper(helper, 'get', key);
  if (helperNotFound(r)) return undefined;
  if (r.code !== 0) throw helperFailed(helper, 'get', r);
  let reply: unknown;
  try {
    reply = JSON.parse(r.stdout);
  } catch {
    reply = undefined;
  }
  if (!isObject(reply)) throw new HakoError('system', `docker-credential-${helper.name} get: its output is not a JSON object`);
  const username = typeof reply['Username'] === 'string' ? reply['Username'] : '';
  const secret = typeof reply['Secret'] === 'string' ? reply['Secret'] : '';
  if (username === TOKEN_USERNAME) return secret ? { identityToken: secret } : undefined;
  if (!username && !secret) return undefined;
  return { username, password: secret };
}

// ---- the API --------------------------------------------------------------------

function base64Decode(path: string, key: string, auth: string): { username: string; password: string } {
  // Go's StdEncoding is strict: padded standard alphabet only (Node's decoder would accept junk).
  if (auth.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(auth)) {
    throw invalid(path, `auths[${JSON.stringify(key)}].auth is not valid base64`);
  }
  const text = Buffer.from(auth, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) throw invalid(path, `auths[${JSON.stringify(key)}].auth is not base64 of "username:password"`);
  // The password is everything after the first ':'; Docker trims NUL padding from it.
  return { username: text.slice(0, colon), password: text.slice(colon + 1).replace(/^\0+|\0+$/g, '') };
}

function fromAuthsEntry(path: string, key: string, entry: Json): AuthConfig {
  const str = (name: string) => {
    const v = field(entry, name);
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
  const out: AuthConfig = {};
  const auth = str('auth');
  const userPass = auth !== undefined ? base64Decode(path, key, auth) : { username: str('username'), password: str('password') };
  if (userPass.username) out.username = userPass.username;
  if (userPass.password) out.password = userPass.password;
  const identityToken = str('identitytoken');
  if (identityToken !== undefined) out.identityToken = identityToken;
  const registryToken = str('registrytoken');
  if (registryToken !== undefined) out.registryToken = registryToken;
  return out;
}

const isEmpty = (a: AuthConfig) => !a.username && !a.password && !a.identityToken && !a.registryToken;

/** The stored credentials for a registry (host[:port], "docker.io", or a URL), or undefined. */
export async function getCredentials(registryHost: string, opts: CredentialOptions = {}): Promise<AuthConfig | undefined> {
  const cfg = readConfig(opts.configPath ?? dockerConfigPath());
  const key = credentialKey(registryHost);
  const auths = authsOf(cfg.doc);
  const authsKey = auths ? matchingAuthKeys(auths, key)[0] : undefined;
  const entry = auths && authsKey !== undefined && isObject(auths[authsKey]) ? (auths[authsKey] as Json) : undefined;
  const fromFile = entry ? fromAuthsEntry(cfg.path, authsKey!, entry) : {};

  const helper = helperFor(cfg, key);
  if (helper) {
    // With a helper the secret lives in the helper; Docker keeps only a registry token
    // (which it never hands to a helper) from the file entry.
    const fromHelper = (await helperGet(helper, key)) ?? {};
    const merged: AuthConfig = { ...fromHelper, ...(fromFile.registryToken ? { registryToken: fromFile.registryToken } : {}) };
    return isEmpty(merged) ? undefined : merged;
  }
  return isEmpty(fromFile) ? undefined : fromFile;
}

/**
 * Stores a login: in the registry's helper if one is configured, else base64 in
 * config.json (every other field of the file kept). The CLI prints Docker's warning
 * ("Your password will be stored unencrypted in FILE.") for { kind: 'file' }.
 */
export async function storeCredentials(registryHost: string, auth: { username: string; password: string }, opts: CredentialOptions = {}): Promise<StoredIn> {
  // "user:pass" is split at the first ':', so a ':' in the name could not be read back.
  if (auth.username.includes(':')) throw new HakoError('invalid-argument', `a username must not contain ':': ${JSON.stringify(auth.username)}`);
  const cfg = readConfig(opts.configPath ?? dockerConfigPath());
  const key = credentialKey(registryHost);
  const helper = helperFor(cfg, key);
  let entry: Json;
  if (helper) {
    const r = await runHelper(helper, 'store', JSON.stringify({ ServerURL: key, Username: auth.username, Secret: auth.password }));
    if (r.code !== 0) throw helperFailed(helper, 'store', r);
    // As Docker: an empty entry marks the login in config.json (logout looks for it), and
    // any plain-text secret from before is gone.
    entry = {};
  } else {
    entry = { auth: Buffer.from(`${auth.username}:${auth.password}`, 'utf8').toString('base64') };
  }
  const authsKey = fieldKey(cfg.doc, 'auths') ?? 'auths';
  const auths = authsOf(cfg.doc) ?? {};
  setKey(auths, key, entry);
  setKey(cfg.doc, authsKey, auths);
  writeConfig(cfg);
  return helper ? { kind: 'helper', helper: `docker-credential-${helper.name}` } : { kind: 'file', path: cfg.path };
}

/**
 * Removes a login (the helper's secret and the config.json entries, also those written with
 * a scheme or path); true if there was one. Docker's logout prints "Removing login
 * credentials for HOST", or "Not logged in to HOST" when there was none.
 */
export async function eraseCredentials(registryHost: string, opts: CredentialOptions = {}): Promise<boolean> {
  const cfg = readConfig(opts.configPath ?? dockerConfigPath());
  const key = credentialKey(registryHost);
  let removed = false;
  const helper = helperFor(cfg, key);
  if (helper) {
    const r = await runHelper(helper, 'erase', key);
    if (r.code === 0) removed = true;
    else if (!helperNotFound(r)) throw helperFailed(helper, 'erase', r);
  }
  const auths = authsOf(cfg.doc);
  const keys = auths ? matchingAuthKeys(auths, key) : [];
  if (auths && keys.length > 0) {
    for (const k of keys) delete auths[k];
    writeConfig(cfg);
    removed = true;
  }
  return removed;
}
