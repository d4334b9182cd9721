import { existsSync } from 'node:fs';
import { HakoError } from '../common/errors.ts';
import type { ImageRecord } from '../storage/metadata.ts';
import type { ImageService } from './image-service.ts';
import { familiarName, parseReference, splitName } from './reference.ts';

/** One row of `hako images`, with Docker's JSON field names. */
export interface ImageRow {
  ID: string;
  Repository: string;
  Tag: string;
  Digest: string;
  CreatedAt: string;
  Created: string | null;
  Size: number;
  record: ImageRecord;
}

export interface ListFilters {
  dangling?: boolean;
  references: string[];
  labels: string[];
}

/** Docker's `-f key=value` for images: dangling, reference, label. */
export function parseListFilters(filters: readonly string[]): ListFilters {
  const out: ListFilters = { references: [], labels: [] };
  for (const f of filters) {
    const eq = f.indexOf('=');
    if (eq < 0) throw new HakoError('invalid-argument', `bad format of filter (expected name=value): ${f}`);
    const [key, value] = [f.slice(0, eq).toLowerCase(), f.slice(eq + 1)];
    if (key === 'dangling') {
      if (!['true', 'false', '1', '0'].includes(value.toLowerCase())) throw new HakoError('invalid-argument', `invalid filter 'dangling=${value}'`);
      out.dangling = value === 'true' || value === '1';
    } else if (key === 'reference') out.references.push(value);
    else if (key === 'label') out.labels.push(value);
    else throw new HakoError('invalid-argument', `invalid filter '${key}'`);
  }
  return out;
}

/** Go's path.Match, enough for reference patterns: * ? and [..]. */
function globMatch(pattern: string, s: string): boolean {
  const re = pattern.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  return new RegExp(`^${re}$`).test(s);
}

function referenceMatches(pattern: string, name: string): boolean {
  const familiar = familiarName(name);
  const { repository } = splitName(name);
  return [familiar, repository, name].some((s) => globMatch(pattern, s));
}

/** `hako images`: a row per name (per image without names: one <none> row), newest first. */
export function listImages(svc: ImageService, filters: ListFilters): ImageRow[] {
  const rows: ImageRow[] = [];
  const images = svc.meta.listImages().sort((a, b) => (b.created ?? '').localeCompare(a.created ?? ''));
  for (const record of images) {
    if (filters.dangling !== undefined && (record.names.length === 0) !== filters.dangling) continue;
    if (filters.labels.length) {
      const labels = svc.detail(record).config.config?.Labels ?? {};
      const ok = filters.labels.every((l) => {
        const eq = l.indexOf('=');
        return eq < 0 ? l in labels : labels[l.slice(0, eq)] === l.slice(eq + 1);
      });
      if (!ok) continue;
    }
    let names = record.names.filter((n) => !n.includes('@'));
    if (filters.references.length) {
      names = names.filter((n) => filters.references.some((p) => referenceMatches(p, n)));
      if (!names.length) continue;
    }
    const digests = record.names.filter((n) => n.includes('@'));
    const base = { ID: record.id, CreatedAt: record.created ?? '', Created: record.created, Size: record.size, record };
    if (!names.length) rows.push({ ...base, Repository: '<none>', Tag: '<none>', Digest: digests[0] ? splitName(digests[0]).digest : '<none>' });
    for (const n of names) {
      const { repository, tag } = splitName(n);
      const digest = digests.map(splitName).find((d) => d.repository === repository)?.digest ?? '<none>';
      rows.push({ ...base, Repository: repository, Tag: tag, Digest: digest });
    }
  }
  return rows;
}

/** `hako image inspect`, in the shape of Docker's API. */
export function inspectImage(svc: ImageService, ref: string): Record<string, unknown> {
  const record = svc.resolve(ref);
  const { manifest, config } = svc.detail(record);
  const layers = svc.meta.layersOf(record.id);
  return {
    Id: record.id,
    RepoTags: record.names.filter((n) => !n.includes('@')).map(familiarName).sort(),
    RepoDigests: record.names.filter((n) => n.includes('@')).map(familiarName),
    Parent: '',
    Comment: (JSON.parse(svc.content.read(manifest.config.digest).toString('utf8')) as { comment?: string }).comment ?? '',
    Created: config.created ?? '0001-01-01T00:00:00Z',
    DockerVersion: '',
    Author: config.author ?? '',
    Config: config.config ?? null,
    Architecture: config.architecture,
    ...(config.variant ? { Variant: config.variant } : {}),
    Os: config.os,
    Size: record.size,
    GraphDriver: { Name: 'hako-snapshots', Data: { Layers: layers.map((l) => l.chainId).join(':') } },
    RootFS: { Type: 'layers', Layers: config.rootfs.diff_ids },
    Metadata: { LastTagTime: '0001-01-01T00:00:00Z' },
    Descriptor: { mediaType: record.mediaType, digest: record.manifestDigest, size: svc.content.size(record.manifestDigest) },
  };
}

export interface HistoryRow {
  ID: string;
  CreatedAt: string;
  CreatedBy: string;
  Size: number;
  Comment: string;
}

/** `hako history`: newest first; the top entry carries the image id, the rest <missing>. */
export function imageHistory(svc: ImageService, ref: string): HistoryRow[] {
  const record = svc.resolve(ref);
  const { config } = svc.detail(record);
  const layers = svc.meta.layersOf(record.id);
  let li = 0;
  const rows: HistoryRow[] = (config.history ?? []).map((h) => ({
    ID: '<missing>',
    CreatedAt: h.created ?? '',
    CreatedBy: h.created_by ?? '',
    Size: h.empty_layer ? 0 : (layers[li++]?.size ?? 0),
    Comment: h.comment ?? '',
  }));
  if (!rows.length) for (const l of layers) rows.push({ ID: '<missing>', CreatedAt: config.created ?? '', CreatedBy: '', Size: l.size ?? 0, Comment: '' });
  rows.reverse();
  if (rows[0]) rows[0].ID = record.id;
  return rows;
}

export interface EngineInfo {
  dataRoot: string;
  driver: string;
  driverReason?: string;
  images: number;
  cgroupVersion: '1' | '2';
  cgroupDriver: 'cgroupfs';
}

/** `hako info`. */
export async function engineInfo(svc: ImageService): Promise<EngineInfo> {
  const { driver, reason } = await svc.snapshots.driverInfo();
  return {
    dataRoot: svc.paths.root,
    driver,
    ...(reason ? { driverReason: reason } : {}),
    images: svc.meta.listImages().length,
    cgroupVersion: existsSync('/sys/fs/cgroup/cgroup.controllers') ? '2' : '1',
    cgroupDriver: 'cgroupfs',
  };
}

export { parseReference };
