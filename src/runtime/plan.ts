import { statSync } from 'node:fs';
import { isAbsolute, join, posix, resolve } from 'node:path';
import { HakoError } from '../common/errors.ts';
import { cgroupParentSteps, type CgroupPlacement, type Hierarchy } from './cgroups.ts';
import { MS, PROPAGATION, parseMountOptions } from './mount-flags.ts';
import { consoleSocketSteps, processSteps, sysctlSteps } from './process-steps.ts';
import type { NamespaceType, Spec, SpecHook, SpecMount } from './spec-types.ts';
import type { Frame } from './wire.ts';

/**
 * Everything the plan needs besides config.json; all of it is decided by the caller.
 */
export interface PlanContext {
  bundle: string;
  rootfs: string;
  stateDir: string;
  mode: 'create' | 'run';
  /** chroot instead of pivot_root (--no-pivot, or a host root pivot_root cannot leave) */
  noPivot: boolean;
  /** pivot_root needs the rootfs's parent mount private */
  rootfsMountPoint: string;
  consoleSocket?: string | undefined;
  cgroup: CgroupPlacement;
  hierarchies: Hierarchy[];
  /** told what the runtime spec says to warn about rather than fail on */
  warn?: ((msg: string) => void) | undefined;
}

/** The names of the values sent with `continue` at the `created` sync (see PROTOCOL.md). */
export const STATE_CREATING = 'state-creating';
export const STATE_CREATED = 'state-created';
export const SYNC_CREATED = 'created';
export const SYNC_CREATE_RUNTIME = 'create-runtime';

export const NS_PLAN_NAME: Record<NamespaceType, string> = {
  user: 'user',
  mount: 'mnt',
  pid: 'pid',
  network: 'net',
  ipc: 'ipc',
  uts: 'uts',
  cgroup: 'cgroup',
  time: 'time',
};
/** user first (the rest may need its privileges), mount last (paths resolve before it). */
export const JOIN_ORDER: NamespaceType[] = ['user', 'ipc', 'uts', 'network', 'pid', 'cgroup', 'time', 'mount'];

const DEFAULT_DEVICES: [string, number, number][] = [
  ['/dev/null', 1, 3],
  ['/dev/zero', 1, 5],
  ['/dev/full', 1, 7],
  ['/dev/random', 1, 8],
  ['/dev/urandom', 1, 9],
  ['/dev/tty', 5, 0],
];

const DEV_LINKS: [string, string][] = [
  ['/proc/self/fd', '/dev/fd'],
  ['/proc/self/fd/0', '/dev/stdin'],
  ['/proc/self/fd/1', '/dev/stdout'],
  ['/proc/self/fd/2', '/dev/stderr'],
  ['pts/ptmx', '/dev/ptmx'],
];

