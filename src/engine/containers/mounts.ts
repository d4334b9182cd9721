import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, lstatSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import { HakoError } from '../../common/errors.ts';
import { resolveInRoot } from '../../common/in-root.ts';
import type { HostConfig, MountConfig } from '../container-config.ts';
import type { ResolvedMount } from '../container-spec.ts';
import type { MountPoint } from './record.ts';

const BIND_MODES = new Set(['ro', 'rw', 'z', 'Z', 'nocopy', 'private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave', 'consistent', 'cached', 'delegated']);

/** `-v SRC:DST[:MODE]` / `-v DST` as the daemon reads HostConfig.Binds. */
export function parseBind(spec: string): MountConfig {
  const parts = spec.split(':');
  if (parts.length > 3 || parts.some((p) => p === '')) throw new HakoError('invalid-argument', `invalid volume specification: '${spec}'`);
  if (parts.length === 1) return { Type: 'volume', Source: '', Target: checkTarget(parts[0]!, spec) };
  let [src, dst, mode = ''] = parts as [string, string, string?];
  const modes = mode ? mode.split(',') : [];
  for (const m of modes) if (!BIND_MODES.has(m)) throw new HakoError('invalid-argument', `invalid mode: ${m}`);
  if (parts.length === 2 && !dst.startsWith('/')) throw new HakoError('invalid-argument', `invalid volume specification: '${spec}'`);
  dst = checkTarget(dst, spec);
  const readOnly = modes.includes('ro');
  const propagation = modes.find((m) => /^r?(private|shared|slave)$/.test(m));
  if (src.startsWith('/')) {
    return { Type: 'bind', Source: src, Target: dst, ReadOnly: readOnly, BindOptions: { ...(propagation ? { Propagation: propagation } : {}), CreateMountpoint: true } };
  }
  if (src.startsWith('.')) throw new HakoError('invalid-argument', `invalid volume specification: '${spec}': a bind source must be an absolute path`);
  return { Type: 'volume', Source: src, Target: dst, ReadOnly: readOnly, VolumeOptions: { NoCopy: modes.includes('nocopy') } };
}

function checkTarget(dst: string, spec: string): string {
  if (!dst.startsWith('/')) throw new HakoError('invalid-argument', `invalid volume specification: '${spec}': mount path must be absolute`);
  const clean = posix.normalize(dst);
  if (clean === '/') throw new HakoError('invalid-argument', `invalid volume specification: '${spec}': destination can't be '/'`);
  return clean.replace(/\/$/, '');
}

/**
 * Every mount of a new container, in Docker's precedence: --mount and -v (a clash is an
 * error), then --tmpfs, then the image's VOLUMEs not already covered, as anonymous
 * volumes. Volume names are left empty for anonymous ones: the caller creates them.
 */
export type PlannedMount = MountConfig & { tmpfsOpts?: string[] };

export function planMounts(host: HostConfig, imageVolumes: Record<string, object> | null): PlannedMount[] {
  const out: PlannedMount[] = [];
  const seen = new Set<string>();
  const add = (m: PlannedMount): void => {
    const target = posix.normalize(m.Target).replace(/(.)\/$/, '$1');
    if (seen.has(target)) throw new HakoError('invalid-argument', `Duplicate mount point: ${target}`);
    seen.add(target);
    out.push({ ...m, Target: target });
  };
  for (const m of host.Mounts ?? []) {
    if (!m.Target?.startsWith('/')) throw new HakoError('invalid-argument', `invalid mount config for type "${m.Type}": invalid mount path: '${m.Target ?? ''}' mount path must be absolute`);
    if (m.Type === 'bind' && !m.Source?.startsWith('/')) throw new HakoError('invalid-argument', `invalid mount config for type "bind": invalid mount path: '${m.Source ?? ''}' mount path must be absolute`);
    add(m);
  }
  for (const b of host.Binds ?? []) add(parseBind(b));
  // --tmpfs mounts are the spec builder's (Docker's own option rules); only their places are claimed here.
  for (const path of Object.keys(host.Tmpfs ?? {})) {
    const target = posix.normalize(path).replace(/(.)\/$/, '$1');
    if (seen.has(target)) throw new HakoError('invalid-argument', `Duplicate mount point: ${target}`);
    seen.add(target);
  }
  for (const path of Object.keys(imageVolumes ?? {})) {
    const target = posix.normalize(path).replace(/(.)\/$/, '$1');
    if (!seen.has(target)) add({ Type: 'volume', Source: '', Target: target });
  }
  return out;
}

/** MountPoint (stored) → what the spec builder mounts. */
export function toResolved(m: MountPoint): ResolvedMount {
  if (m.Type === 'tmpfs') return { destination: m.Destination, type: 'tmpfs', source: 'tmpfs', options: m.Options ?? ['nosuid', 'nodev', 'noexec'] };
  const prop = m.Propagation || 'rprivate';
  return { destination: m.Destination, type: 'bind', source: m.Source, options: ['rbind', m.RW ? 'rw' : 'ro', prop] };
}

/** The tmpfs options as runc gets them from Docker: noexec,nosuid,nodev plus the user's. */
export function tmpfsMountOptions(m: PlannedMount): string[] {
  const opts = ['nosuid', 'nodev', 'noexec'];
  if (m.TmpfsOptions?.SizeBytes) opts.push(`size=${m.TmpfsOptions.SizeBytes}`);
  if (m.TmpfsOptions?.Mode !== undefined) opts.push(`mode=${m.TmpfsOptions.Mode.toString(8)}`);
  for (const o of m.tmpfsOpts ?? []) {
    if (o === 'exec') opts.splice(opts.indexOf('noexec'), 1);
    else if (o === 'suid') opts.splice(opts.indexOf('nosuid'), 1);
    else if (o === 'dev') opts.splice(opts.indexOf('nodev'), 1);
    else if (!opts.includes(o)) opts.push(o);
  }
  if (m.ReadOnly && !opts.includes('ro')) opts.push('ro');
  return opts;
}

/**
 * A new volume takes the image's content at its mount point (Docker's copy-up, made at
 * create): the directory's files with owners, modes and times, and the directory's own
 * owner and mode. The caller checks that the volume is empty: a used one is left alone.
 */
export function populateVolume(rootfs: string, destination: string, volumeDir: string): void {
  const src = resolveInRoot(rootfs, destination);
  let st;
  try {
    st = lstatSync(src);
  } catch {
    return; // nothing in the image there
  }
  if (!st.isDirectory()) return;
  const r = spawnSync('cp', ['-a', '--', `${src}/.`, volumeDir], { encoding: 'utf8' });
  if (r.status !== 0) throw new HakoError('system', `copy the image's ${destination} into its volume: ${(r.stderr ?? '').trim()}`);
  const vst = statSync(volumeDir);
  if (vst.uid !== st.uid || vst.gid !== st.gid || (vst.mode & 0o7777) !== (st.mode & 0o7777)) {
    chownSync(volumeDir, st.uid, st.gid);
    chmodSync(volumeDir, st.mode & 0o7777);
  }
}
