import { readFileSync } from 'node:fs';
import { BlockList, isIP } from 'node:net';
import { HakoError, isErrno, systemError } from '../common/errors.ts';

/**
 * How registries are reached, from the registry keys of Docker's daemon.json:
 *   "insecure-registries": ["myreg:5000", "10.0.0.0/8"]
 *   "registry-mirrors": ["https://mirror.example:5000"]
 */
export interface RegistryConfig {
  /**
   * Whether HOST (host[:port], as in a reference or URL.host) is insecure: try https without
   * verifying the certificate, then fall back to plain http.
   */
  insecure(host: string): boolean;
  /** base URLs (no trailing '/') of the mirrors for REGISTRYHOST; only Docker Hub has any, as with Docker */
  mirrors(registryHost: string): string[];
}

export const DEFAULT_REGISTRY_CONFIG = '/etc/hako/daemon.json';

const HUB_HOSTS = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

// distribution/reference's domain grammar: DNS labels with an optional port, or [IPv6][:port].
const HOST_PORT = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::([0-9]+))?$/;

/** host[:port] → host without brackets or port ("[::1]:5000" → "::1"; a bare IPv6 stays whole). */
function hostPart(hostPort: string): string {
  if (hostPort.startsWith('[')) {
    const end = hostPort.indexOf(']');
    return end < 0 ? hostPort : hostPort.slice(1, end);
  }
  // More than one ':' is an IPv6 literal without brackets (no port can be told apart).
  const first = hostPort.indexOf(':');
  if (first >= 0 && hostPort.indexOf(':', first + 1) < 0) return hostPort.slice(0, first);
  return hostPort;
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** IP literal HOST in LIST (IPv4-mapped IPv6 addresses match IPv4 rules); names never do. */
function ipIn(list: BlockList, host: string): boolean {
  const family = isIP(host);
  if (family === 0) return false;
  try {
    return list.check(host, family === 4 ? 'ipv4' : 'ipv6');
  } catch {
    return false;
  }
}

/**
 * Docker treats loopback registries as insecure: its default insecure CIDR is 127.0.0.0/8,
 * and it resolves names, so localhost (127.0.0.1 or ::1) is insecure too.
 */
const isLoopback = (host: string) => host === 'localhost' || ipIn(LOOPBACK, host);

function fail(path: string, key: string, why: string): HakoError {
  return new HakoError('invalid-config', `${path}: "${key}": ${why}`);
}

function stringList(path: string, doc: Record<string, unknown>, key: string): string[] {
  const v = doc[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw fail(path, key, `must be a list of strings, got ${typeof v}`);
  return v.map((item, i) => {
    if (typeof item !== 'string') throw fail(path, key, `item ${i} must be a string, got ${item === null ? 'null' : typeof item}`);
    return item.trim();
  });
}

interface Insecure {
  hosts: Set<string>;
  cidrs: BlockList;
}

function parseInsecure(path: string, entries: string[]): Insecure {
  const hosts = new Set<string>();
  const cidrs = new BlockList();
  for (const raw of entries) {
    // Docker drops an http:// or https:// prefix (with a warning) and refuses other schemes.
    const entry = raw.replace(/^https?:\/\//i, '');
    if (entry.includes('://')) throw fail(path, 'insecure-registries', `${JSON.stringify(raw)} should not contain '://'`);
    const slash = entry.indexOf('/');
    if (slash >= 0) {
      const ip = entry.slice(0, slash);
      const bits = entry.slice(slash + 1);
      const family = isIP(ip);
      const max = family === 4 ? 32 : 128;
      if (family === 0 || !/^[0-9]{1,3}$/.test(bits) || Number(bits) > max) {
        throw fail(path, 'insecure-registries', `${JSON.stringify(raw)} is neither host[:port] nor a CIDR`);
      }
      cidrs.addSubnet(ip, Number(bits), family === 4 ? 'ipv4' : 'ipv6');
      continue;
    }
    const m = HOST_PORT.exec(entry);
    const bareIPv6 = isIP(entry) === 6;
    if ((!m && !bareIPv6) || (m?.[1] !== undefined && Number(m[1]) > 65535)) {
      throw fail(path, 'insecure-registries', `${JSON.stringify(raw)} is not a valid host[:port]`);
    }
    hosts.add(entry.toLowerCase());
  }
  return { hosts, cidrs };
}

function parseMirror(path: string, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw fail(path, 'registry-mirrors', `${JSON.stringify(raw)} is not a valid URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw fail(path, 'registry-mirrors', `unsupported scheme ${JSON.stringify(url.protocol.slice(0, -1))} in ${JSON.stringify(raw)}`);
  }
  if (url.search !== '' || url.hash !== '' || /[?#]/.test(raw)) throw fail(path, 'registry-mirrors', `${JSON.stringify(raw)} must not have a query or fragment`);
  if (url.username !== '' || url.password !== '') throw fail(path, 'registry-mirrors', `a username or password is not allowed in a mirror URL (${url.host})`);
  // The normalised form (lowercase scheme and host, default port dropped) without trailing '/'.
  return url.href.replace(/\/+$/, '');
}

function readDoc(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return {};
    throw systemError(err, `reading ${path}`);
  }
  if (text.trim() === '') return {};
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new HakoError('invalid-config', `${path}: invalid JSON: ${(err as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new HakoError('invalid-config', `${path}: the top level must be a JSON object`);
  return doc as Record<string, unknown>;
}

/** Reads PATH, else $HAKO_REGISTRY_CONFIG, else /etc/hako/daemon.json; a missing file means the defaults. */
export function loadRegistryConfig(path?: string): RegistryConfig {
  const file = path ?? (process.env['HAKO_REGISTRY_CONFIG'] || DEFAULT_REGISTRY_CONFIG);
  const doc = readDoc(file);
  const { hosts, cidrs } = parseInsecure(file, stringList(file, doc, 'insecure-registries'));
  const mirrors = [...new Set(stringList(file, doc, 'registry-mirrors').map((m) => parseMirror(file, m)))];
  return {
    insecure(hostPort: string): boolean {
      const hp = hostPort.trim().toLowerCase();
      const host = hostPart(hp);
      // Docker Hub is always reached securely, whatever the list says.
      if (HUB_HOSTS.has(host)) return false;
      // Names are not resolved (Docker does): only IP literals are matched against CIDRs.
      return hosts.has(hp) || isLoopback(host) || ipIn(cidrs, host);
    },
    mirrors(registryHost: string): string[] {
      return HUB_HOSTS.has(registryHost.trim().toLowerCase()) ? [...mirrors] : [];
    },
  };
}
