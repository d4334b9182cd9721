import { join } from 'node:path';
import type { ContainerRow } from '../../storage/metadata.ts';
import type { ContainerConfig, HostConfig } from '../container-config.ts';

/** A mount as `inspect` shows it (Docker's MountPoint), resolved at create. */
export interface MountPoint {
  Type: 'bind' | 'volume' | 'tmpfs';
  /** the volume's name */
  Name?: string;
  Source: string;
  Destination: string;
  Driver?: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
  /** tmpfs: mount options; volume: copy the image's content in when new */
  Options?: string[];
  NoCopy?: boolean;
}

/** What the engine stores (as JSON) for a container, beside its id, name and image. */
export interface ContainerSettings {
  Config: ContainerConfig;
  HostConfig: HostConfig;
  /** the command as Docker splits it: Path = argv[0], Args = the rest */
  Path: string;
  Args: string[];
  Mounts: MountPoint[];
  /** the platform the image was for */
  Platform: string;
  /** the networks with endpoints of its own, in attach order (eth0 first), with --network-alias */
  Networks?: Record<string, { Aliases: string[] }>;
}

export interface Container {
  id: string;
  name: string;
  imageId: string;
  created: string;
  settings: ContainerSettings;
}

export function fromRow(row: ContainerRow): Container {
  return { id: row.id, name: row.name, imageId: row.imageId, created: row.created, settings: JSON.parse(row.config) as ContainerSettings };
}

/** The files of one container under ROOT/containers/ID. */
export function containerFiles(dir: string, id: string) {
  return {
    dir,
    bundleConfig: join(dir, 'config.json'),
    hostname: join(dir, 'hostname'),
    hosts: join(dir, 'hosts'),
    resolvConf: join(dir, 'resolv.conf'),
    log: join(dir, `${id}-json.log`),
    monitorState: join(dir, 'monitor.state'),
    stopped: join(dir, 'stopped'),
    health: join(dir, 'health.json'),
  };
}
