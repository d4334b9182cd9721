/**
 * A container's settings, in Docker's own shapes and field names (the Engine API's
 * Config and HostConfig), so that `inspect` prints them as Docker does and the API
 * service can pass them through. Stored as JSON in the metadata database.
 * Durations are nanoseconds, sizes bytes, as in Docker's API.
 */

export interface HealthConfig {
  /** ["NONE"], ["CMD", args...], ["CMD-SHELL", "command"]; [] = inherit the image's */
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

/** Docker's container Config, merged with the image's config at create time (as Docker does). */
export interface ContainerConfig {
  Hostname: string;
  Domainname: string;
  User: string;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  ExposedPorts?: Record<string, object>;
  Tty: boolean;
  OpenStdin: boolean;
  StdinOnce: boolean;
  Env: string[];
  Cmd: string[] | null;
  Healthcheck?: HealthConfig;
  /** the image as the user named it */
  Image: string;
  Volumes: Record<string, object> | null;
  WorkingDir: string;
  Entrypoint: string[] | null;
  Labels: Record<string, string>;
  StopSignal?: string;
  /** seconds */
  StopTimeout?: number;
}

/** Docker's mount.Mount (`--mount`, and what `-v` becomes). */
export interface MountConfig {
  Type: 'bind' | 'volume' | 'tmpfs';
  /** host path (bind), volume name (volume; empty = anonymous), unused for tmpfs */
  Source: string;
  Target: string;
  ReadOnly?: boolean;
  BindOptions?: { Propagation?: string; CreateMountpoint?: boolean };
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string> };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
}

export interface Ulimit {
  Name: string;
  Soft: number;
  Hard: number;
}

export interface RestartPolicy {
  Name: '' | 'no' | 'always' | 'unless-stopped' | 'on-failure';
  MaximumRetryCount: number;
}

export interface HostConfig {
  /** `-v` as given: "src:dst[:opts]" */
  Binds: string[] | null;
  /** "bridge" (the default network), "host", "none", "container:NAME" or a user network's name */
  NetworkMode: string;
  /** `-p`: "80/tcp" → host IP and port ("" = any / a free one; "8000-8010" = one of those) */
  PortBindings?: Record<string, Array<{ HostIp: string; HostPort: string }>>;
  /** `-P`: every exposed port on a free host port */
  PublishAllPorts?: boolean;
  RestartPolicy: RestartPolicy;
  AutoRemove: boolean;
  /** `--mount`, and `-v` parsed into the same shape by the engine at create */
  Mounts: MountConfig[];
  /** `--tmpfs PATH[:opts]` */
  Tmpfs?: Record<string, string>;
  CapAdd: string[] | null;
  CapDrop: string[] | null;
  Privileged: boolean;
  ReadonlyRootfs: boolean;
  /** "seccomp=PATH|unconfined", "no-new-privileges[:true|false]", "apparmor=…", "label=…" */
  SecurityOpt: string[] | null;
  Init: boolean | null;
  /** bytes; 0 = unlimited */
  Memory: number;
  MemorySwap: number;
  /** CPUs × 1e9 (`--cpus`) */
  NanoCpus: number;
  CpuShares: number;
  CpuQuota: number;
  CpuPeriod: number;
  CpusetCpus: string;
  CpusetMems: string;
  /** null/0 = unlimited; -1 = unlimited explicitly */
  PidsLimit: number | null;
  Ulimits: Ulimit[] | null;
  LogConfig: { Type: 'json-file' | 'none'; Config: Record<string, string> };
  /** extra /etc/hosts lines, "name:ip" */
  ExtraHosts: string[] | null;
  Dns: string[] | null;
  DnsSearch: string[] | null;
  DnsOptions: string[] | null;
  GroupAdd: string[] | null;
  Sysctls?: Record<string, string>;
  OomScoreAdj: number;
  ShmSize: number;
}

/** What `run`/`create` hand to the engine: the CLI's parsed flags. */
export interface CreateRequest {
  /** `--name`; empty = generated (Docker's adjective_surname) */
  name?: string;
  /** the image reference as typed */
  image: string;
  /** the user's part of Config: only the fields the user set (the engine merges the image's) */
  config: Partial<ContainerConfig>;
  hostConfig: Partial<HostConfig>;
  /** `--network-alias` */
  networkAliases?: string[];
}

export function defaultHostConfig(): HostConfig {
  return {
    Binds: null,
    NetworkMode: 'bridge',
    RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
    AutoRemove: false,
    Mounts: [],
    CapAdd: null,
    CapDrop: null,
    Privileged: false,
    ReadonlyRootfs: false,
    SecurityOpt: null,
    Init: null,
    Memory: 0,
    MemorySwap: 0,
    NanoCpus: 0,
    CpuShares: 0,
    CpuQuota: 0,
    CpuPeriod: 0,
    CpusetCpus: '',
    CpusetMems: '',
    PidsLimit: null,
    Ulimits: null,
    LogConfig: { Type: 'json-file', Config: {} },
    ExtraHosts: null,
    Dns: null,
    DnsSearch: null,
    DnsOptions: null,
    GroupAdd: null,
    OomScoreAdj: 0,
    ShmSize: 64 * 1024 * 1024,
  };
}
