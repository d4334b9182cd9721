import { hostname as osHostname } from 'node:os';
import { posix } from 'node:path';
import { HakoError } from '../common/errors.ts';
import { containerConfigFor, parsePortSpec, parseStopSignal, volumePath } from '../image/container-settings.ts';
import { quote } from '../image/digest.ts';
import { envKey, stringList, type ImageRuntimeConfig } from '../image/runtime-config.ts';
import type { ContainerConfig, HealthConfig } from './container-config.ts';

/**
 * Docker's create-time merge of the user's Config with the image's (moby daemon/commit.go
 * merge() and mergeAndVerifyConfig()): what `inspect` shows as Config. Users and groups
 * are not resolved here: that needs the container's root filesystem (buildContainerSpec).
 */

const invalid = (msg: string) => new HakoError('invalid-argument', msg);

/** "80" → "80/tcp", as the Docker CLI writes ExposedPorts keys; a range is every port in it. */
function portKeys(spec: string, flag: string): string[] {
  try {
    return parsePortSpec(spec).map((p) => `${p.port}/${p.proto}`);
  } catch (err) {
    throw invalid(`${flag} ${quote(spec)}: ${(err as Error).message}`);
  }
}

function userEnv(env: readonly string[]): string[] {
  for (const entry of env) {
    if (typeof entry !== 'string' || envKey(entry) === '') throw invalid(`-e ${quote(String(entry))}: the variable name is empty`);
  }
  return [...env];
}

/** Docker: the user's fields win where set (non-zero); an empty Test inherits the image's. */
function mergeHealthcheck(user: HealthConfig | undefined, image: HealthConfig | undefined): HealthConfig | undefined {
  if (image === undefined) return user;
  if (user === undefined) return { ...image };
  const out: HealthConfig = { ...user };
  if (!user.Test || user.Test.length === 0) {
    if (image.Test !== undefined) out.Test = image.Test;
  }
  for (const k of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries'] as const) {
    if (!user[k] && image[k] !== undefined) out[k] = image[k];
  }
  return out;
}

const nonEmpty = <T>(v: T[] | null | undefined): v is T[] => Array.isArray(v) && v.length > 0;

export function mergeImageConfig(user: Partial<ContainerConfig>, image: ImageRuntimeConfig, imageRef: string): ContainerConfig {
  // validates the image's ports, volumes, labels, stop signal and healthcheck (untrusted input)
  const settings = containerConfigFor(image);

  // Env: the user's in their order, then the image's whose names the user did not set
  const env = userEnv(user.Env ?? []);
  const taken = new Set(env.map(envKey));
  for (const entry of stringList(image.Env, 'Env') ?? []) if (!taken.has(envKey(entry))) env.push(entry);

  // an entrypoint given (even [""]) drops the image's Cmd; only a null one inherits the image's
  let entrypoint: string[] | null = user.Entrypoint ?? null;
  let cmd: string[] | null = nonEmpty(user.Cmd) ? user.Cmd : null;
  if (!nonEmpty(entrypoint)) {
    if (cmd === null) cmd = stringList(image.Cmd, 'Cmd') ?? null;
    if (entrypoint === null) entrypoint = stringList(image.Entrypoint, 'Entrypoint') ?? null;
  }
  if (entrypoint !== null && entrypoint.length === 1 && entrypoint[0] === '') entrypoint = null;
  if (!nonEmpty(entrypoint) && !nonEmpty(cmd)) throw invalid('no command specified (the image has no Entrypoint or Cmd, and none was given)');

  let workingDir = user.WorkingDir ?? '';
  if (workingDir !== '') {
    if (!workingDir.startsWith('/')) throw invalid(`-w: the working directory ${quote(workingDir)} is invalid, it needs to be an absolute path`);
    workingDir = posix.normalize(workingDir).replace(/(.)\/$/, '$1');
  } else workingDir = image.WorkingDir ?? '';

  const exposed: Record<string, object> = {};
  for (const p of settings.exposedPorts) exposed[`${p.port}/${p.proto}`] = {};
  for (const key of Object.keys(user.ExposedPorts ?? {})) for (const k of portKeys(key, '--expose')) exposed[k] = {};

  const volumes: Record<string, object> = {};
  for (const v of settings.volumes) volumes[v] = {};
  for (const key of Object.keys(user.Volumes ?? {})) {
    try {
      volumes[volumePath(key)] = {};
    } catch (err) {
      throw invalid(`-v ${quote(key)}: ${(err as Error).message}`);
    }
  }

  let stopSignal: string | undefined;
  if (user.StopSignal) {
    try {
      parseStopSignal(user.StopSignal);
    } catch (err) {
      throw invalid(`--stop-signal: ${(err as Error).message}`);
    }
    stopSignal = user.StopSignal;
  } else if (image.StopSignal) stopSignal = settings.stopSignal;

  const out: ContainerConfig = {
    Hostname: user.Hostname ?? '',
    Domainname: user.Domainname ?? '',
    User: user.User || (image.User ?? ''),
    AttachStdin: user.AttachStdin ?? false,
    AttachStdout: user.AttachStdout ?? false,
    AttachStderr: user.AttachStderr ?? false,
    Tty: user.Tty ?? false,
    OpenStdin: user.OpenStdin ?? false,
    StdinOnce: user.StdinOnce ?? false,
    Env: env,
    Cmd: cmd,
    Image: imageRef,
    Volumes: Object.keys(volumes).length > 0 ? volumes : null,
    WorkingDir: workingDir,
    Entrypoint: entrypoint,
    Labels: { ...settings.labels, ...(user.Labels ?? {}) },
  };
  if (Object.keys(exposed).length > 0) out.ExposedPorts = exposed;
  const imageHealth = settings.healthcheck && { ...settings.healthcheck, Test: settings.healthcheck.Test ?? undefined };
  const health = mergeHealthcheck(user.Healthcheck, imageHealth as HealthConfig | undefined);
  if (health !== undefined) out.Healthcheck = health;
  if (stopSignal !== undefined) out.StopSignal = stopSignal;
  if (user.StopTimeout !== undefined) out.StopTimeout = user.StopTimeout;
  return out;
}

/**
 * The hostname the engine gives a container without `--hostname`: the short id, or the
 * host's own name with `--network host` (as Docker).
 */
export function defaultHostname(id: string, networkMode = ''): string {
  if (networkMode === 'host') return osHostname();
  return id.slice(0, 12);
}

/** A health check that is off: `--no-healthcheck` or an image's `HEALTHCHECK NONE`. */
export function healthcheckDisabled(h: HealthConfig | undefined): boolean {
  return h === undefined || !h.Test || h.Test.length === 0 || h.Test[0] === 'NONE';
}
