import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { HakoError, isErrno } from '../common/errors.ts';
import { HOOK_PHASES, NAMESPACE_TYPES, type Spec } from './spec-types.ts';

/**
 * Reads BUNDLE/config.json and checks everything the launch plan relies on, so that a
 * bad config fails here with the offending field named, before anything is created.
 */
export function loadSpec(bundle: string): Spec {
  const file = join(bundle, 'config.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) throw new HakoError('invalid-config', `${file}: no such file (is ${bundle} an OCI bundle?)`);
    throw new HakoError('invalid-config', `${file}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new HakoError('invalid-config', `${file}: invalid JSON: ${(err as Error).message}`);
  }
  validateSpec(raw);
  return raw;
}

function fail(msg: string): never {
  throw new HakoError('invalid-config', `config.json: ${msg}`);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isUint = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffffffff;
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');

export function validateSpec(raw: unknown): asserts raw is Spec {
  if (!isObject(raw)) fail('the top level must be a JSON object');
  const version = raw['ociVersion'];
  if (typeof version !== 'string') fail('ociVersion is missing');
  if (!/^1\.\d+\.\d+(-[\w.+-]+)?$/.test(version)) fail(`unsupported ociVersion "${version}" (hako supports 1.x)`);
  const root = raw['root'];
  if (!isObject(root) || typeof root['path'] !== 'string' || root['path'] === '') fail('root.path is missing');
  if (root['readonly'] !== undefined && typeof root['readonly'] !== 'boolean') fail('root.readonly must be a boolean');
  validateProcess(raw['process']);
  for (const key of ['hostname', 'domainname'] as const) {
    if (raw[key] !== undefined && typeof raw[key] !== 'string') fail(`${key} must be a string`);
  }
  validateMounts(raw['mounts']);
  validateHooks(raw['hooks']);
  const ann = raw['annotations'];
  if (ann !== undefined && (!isObject(ann) || !Object.values(ann).every((v) => typeof v === 'string'))) {
    fail('annotations must map strings to strings');
  }
  validateLinux(raw['linux'], raw);
}

export function validateProcess(p: unknown): void {
  if (p === undefined) return; // allowed by the spec; create rejects it later
  if (!isObject(p)) fail('process must be an object');
  if (!isStringArray(p['args']) || p['args'].length === 0) fail('process.args must be a non-empty list of strings');
  if (typeof p['cwd'] !== 'string' || !isAbsolute(p['cwd'])) fail(`process.cwd must be an absolute path, got ${JSON.stringify(p['cwd'])}`);
  if (p['env'] !== undefined && !isStringArray(p['env'])) fail('process.env must be a list of strings');
  if (isStringArray(p['env'])) {
    for (const e of p['env']) if (!e.includes('=')) fail(`process.env entry "${e}" has no "="`);
  }
  const user = p['user'];
  if (!isObject(user)) fail('process.user is missing');
  if (!isUint(user['uid']) || !isUint(user['gid'])) fail('process.user.uid and gid must be non-negative integers');
  if (user['umask'] !== undefined && (!isUint(user['umask']) || user['umask'] > 0o777)) fail('process.user.umask must be between 0 and 0777');
  const gids = user['additionalGids'];
  if (gids !== undefined && (!Array.isArray(gids) || !gids.every(isUint))) fail('process.user.additionalGids must be a list of gids');
  if (p['terminal'] !== undefined && typeof p['terminal'] !== 'boolean') fail('process.terminal must be a boolean');
  const oom = p['oomScoreAdj'];
  if (oom !== undefined && (!Number.isInteger(oom) || (oom as number) < -1000 || (oom as number) > 1000)) fail('process.oomScoreAdj must be an integer from -1000 to 1000');
  const caps = p['capabilities'];
  if (caps !== undefined) {
    if (!isObject(caps)) fail('process.capabilities must be an object');
    for (const [set, names] of Object.entries(caps)) if (!isStringArray(names)) fail(`process.capabilities.${set} must be a list of names`);
  }
  const rlimits = p['rlimits'];
  if (rlimits !== undefined && (!Array.isArray(rlimits) || !rlimits.every((r) => isObject(r) && typeof r['type'] === 'string'))) {
    fail('process.rlimits must be a list of {type, soft, hard}');
  }
  for (const key of ['noNewPrivileges'] as const) if (p[key] !== undefined && typeof p[key] !== 'boolean') fail(`process.${key} must be a boolean`);
}

function validateMounts(mounts: unknown): void {
  if (mounts === undefined) return;
  if (!Array.isArray(mounts)) fail('mounts must be a list');
  mounts.forEach((m, i) => {
    if (!isObject(m)) fail(`mounts[${i}] must be an object`);
    if (typeof m['destination'] !== 'string' || m['destination'] === '') fail(`mounts[${i}].destination is missing`);
    if (m['type'] !== undefined && typeof m['type'] !== 'string') fail(`mounts[${i}].type must be a string`);
    if (m['source'] !== undefined && typeof m['source'] !== 'string') fail(`mounts[${i}].source must be a string`);
    if (m['options'] !== undefined && !isStringArray(m['options'])) fail(`mounts[${i}].options must be a list of strings`);
  });
}

function validateHooks(hooks: unknown): void {
  if (hooks === undefined) return;
  if (!isObject(hooks)) fail('hooks must be an object');
  for (const [phase, list] of Object.entries(hooks)) {
    if (!(HOOK_PHASES as readonly string[]).includes(phase)) fail(`hooks: unknown hook "${phase}"`);
    if (!Array.isArray(list)) fail(`hooks.${phase} must be a list`);
    list.forEach((h, i) => {
      const where = `hooks.${phase}[${i}]`;
      if (!isObject(h) || typeof h['path'] !== 'string' || !isAbsolute(h['path'])) fail(`${where}.path must be an absolute path`);
      if (h['args'] !== undefined && !isStringArray(h['args'])) fail(`${where}.args must be a list of strings`);
      if (h['env'] !== undefined && !isStringArray(h['env'])) fail(`${where}.env must be a list of strings`);
      if (h['timeout'] !== undefined && (!Number.isInteger(h['timeout']) || (h['timeout'] as number) <= 0)) {
        fail(`${where}.timeout must be a positive number of seconds`);
      }
    });
  }
}

function validateLinux(linux: unknown, spec: Record<string, unknown>): void {
  if (linux === undefined) fail('linux is missing (hako runs Linux containers)');
  if (!isObject(linux)) fail('linux must be an object');
  const nss = linux['namespaces'] ?? [];
  if (!Array.isArray(nss)) fail('linux.namespaces must be a list');
  const seen = new Set<string>();
  nss.forEach((ns, i) => {
    if (!isObject(ns) || typeof ns['type'] !== 'string') fail(`linux.namespaces[${i}].type is missing`);
    const type = ns['type'];
    if (!(NAMESPACE_TYPES as readonly string[]).includes(type)) fail(`linux.namespaces[${i}]: unknown namespace type "${type}"`);
    if (seen.has(type)) fail(`linux.namespaces: namespace type "${type}" appears twice`);
    seen.add(type);
    if (ns['path'] !== undefined && (typeof ns['path'] !== 'string' || !isAbsolute(ns['path']))) {
      fail(`linux.namespaces[${i}].path must be an absolute path`);
    }
  });
  const own = (t: string) => nss.some((ns) => isObject(ns) && ns['type'] === t && !ns['path']);
  // A joined uts namespace may be renamed too (runc does so): only the host's may not.
  if (spec['hostname'] && !seen.has('uts')) fail('hostname is set but the container has no uts namespace of its own');
  if (spec['domainname'] && !seen.has('uts')) fail('domainname is set but the container has no uts namespace of its own');
  for (const key of ['uidMappings', 'gidMappings'] as const) {
    const maps = linux[key];
    if (maps === undefined) continue;
    if (!Array.isArray(maps)) fail(`linux.${key} must be a list`);
    maps.forEach((m, i) => {
      if (!isObject(m) || !isUint(m['containerID']) || !isUint(m['hostID']) || !isUint(m['size']) || m['size'] === 0) {
        fail(`linux.${key}[${i}] needs containerID, hostID and a non-zero size`);
      }
    });
  }
  if (own('user') && !(Array.isArray(linux['uidMappings']) && linux['uidMappings'].length && Array.isArray(linux['gidMappings']) && linux['gidMappings'].length)) {
    fail('a new user namespace needs linux.uidMappings and linux.gidMappings');
  }
  if (!own('user') && (linux['uidMappings'] || linux['gidMappings'])) {
    const hasMaps = [linux['uidMappings'], linux['gidMappings']].some((m) => Array.isArray(m) && m.length > 0);
    if (hasMaps) fail('linux.uidMappings/gidMappings are set but the container has no new user namespace');
  }
  if (linux['timeOffsets'] !== undefined && !own('time')) fail('linux.timeOffsets is set but the container has no new time namespace');
  for (const key of ['maskedPaths', 'readonlyPaths'] as const) {
    const list = linux[key];
    if (list === undefined) continue;
    if (!isStringArray(list)) fail(`linux.${key} must be a list of strings`);
    for (const p of list) if (!isAbsolute(p)) fail(`linux.${key}: "${p}" is not an absolute path`);
  }
  const devs = linux['devices'];
  if (devs !== undefined) {
    if (!Array.isArray(devs)) fail('linux.devices must be a list');
    devs.forEach((d, i) => {
      if (!isObject(d) || typeof d['path'] !== 'string' || !isAbsolute(d['path'])) fail(`linux.devices[${i}].path must be an absolute path`);
      if (!['c', 'b', 'u', 'p'].includes(d['type'] as string)) fail(`linux.devices[${i}].type must be one of c, b, u, p`);
      if (d['type'] !== 'p' && (!isUint(d['major']) || !isUint(d['minor']))) fail(`linux.devices[${i}] needs major and minor numbers`);
    });
  }
  const prop = linux['rootfsPropagation'];
  if (prop !== undefined && !['private', 'rprivate', 'slave', 'rslave', 'shared', 'rshared', 'unbindable', 'runbindable'].includes(prop as string)) {
    fail(`linux.rootfsPropagation: unknown propagation "${String(prop)}"`);
  }
  if (linux['cgroupsPath'] !== undefined && typeof linux['cgroupsPath'] !== 'string') fail('linux.cgroupsPath must be a string');
}

/** The rootfs as an absolute path (root.path is relative to the bundle when not absolute). */
export function rootfsPath(spec: Spec, bundle: string): string {
  return resolve(bundle, spec.root!.path);
}