export function buildPlan(spec: Spec, ctx: PlanContext): Frame[] {
  const proc = spec.process;
  if (!proc?.args?.length) throw new HakoError('invalid-config', 'config.json: process is missing (nothing to run)');
  const linux = spec.linux ?? {};
  const nss = linux.namespaces ?? [];
  const isNew = (t: NamespaceType) => nss.some((n) => n.type === t && !n.path);
  const newUser = isNew('user');
  const hooks = spec.hooks ?? {};

  const plan: Frame[] = [];
  // Host paths first: once a joined mount namespace is entered they would resolve there.
  plan.push(...consoleSocketSteps(proc.terminal, ctx.consoleSocket));
  plan.push(...cgroupParentSteps(ctx.cgroup, linux.resources, ctx.hierarchies));
  plan.push(['state-dir', ctx.stateDir]);
  for (const type of JOIN_ORDER) {
    const ns = nss.find((n) => n.type === type && n.path);
    if (ns?.path) plan.push(['join', NS_PLAN_NAME[type], ns.path]);
  }
  if (isNew('time')) {
    plan.push(['unshare-time']);
    for (const [clock, off] of Object.entries(linux.timeOffsets ?? {})) {
      plan.push(['timens-offset', clock, String(off.secs ?? 0), String(off.nanosecs ?? 0)]);
    }
  }
  plan.push(['mode', ctx.mode]);
  const cloneNs: NamespaceType[] = ['user', 'mount', 'pid', 'network', 'ipc', 'uts', 'cgroup'];
  plan.push(['clone', ...cloneNs.filter(isNew).map((t) => NS_PLAN_NAME[t])]);

  // --- child steps ---
  plan.push(['sync', SYNC_CREATED]);
  if (newUser) plan.push(['become-root']);
  plan.push(['setsid']);
  rootfsSteps(plan, spec, ctx, newUser, isNew('cgroup'));
  if (hooks.prestart?.length || hooks.createRuntime?.length) plan.push(['sync', SYNC_CREATE_RUNTIME]);
  for (const h of hooks.createContainer ?? []) plan.push(hookStep(h, STATE_CREATING));
  // Without a mount namespace of its own the container shares the host's: never pivot
  // or move mounts there (that would change the host's root), only chroot.
  const ownMountNs = nss.some((n) => n.type === 'mount');
  plan.push(!ownMountNs ? ['chroot', 'in-place'] : ctx.noPivot ? ['chroot'] : ['pivot-root']);
  if (linux.rootfsPropagation && ownMountNs) plan.push(['propagation', '/', String(PROPAGATION[linux.rootfsPropagation])]);
  // Before readonlyPaths: Docker always has /proc/sys among them, and sets sysctls.
  // As runc: a joined namespace counts as the container's own unless it is the host's (ours).
  const owns = (t: 'ipc' | 'network' | 'uts') => isNew(t) || nss.some((n) => n.type === t && n.path && !sameNamespace(n.path, `/proc/self/ns/${NS_PROC_NAME[t]}`));
  plan.push(...sysctlSteps(linux.sysctl, owns));
  if (proc.terminal) plan.push(['console']);
  for (const p of linux.maskedPaths ?? []) plan.push(['mask', p]);
  for (const p of linux.readonlyPaths ?? []) plan.push(['readonly', p]);
  // In the container's uts namespace, new or joined (validation refuses the host's).
  if (spec.hostname !== undefined) plan.push(['hostname', spec.hostname]);
  if (spec.domainname !== undefined) plan.push(['domainname', spec.domainname]);
  if (spec.root?.readonly) plan.push(['remount-ro', '/']);
  const steps = processSteps(proc, linux);
  steps.warnings.forEach((w) => ctx.warn?.(w));
  plan.push(...steps.beforeReady);
  plan.push(['ready']);
  plan.push(['wait-start']);
  for (const h of hooks.startContainer ?? []) plan.push(hookStep(h, STATE_CREATED));
  plan.push(...steps.beforeExec);
  plan.push(['exec', ...proc.args]);
  plan.push(['end']);
  return plan;
}

function rootfsSteps(plan: Frame[], spec: Spec, ctx: PlanContext, newUser: boolean, newCgroupNs: boolean): void {
  const linux = spec.linux ?? {};
  if ((linux.namespaces ?? []).some((n) => n.type === 'mount')) {
    // Nothing mounted in the container may propagate back to the host.
    plan.push(['propagation', '/', String(MS.REC | MS.SLAVE)]);
    plan.push(['propagation', ctx.rootfsMountPoint, String(MS.PRIVATE)]);
  }
  plan.push(['rootfs', ctx.rootfs]);
  plan.push(['bind-self', ctx.rootfs]);
  const mounts = spec.mounts ?? [];
  mounts.forEach((m, i) => mountSteps(plan, m, i, ctx, newCgroupNs));

  const devBound = mounts.some((m) => posix.normalize(m.destination) === '/dev' && isBind(m));
  if (!devBound) {
    const devices = [
      ...DEFAULT_DEVICES.map(([path, major, minor]) => ({ path, type: 'c', major, minor, fileMode: 0o666, uid: 0, gid: 0 })),
      ...(linux.devices ?? []),
    ];
    for (const d of devices) {
      if (newUser) {
        // mknod is not allowed in a user namespace: bind the host's node instead.
        plan.push(['mount', d.path, 'file', d.path, '-', String(MS.BIND), '']);
      } else {
        const type = d.type === 'u' ? 'c' : d.type;
        const mode = (d.fileMode ?? 0o666) & 0o7777;
        plan.push(['mknod', d.path, type, String(d.major ?? 0), String(d.minor ?? 0), mode.toString(8), String(d.uid ?? 0), String(d.gid ?? 0)]);
      }
    }
    for (const [target, link] of DEV_LINKS) plan.push(['symlink', target, link]);
  }
}

