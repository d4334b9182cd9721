import { HakoError } from '../common/errors.ts';
import { digestOf, digestProblem, parseDigest, quote } from './digest.ts';
import { baseMediaType, isConfigType, isIndexType, isLayerType, isManifestType, isSchema1Type, MediaType } from './media-types.ts';
import type { Platform } from './platform.ts';

/**
 * Image indexes (Docker: manifest lists), manifests and configs of the OCI image spec
 * and Docker's manifest v2 schema 2. They come from registries and archives, so they
 * are untrusted: every field the rest of hako reads is checked here, and an error names
 * the field (`manifest.layers[2].digest: invalid digest "sha256:xyz" …`).
 */

/** Manifests and indexes are small; a registry that sends more is misbehaving. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** Configs carry the history; generous, but still bounded. */
export const MAX_CONFIG_BYTES = 8 * 1024 * 1024;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  /** the content itself, base64: verified against digest and size when present */
  data?: string;
  artifactType?: string;
  /** in an index: which platform the manifest is for */
  platform?: Platform;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** Durations are nanoseconds, as Docker writes them. */
export interface HealthConfig {
  Test?: string[] | null;
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

/** The runtime defaults of an image (OCI `config`; Docker writes null for unset fields). */
export interface ContainerConfig {
  User?: string;
  ExposedPorts?: Record<string, object> | null;
  Env?: string[] | null;
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object> | null;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  ArgsEscaped?: boolean;
  Healthcheck?: HealthConfig | null;
  OnBuild?: string[] | null;
  Shell?: string[] | null;
  Hostname?: string;
  Domainname?: string;
  Memory?: number;
  MemorySwap?: number;
  CpuShares?: number;
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
  config?: ContainerConfig | null;
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: HistoryEntry[];
}

export type ManifestOrIndex = { kind: 'index'; index: ImageIndex } | { kind: 'manifest'; manifest: ImageManifest };

type Obj = Record<string, unknown>;

function fail(at: string, msg: string): never {
  throw new HakoError('invalid-config', `${at}: ${msg}`);
}

const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const typeName = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v);
/** A value as JSON, shortened: the input is untrusted and may be huge. */
const show = (v: unknown) => {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
};

function decode(data: Uint8Array | string, what: string, max: number): Obj {
  const bytes = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
  if (bytes > max) fail(what, `${bytes} bytes is more than the ${max} allowed`);
  let raw: unknown;
  try {
    raw = JSON.parse(typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
  } catch (err) {
    fail(what, `invalid JSON: ${(err as Error).message}`);
  }
  if (!isObject(raw)) fail(what, `must be a JSON object, got ${typeName(raw)}`);
  return raw;
}

function str(o: Obj, key: string, at: string, required = false): string | undefined {
  const v = o[key];
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'string') fail(`${at}.${key}`, v === undefined ? 'is missing' : `must be a string, got ${typeName(v)}`);
  if (required && v === '') fail(`${at}.${key}`, 'must not be empty');
  return v;
}

/** A list of strings; Docker writes null for "not set", which is kept. */
function strList(o: Obj, key: string, at: string): void {
  const v = o[key];
  if (v === undefined || v === null) return;
  if (!Array.isArray(v)) fail(`${at}.${key}`, `must be a list of strings, got ${typeName(v)}`);
  v.forEach((s, i) => {
    if (typeof s !== 'string') fail(`${at}.${key}[${i}]`, `must be a string, got ${typeName(s)}`);
  });
}

function strMap(o: Obj, key: string, at: string): void {
  const v = o[key];
  if (v === undefined || v === null) return;
  if (!isObject(v)) fail(`${at}.${key}`, `must map strings to strings, got ${typeName(v)}`);
  for (const [k, s] of Object.entries(v)) if (typeof s !== 'string') fail(`${at}.${key}[${quote(k)}]`, `must be a string, got ${typeName(s)}`);
}

/** A set written as an object whose values are `{}` (ExposedPorts, Volumes). */
function objSet(o: Obj, key: string, at: string, keyRe?: RegExp, keyHint?: string): void {
  const v = o[key];
  if (v === undefined || v === null) return;
  if (!isObject(v)) fail(`${at}.${key}`, `must be an object, got ${typeName(v)}`);
  for (const [k, s] of Object.entries(v)) {
    if (keyRe && !keyRe.test(k)) fail(`${at}.${key}`, `invalid key ${quote(k)}${keyHint ? ` (${keyHint})` : ''}`);
    if (s !== null && !isObject(s)) fail(`${at}.${key}[${quote(k)}]`, `must be an object, got ${typeName(s)}`);
  }
}

