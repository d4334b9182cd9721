import { join, resolve } from 'node:path';

/**
 * Where hako keeps images: one data root (default /var/lib/hako; the global flag
 * `--data-root` or the environment's HAKO_DATA_ROOT overrides it).
 *
 *   ROOT/metadata.db      images, names, layers (MetadataStore)
 *   ROOT/content/blobs/   manifests, configs and layer blobs by digest (ContentStore)
 *   ROOT/snapshots/       unpacked layers and container file systems (Snapshotter)
 */
export const DEFAULT_DATA_ROOT = '/var/lib/hako';

export interface StorePaths {
  root: string;
  metadata: string;
  content: string;
  snapshots: string;
}

export function dataRoot(flag?: string): string {
  return resolve(flag || process.env['HAKO_DATA_ROOT'] || DEFAULT_DATA_ROOT);
}

export function storePaths(root: string): StorePaths {
  return { root, metadata: root, content: join(root, 'content'), snapshots: join(root, 'snapshots') };
}