function isBind(m: SpecMount): boolean {
  return m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind');
}

function mountSteps(plan: Frame[], m: SpecMount, index: number, ctx: PlanContext, newCgroupNs: boolean): void {
  const where = `mounts[${index}] (${m.destination})`;
  const dest = posix.normalize(isAbsolute(m.destination) ? m.destination : `/${m.destination}`);
  const opts = parseMountOptions(m.options ?? [], where);
  if (m.type === 'cgroup' || m.type === 'cgroup2') {
    cgroupMountSteps(plan, dest, opts.flags, ctx, newCgroupNs);
    return;
  }
  let kind = 'dir';
  let source = m.source ?? '-';
  if (isBind(m)) {
    opts.flags |= MS.BIND;
    if (!m.source) throw new HakoError('invalid-config', `config.json: ${where}: a bind mount needs a source`);
    source = resolve(ctx.bundle, m.source);
    try {
      kind = statSync(source).isDirectory() ? 'dir' : 'file';
    } catch {
      throw new HakoError('invalid-config', `config.json: ${where}: bind source ${source} does not exist`);
    }
  } else if (!m.type) {
    throw new HakoError('invalid-config', `config.json: ${where}: type is missing`);
  }
  plan.push(['mount', dest, kind, source, isBind(m) ? '-' : m.type!, String(opts.flags), opts.data, ...opts.propagation.map(String)]);
}

/**
 * A `cgroup` mount shows the container its own cgroup: a tmpfs of hierarchies on v1 and
 * hybrid hosts, a single cgroup2 on v2. In a new cgroup namespace the kernel roots a
 * fresh mount at the container's cgroup; otherwise its host directory is bind-mounted.
 */
function cgroupMountSteps(plan: Frame[], dest: string, flags: number, ctx: PlanContext, newNs: boolean): void {
  const sub = (flags & (MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC)) | MS.NOSUID | MS.NODEV | MS.NOEXEC;
  const mountOne = (target: string, h: Hierarchy) => {
    if (newNs) {
      const data = h.version === 2 ? '' : h.controllers.join(',');
      plan.push(['mount', target, 'dir', h.version === 2 ? 'cgroup2' : 'cgroup', h.version === 2 ? 'cgroup2' : 'cgroup', String(sub), data]);
    } else {
      plan.push(['mount', target, 'dir', join(h.mountPoint, ctx.cgroup.path), '-', String(MS.BIND | sub), '']);
    }
  };
  const v1 = ctx.hierarchies.filter((h) => h.version === 1);
  if (v1.length === 0) {
    const unified = ctx.hierarchies.find((h) => h.version === 2);
    if (unified) mountOne(dest, unified);
    return;
  }
  plan.push(['mount', dest, 'dir', 'tmpfs', 'tmpfs', String(MS.NOSUID | MS.NODEV | MS.NOEXEC), 'mode=755']);
  for (const h of ctx.hierarchies) {
    const name = h.version === 2 ? 'unified' : h.controllers.map((c) => c.replace(/^name=/, '')).join(',');
    mountOne(`${dest}/${name}`, h);
    if (h.controllers.length > 1) for (const c of h.controllers) plan.push(['symlink', name, `${dest}/${c}`]);
  }
}

function hookStep(h: SpecHook, stateKey: string): Frame {
  const args = h.args?.length ? h.args : [h.path];
  return ['hook', String(h.timeout ?? 0), `$${stateKey}`, h.path, String(args.length), ...args, ...(h.env ?? [])];
}


const NS_PROC_NAME = { ipc: 'ipc', network: 'net', uts: 'uts' } as const;

function sameNamespace(a: string, b: string): boolean {
  try {
    const x = statSync(a);
    const y = statSync(b);
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return true; // unknown: treated as the host's, so nothing is changed there
  }
}