function uint(o: Obj, key: string, at: string): void {
  const v = o[key];
  if (v === undefined) return;
  if (!Number.isSafeInteger(v) || (v as number) < 0) fail(`${at}.${key}`, `must be a non-negative integer, got ${show(v)}`);
}

function bool(o: Obj, key: string, at: string): void {
  if (o[key] !== undefined && typeof o[key] !== 'boolean') fail(`${at}.${key}`, `must be true or false, got ${typeName(o[key])}`);
}

function digestField(o: Obj, key: string, at: string): string {
  const v = o[key];
  if (v === undefined) fail(`${at}.${key}`, 'is missing');
  const problem = digestProblem(v);
  if (problem) fail(`${at}.${key}`, `invalid digest ${quote(v)} (${problem})`);
  return v as string;
}

// RFC 6838 type/subtype, the grammar the OCI spec points to.
const MEDIA_TYPE_RE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

function mediaTypeField(o: Obj, key: string, at: string, required: boolean): string | undefined {
  const v = str(o, key, at, required);
  if (v !== undefined && !MEDIA_TYPE_RE.test(v)) fail(`${at}.${key}`, `invalid media type ${quote(v)}`);
  return v;
}

function validatePlatform(v: unknown, at: string): void {
  if (!isObject(v)) fail(at, `must be an object, got ${typeName(v)}`);
  str(v, 'architecture', at, true);
  str(v, 'os', at, true);
  str(v, 'variant', at);
  str(v, 'os.version', at);
  strList(v, 'os.features', at);
  strList(v, 'features', at);
}

function validateDescriptor(v: unknown, at: string): Descriptor {
  if (v === undefined) fail(at, 'is missing');
  if (!isObject(v)) fail(at, `must be an object, got ${typeName(v)}`);
  mediaTypeField(v, 'mediaType', at, true);
  const digest = digestField(v, 'digest', at);
  if (v['size'] === undefined) fail(`${at}.size`, 'is missing');
  uint(v, 'size', at);
  strList(v, 'urls', at);
  if (Array.isArray(v['urls'])) {
    (v['urls'] as string[]).forEach((u, i) => {
      if (!/^https?:\/\//i.test(u)) fail(`${at}.urls[${i}]`, `must be an http or https URL, got ${quote(u)}`);
    });
  }
  strMap(v, 'annotations', at);
  mediaTypeField(v, 'artifactType', at, false);
  if (v['platform'] !== undefined) validatePlatform(v['platform'], `${at}.platform`);
  const data = str(v, 'data', at);
  if (data !== undefined) {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(data) || data.length % 4 !== 0) fail(`${at}.data`, 'must be base64');
    const bytes = Buffer.from(data, 'base64');
    if (bytes.length !== v['size']) fail(`${at}.data`, `holds ${bytes.length} bytes but size says ${v['size'] as number}`);
    const actual = digestOf(bytes, parseDigest(digest).algorithm);
    if (actual !== digest) fail(`${at}.data`, `does not match the digest: expected ${digest}, got ${actual}`);
  }
  return v as unknown as Descriptor;
}

function schemaVersion(o: Obj, at: string): void {
  const v = o['schemaVersion'];
  if (v === 1 || isSchema1Type(o['mediaType'] as string | undefined)) {
    fail(at, 'Docker image manifest schema 1 is not supported (it was deprecated in 2017); push the image again with a current docker or buildah');
  }
  if (v !== 2) fail(`${at}.schemaVersion`, v === undefined ? 'is missing' : `must be 2, got ${show(v)}`);
}

/** The media type of a document: its own field, else what the descriptor or Content-Type said. */
function effectiveType(o: Obj, at: string, hint: string | undefined): string | undefined {
  const own = mediaTypeField(o, 'mediaType', at, false);
  if (own !== undefined && hint !== undefined && baseMediaType(own) !== baseMediaType(hint) && !isSchema1Type(hint)) {
    fail(`${at}.mediaType`, `${quote(own)} does not match the media type it was served or referenced with, ${quote(hint)}`);
  }
  return own ?? hint;
}

