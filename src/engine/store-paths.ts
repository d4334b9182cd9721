import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';

/**
 * Where hako keeps things: one data root (default /var/lib/hako; the global flag
 * `--data-root` or the environment's HAKO_DATA_ROOT overrides it).
 *
 *   ROOT/metadata.db      images, names, layers, containers, volumes (MetadataStore)
 *   ROOT/content/blobs/   manifests, configs and layer blobs by digest (ContentStore)
 *   ROOT/snapshots/       unpacked layers and container file systems (Snapshotter)
 *   ROOT/containers/ID/   a container's bundle, /etc files, log, monitor state and sockets
 *   ROOT/volumes/NAME/_data   named and anonymous volumes
 *
 * Runtime state (lost at reboot, as it should be) lives on tmpfs, one directory per
 * data root so that two roots never see each other's containers.
 */
export const DEFAULT_DATA_ROOT = '/var/lib/hako';

export interface StorePaths {
  root: string;
  metadata: string;
  content: string;
  snapshots: string;
  containers: string;
  volumes: string;
  /** the OCI runtime's state root for this data root's containers */
  runtime: string;
}

export function dataRoot(flag?: string): string {
  return resolve(flag || process.env['HAKO_DATA_ROOT'] || DEFAULT_DATA_ROOT);
}

export function storePaths(root: string): StorePaths {
  const tag = createHash('sha256').update(root).digest('hex').slice(0, 12);
  return {
    root,
    metadata: root,
    content: join(root, 'content'),
    snapshots: join(root, 'snapshots'),
    containers: join(root, 'containers'),
    volumes: join(root, 'volumes'),
    runtime: join('/run/hako', `engine-${tag}`),
  };
}
