import { posix } from 'node:path';
import { HakoError } from '../common/errors.ts';
import { quote } from './digest.ts';
import { resolveUser } from './passwd.ts';
import type { HealthConfig } from './manifest.ts';

/**
 * An image's config (the `config` object of the OCI/Docker image config) → the parts of an
 * OCI runtime config and of a container's settings that come from the image, with Docker's
 * rules for what `run` flags override. Also `--change` (import -c, commit -c).
 */

/**
 * The fields of the image config's `config` object used here; manifest.ts's ContainerConfig
 * (the parsed, validated one) fits it. Docker writes null for empty.
 */
export interface ImageRuntimeConfig {
  User?: string | null;
  ExposedPorts?: Record<string, unknown> | null;
  Env?: string[] | null;
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, unknown> | null;
  WorkingDir?: string | null;
  Labels?: Record<string, string> | null;
  StopSignal?: string | null;
  /** Docker's extension; passed through untouched */
  Healthcheck?: ImageHealthcheck | null;
  /** Docker's extension: the shell for the shell form of CMD/ENTRYPOINT */
  Shell?: string[] | null;
}

export type ImageHealthcheck = HealthConfig;

/** What `run`/`create` flags can override. */
export interface RunOverrides {
  /**
   * `--entrypoint`: replaces the image's Entrypoint and, unless `cmd` is given, its Cmd.
   * `['']` is `--entrypoint ""` (no entrypoint, no image Cmd); `[]` is the API's
   * `"Entrypoint": []` (no entrypoint, the image Cmd kept) — both as Docker.
   */
  entrypoint?: string[] | undefined;
  /** the arguments after the image name; empty means none given */
  cmd?: string[] | undefined;
  /** `-e`, in order: `KEY=VALUE` sets, a bare `KEY` unsets (the daemon's meaning) */
  env?: string[] | undefined;
  /** `-w`, absolute */
  workdir?: string | undefined;
  /** `-u`; empty means none given */
  user?: string | undefined;
  /** `--group-add`: group names or gids */
  groupAdd?: string[] | undefined;
  /** becomes HOSTNAME (Docker: the short container id unless --hostname) */
  hostname?: string | undefined;
  /** `-t`: TERM=xterm, as Docker */
  tty?: boolean | undefined;
}

/** Ready for an OCI `process` (spec-types SpecProcess). */
export interface RuntimeProcess {
  terminal: boolean;
  user: { uid: number; gid: number; additionalGids: number[] };
  args: string[];
  env: string[];
  cwd: string;
}

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
export const DEFAULT_SHELL = ['/bin/sh', '-c'];

export const imageError = (msg: string) => new HakoError('invalid-config', `image config: ${msg}`);

/** Docker's StrSlice also accepts a single string for Entrypoint/Cmd. */
export function stringList(v: unknown, field: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return [v];
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw imageError(`${field} must be a list of strings`);
  return v;
}

export function optionalString(v: unknown, field: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw imageError(`${field} must be a string`);
  return v;
}

export function envKey(entry: string): string {
  const eq = entry.indexOf('=');
  return eq < 0 ? entry : entry.slice(0, eq);
}

/**
 * The OCI `process` for a container of this image: moby's merge() and
 * mergeAndVerifyConfig() for args, CreateDaemonEnvironment() for env, getUser() for the
 * user, and runc's HOME default. `rootfs` is the container's root filesystem, whose
 * /etc/passwd and /etc/group name the users (read safely: the image is untrusted).
 */
export function runtimeProcessFor(image: ImageRuntimeConfig, overrides: RunOverrides, rootfs: string): RuntimeProcess {
  // the cheap checks first: no files are read for a run that cannot start anyway
  const args = argsFor(image, overrides);
  const cwd = cwdFor(image, overrides);
  const { user, env } = userAndEnv(image, overrides, rootfs);
  return { terminal: overrides.tty === true, user, args, env, cwd };
}

function argsFor(image: ImageRuntimeConfig, o: RunOverrides): string[] {
  const userCmd = o.cmd ?? [];
  let entrypoint: string[];
  let cmd: string[];
  if (o.entrypoint === undefined || o.entrypoint.length === 0) {
    entrypoint = o.entrypoint ?? stringList(image.Entrypoint, 'Entrypoint') ?? [];
    cmd = userCmd.length > 0 ? userCmd : (stringList(image.Cmd, 'Cmd') ?? []);
  } else {
    // a given entrypoint drops the image's Cmd: it was written for the image's entrypoint
    entrypoint = o.entrypoint.length === 1 && o.entrypoint[0] === '' ? [] : o.entrypoint;
    cmd = userCmd;
  }
  const args = [...entrypoint, ...cmd];
  if (args.length === 0) {
    throw new HakoError('invalid-argument', 'no command specified (the image has no Entrypoint or Cmd, and none was given)');
  }
  return args;
}

function cwdFor(image: ImageRuntimeConfig, o: RunOverrides): string {
  if (o.workdir !== undefined && o.workdir !== '') {
    if (!o.workdir.startsWith('/')) {
      throw new HakoError('invalid-argument', `the working directory ${quote(o.workdir)} is invalid, it needs to be an absolute path`);
    }
    return posix.normalize(o.workdir).replace(/(.)\/$/, '$1');
  }
  // a relative WorkingDir in an image is taken from `/`, as Docker's runtime does
  return posix.join('/', optionalString(image.WorkingDir, 'WorkingDir')).replace(/(.)\/$/, '$1');
}

function userAndEnv(image: ImageRuntimeConfig, o: RunOverrides, rootfs: string): Pick<RuntimeProcess, 'user' | 'env'> {
  const env = new Map<string, string>([['PATH', DEFAULT_PATH]]);
  if (o.hostname !== undefined) env.set('HOSTNAME', o.hostname);
  if (o.tty === true) env.set('TERM', 'xterm');
  const imageEnv = stringList(image.Env, 'Env') ?? [];
  imageEnv.forEach((entry, i) => {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw imageError(`Env[${i}] ${quote(entry)} is not of the form NAME=VALUE`);
    env.set(entry.slice(0, eq), entry.slice(eq + 1));
  });
  for (const entry of o.env ?? []) {
    const key = envKey(entry);
    if (key === '') throw new HakoError('invalid-argument', `invalid environment variable ${quote(entry)}: the name is empty`);
    if (key === entry) env.delete(key);
    else env.set(key, entry.slice(key.length + 1));
  }

  const spec = o.user !== undefined && o.user !== '' ? o.user : optionalString(image.User, 'User');
  const groupAdd = o.groupAdd ?? [];
  const { uid, gid, additionalGids, home } = resolveUser(rootfs, spec, groupAdd);
  // runc's rule: HOME from the user's passwd entry unless the environment has one
  if (!env.get('HOME')) env.set('HOME', home);
  return { user: { uid, gid, additionalGids }, env: [...env].map(([k, v]) => `${k}=${v}`) };
}