export function validateIndex(raw: unknown, mediaType?: string): ImageIndex {
  const at = 'index';
  if (!isObject(raw)) fail(at, `must be a JSON object, got ${typeName(raw)}`);
  schemaVersion(raw, at);
  const type = effectiveType(raw, at, mediaType) ?? MediaType.OciIndex;
  if (!isIndexType(type)) fail(`${at}.mediaType`, `${quote(type)} is not an image index or manifest list`);
  const list = raw['manifests'];
  if (!Array.isArray(list)) fail(`${at}.manifests`, list === undefined ? 'is missing' : `must be a list, got ${typeName(list)}`);
  const dockerList = baseMediaType(type) === MediaType.DockerManifestList;
  list.forEach((d, i) => {
    validateDescriptor(d, `${at}.manifests[${i}]`);
    if (dockerList && (d as Obj)['platform'] === undefined) fail(`${at}.manifests[${i}].platform`, 'is missing (a Docker manifest list names the platform of every entry)');
  });
  if (raw['subject'] !== undefined) validateDescriptor(raw['subject'], `${at}.subject`);
  strMap(raw, 'annotations', at);
  mediaTypeField(raw, 'artifactType', at, false);
  return raw as unknown as ImageIndex;
}

export function validateManifest(raw: unknown, mediaType?: string): ImageManifest {
  const at = 'manifest';
  if (!isObject(raw)) fail(at, `must be a JSON object, got ${typeName(raw)}`);
  schemaVersion(raw, at);
  const type = effectiveType(raw, at, mediaType) ?? (raw['manifests'] !== undefined ? MediaType.OciIndex : MediaType.OciManifest);
  if (isIndexType(type)) fail(at, `this is an image index (${type}), not a manifest`);
  if (!isManifestType(type)) fail(`${at}.mediaType`, `${quote(type)} is not an image manifest`);
  validateDescriptor(raw['config'], `${at}.config`);
  const layers = raw['layers'];
  if (!Array.isArray(layers)) fail(`${at}.layers`, layers === undefined ? 'is missing' : `must be a list, got ${typeName(layers)}`);
  layers.forEach((d, i) => validateDescriptor(d, `${at}.layers[${i}]`));
  if (raw['subject'] !== undefined) validateDescriptor(raw['subject'], `${at}.subject`);
  strMap(raw, 'annotations', at);
  mediaTypeField(raw, 'artifactType', at, false);
  return raw as unknown as ImageManifest;
}

/** An index (OCI) or manifest list (Docker). `mediaType`: the descriptor's or Content-Type. */
export function parseIndex(data: Uint8Array | string, mediaType?: string): ImageIndex {
  return validateIndex(decode(data, 'index', MAX_MANIFEST_BYTES), mediaType);
}

/** An image manifest (OCI or Docker schema 2). `mediaType`: the descriptor's or Content-Type. */
export function parseManifest(data: Uint8Array | string, mediaType?: string): ImageManifest {
  return validateManifest(decode(data, 'manifest', MAX_MANIFEST_BYTES), mediaType);
}

/**
 * What a registry returns for a tag: an index or a manifest. Decided by the document's
 * own mediaType, else the one it was served with, else its shape (OCI makes the field
 * optional).
 */
export function parseManifestOrIndex(data: Uint8Array | string, mediaType?: string): ManifestOrIndex {
  const raw = decode(data, 'manifest', MAX_MANIFEST_BYTES);
  const own = typeof raw['mediaType'] === 'string' ? raw['mediaType'] : undefined;
  const type = own ?? mediaType;
  const isIndex = type !== undefined && !isSchema1Type(type) ? isIndexType(type) : Array.isArray(raw['manifests']) && raw['config'] === undefined;
  return isIndex ? { kind: 'index', index: validateIndex(raw, mediaType) } : { kind: 'manifest', manifest: validateManifest(raw, mediaType) };
}

/**
 * A manifest that describes a container image rather than another artifact (a Helm
 * chart, a signature): an image config and layers hako can unpack.
 */
export function checkImageManifest(m: ImageManifest): void {
  if (!isConfigType(m.config.mediaType)) {
    throw new HakoError('unsupported', `not a container image: manifest.config.mediaType is ${quote(m.config.mediaType)}`);
  }
  m.layers.forEach((l, i) => {
    if (!isLayerType(l.mediaType)) {
      const hint = /\+encrypted$/.test(l.mediaType) ? ' (encrypted layers are not supported)' : '';
      throw new HakoError('unsupported', `manifest.layers[${i}].mediaType: unsupported layer media type ${quote(l.mediaType)}${hint}`);
    }
  });
}

const PORT_RE = /^\d{1,5}(-\d{1,5})?(\/(tcp|udp|sctp))?$/i;

function validateContainerConfig(v: unknown, at: string): void {
  if (v === undefined || v === null) return;
  if (!isObject(v)) fail(at, `must be an object, got ${typeName(v)}`);
  for (const key of ['User', 'WorkingDir', 'StopSignal', 'Hostname', 'Domainname']) str(v, key, at);
  for (const key of ['Env', 'Entrypoint', 'Cmd', 'OnBuild', 'Shell']) strList(v, key, at);
  objSet(v, 'ExposedPorts', at, PORT_RE, 'use port[/tcp|udp|sctp]');
  objSet(v, 'Volumes', at);
  strMap(v, 'Labels', at);
  bool(v, 'ArgsEscaped', at);
  for (const key of ['Memory', 'MemorySwap', 'CpuShares']) {
    if (v[key] !== undefined && !Number.isSafeInteger(v[key])) fail(`${at}.${key}`, `must be an integer, got ${show(v[key])}`);
  }
  const hc = v['Healthcheck'];
  if (hc !== undefined && hc !== null) {
    const h = `${at}.Healthcheck`;
    if (!isObject(hc)) fail(h, `must be an object, got ${typeName(hc)}`);
    strList(hc, 'Test', h);
    for (const key of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries']) uint(hc, key, h);
  }
}

/** An image config; with `manifest`, its layers must match rootfs.diff_ids one to one. */
export function validateImageConfig(raw: unknown, manifest?: ImageManifest): ImageConfig {
  const at = 'config';
  if (!isObject(raw)) fail(at, `must be a JSON object, got ${typeName(raw)}`);
  str(raw, 'architecture', at, true);
  str(raw, 'os', at, true);
  for (const key of ['variant', 'os.version', 'created', 'author']) str(raw, key, at);
  strList(raw, 'os.features', at);
  if (typeof raw['created'] === 'string' && Number.isNaN(Date.parse(raw['created']))) fail(`${at}.created`, `invalid time ${quote(raw['created'])}`);
  validateContainerConfig(raw['config'], `${at}.config`);
  const rootfs = raw['rootfs'];
  if (!isObject(rootfs)) fail(`${at}.rootfs`, rootfs === undefined ? 'is missing' : `must be an object, got ${typeName(rootfs)}`);
  if (rootfs['type'] !== 'layers') fail(`${at}.rootfs.type`, `must be "layers", got ${quote(rootfs['type'])}`);
  // Docker omits diff_ids for an image without layers (omitempty); the rest of hako sees [].
  if (rootfs['diff_ids'] === undefined || rootfs['diff_ids'] === null) rootfs['diff_ids'] = [];
  const diffIds = rootfs['diff_ids'];
  if (!Array.isArray(diffIds)) fail(`${at}.rootfs.diff_ids`, `must be a list, got ${typeName(diffIds)}`);
  diffIds.forEach((d, i) => {
    const problem = digestProblem(d);
    if (problem) fail(`${at}.rootfs.diff_ids[${i}]`, `invalid digest ${quote(d)} (${problem})`);
  });
  const history = raw['history'];
  if (history !== undefined && history !== null) {
    if (!Array.isArray(history)) fail(`${at}.history`, `must be a list, got ${typeName(history)}`);
    history.forEach((h, i) => {
      const hat = `${at}.history[${i}]`;
      if (!isObject(h)) fail(hat, `must be an object, got ${typeName(h)}`);
      for (const key of ['created', 'created_by', 'author', 'comment']) str(h, key, hat);
      bool(h, 'empty_layer', hat);
    });
  }
  const config = raw as unknown as ImageConfig;
  if (manifest) checkConfigMatchesManifest(config, manifest);
  return config;
}

export function parseImageConfig(data: Uint8Array | string, manifest?: ImageManifest): ImageConfig {
  return validateImageConfig(decode(data, 'config', MAX_CONFIG_BYTES), manifest);
}

/** Layer i of the manifest is the compressed form of diff_ids[i]: the counts must agree. */
export function checkConfigMatchesManifest(config: ImageConfig, manifest: ImageManifest): void {
  const n = config.rootfs.diff_ids.length;
  if (manifest.layers.length !== n) {
    fail('config.rootfs.diff_ids', `lists ${n} layer${n === 1 ? '' : 's'} but the manifest has ${manifest.layers.length}`);
  }
}

/** The platform an image config says it is for. */
export function configPlatform(config: ImageConfig): Platform {
  const p: Platform = { os: config.os, architecture: config.architecture };
  if (config.variant) p.variant = config.variant;
  if (config['os.version']) p['os.version'] = config['os.version'];
  return p;
}
