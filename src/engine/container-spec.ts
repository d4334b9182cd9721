import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, endianness, release } from 'node:os';
import { join, posix } from 'node:path';
import { HakoError } from '../common/errors.ts';
import { quote } from '../image/digest.ts';
import { runtimeProcessFor } from '../image/runtime-config.ts';
import { CAPABILITIES } from '../runtime/capabilities.ts';
import type { SpecSeccomp } from '../runtime/seccomp.ts';
import type { Spec, SpecDevice, SpecMount, SpecNamespace, SpecProcess } from '../runtime/spec-types.ts';
import { OCI_VERSION } from '../runtime/state-store.ts';
import type { ContainerConfig, HostConfig } from './container-config.ts';
import { defaultHostname } from './container-merge.ts';
import { defaultSeccomp, nativeArch, parseSeccompProfile, seccompFromProfile } from './seccomp-default.ts';

/**
 * A container's settings → its OCI runtime spec, as dockerd 20.10 builds it for runc
 * (moby daemon/oci_linux.go createSpec and oci/defaults.go). Pure but for what
 * HostFacts says about the machine, and the image's /etc/passwd and /etc/group.
 */

export interface ResolvedMount {
  destination: string;
  type: 'bind' | 'tmpfs';
  source: string;
  options: string[];
}

export interface SpecInput {
  /** 64-hex container id */
  id: string;
  /** already merged with the image */
  config: ContainerConfig;
  hostConfig: HostConfig;
  /** absolute path of the container's mounted root file system */
  rootfs: string;
  /** host paths, already written by the engine */
  etcFiles: { hosts: string; hostname: string; resolvConf: string };
  /** volumes/binds/tmpfs already resolved to host paths by the engine, in order */
  mounts: ResolvedMount[];
  /** the static init binary, bound at /sbin/docker-init with HostConfig.Init */
  initPath?: string;
  /** e.g. "/hako/<id>" */
  cgroupsPath: string;
  /** a network namespace to join (the container's pinned one, or another container's) instead of a new one */
  networkNamespacePath?: string;
}

/** What of the machine decides the spec (detectHost() reads it; tests make their own). */
export interface HostFacts {
  /** cgroup v2 only: containers get a cgroup namespace (Docker's default cgroupns mode there) */
  cgroupV2: boolean;
  apparmor: boolean;
  selinux: boolean;
  /** the memory cgroup can limit swap */
  swapLimit: boolean;
  /** libseccomp's name of the machine's architecture (amd64, arm64 …) */
  arch: string;
  /** uname -r */
  kernel: string;
  /** /proc/sys/kernel/cap_last_cap */
  lastCap: number;
  cpus: number;
  sysctlExists(key: string): boolean;
  /** every device node under /dev, for --privileged */
  hostDevices(): SpecDevice[];
}

let detected: HostFacts | undefined;

export function detectHost(): HostFacts {
  if (detected !== undefined) return detected;
  const read = (p: string) => {
    try {
      return readFileSync(p, 'utf8');
    } catch {
      return '';
    }
  };
  const cgroupV2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
  const lastCap = Number.parseInt(read('/proc/sys/kernel/cap_last_cap'), 10);
  detected = {
    cgroupV2,
    apparmor: read('/sys/module/apparmor/parameters/enabled').startsWith('Y') && existsSync('/sys/kernel/security/apparmor'),
    selinux: existsSync('/sys/fs/selinux/enforce'),
    swapLimit: cgroupV2 ? read('/sys/fs/cgroup/cgroup.controllers').split(/\s+/).includes('memory') : existsSync('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes'),
    arch: nativeArch(process.arch, endianness() === 'LE'),
    kernel: release(),
    lastCap: Number.isInteger(lastCap) ? lastCap : CAPABILITIES.length - 1,
    cpus: availableParallelism(),
    sysctlExists: (key) => existsSync(join('/proc/sys', key.replaceAll('.', '/'))),
    hostDevices: () => devicesUnder('/dev'),
  };
  return detected;
}

/** runc's HostDevices: char and block nodes, without the directories mounted anew in a container. */
function devicesUnder(dir: string): SpecDevice[] {
  const out: SpecDevice[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    let st;
    try {
      st = lstatSync(path, { bigint: true });
    } catch {
      continue; // gone meanwhile
    }
    if (st.isDirectory()) {
      if (!['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev'].includes(name)) out.push(...devicesUnder(path));
      continue;
    }
    if (name === 'console' || !(st.isCharacterDevice() || st.isBlockDevice())) continue;
    // glibc's major()/minor() of a dev_t
    const major = Number(((st.rdev >> 8n) & 0xfffn) | ((st.rdev >> 32n) & 0xfffff000n));
    const minor = Number((st.rdev & 0xffn) | ((st.rdev >> 12n) & 0xffffff00n));
    out.push({ path, type: st.isCharacterDevice() ? 'c' : 'b', major, minor, fileMode: Number(st.mode & 0o7777n), uid: Number(st.uid), gid: Number(st.gid) });
  }
  return out;
}

const invalid = (msg: string) => new HakoError('invalid-argument', msg);

// ---------------------------------------------------------------------------------------
// Capabilities

/** moby oci/caps DefaultCapabilities(), in its order. */
export const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/** `sys_admin`, `SYS_ADMIN`, `cap_sys_admin` → CAP_SYS_ADMIN; `all` → ALL. */
function normalizeCaps(names: readonly string[] | null, flag: string): string[] {
  return (names ?? []).map((raw) => {
    const upper = raw.toUpperCase();
    if (upper === 'ALL') return 'ALL';
    const cap = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
    if (!(CAPABILITIES as readonly string[]).includes(cap)) throw invalid(`${flag}: unknown capability: ${quote(raw)}`);
    return cap;
  });
}

/**
 * moby TweakCapabilities. "All" is every capability this kernel has (as Docker 23+; 20.10
 * stopped at CAP_AUDIT_READ only because the runc of its day did not know the newer ones).
 */
export function containerCapabilities(hc: Pick<HostConfig, 'CapAdd' | 'CapDrop' | 'Privileged'>, lastCap: number): string[] {
  const all = CAPABILITIES.slice(0, lastCap + 1) as string[];
  const adds = normalizeCaps(hc.CapAdd, '--cap-add');
  const drops = normalizeCaps(hc.CapDrop, '--cap-drop');
  if (hc.Privileged) return all;
  if (adds.includes('ALL')) return all.filter((c) => !drops.includes(c));
  const base = drops.includes('ALL') ? [] : DEFAULT_CAPABILITIES.filter((c) => !drops.includes(c));
  for (const c of adds) if (!base.includes(c)) base.push(c);
  return base;
}

// ---------------------------------------------------------------------------------------
// --security-opt

export interface SecurityOptions {
  /** undefined: Docker's default profile; 'unconfined': none; else the profile's JSON */
  seccomp?: string;
  noNewPrivileges: boolean;
  apparmorProfile?: string;
}

/** Go's strconv.ParseBool. */
function parseBool(s: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  return undefined;
}

/** moby parseSecurityOpt, refusing what this host cannot do instead of ignoring it. */
export function parseSecurityOpts(opts: readonly string[] | null, host: Pick<HostFacts, 'apparmor' | 'selinux'>): SecurityOptions {
  const out: SecurityOptions = { noNewPrivileges: false };
  for (const opt of opts ?? []) {
    if (opt === 'no-new-privileges') {
      out.noNewPrivileges = true;
      continue;
    }
    if (opt === 'disable') continue; // label=disable: nothing to turn off without SELinux labels
    const sep = opt.includes('=') ? '=' : opt.includes(':') ? ':' : '';
    if (sep === '') throw invalid(`--security-opt ${quote(opt)}: expected KEY=VALUE (seccomp=…, no-new-privileges, apparmor=…, label=…)`);
    const key = opt.slice(0, opt.indexOf(sep));
    const value = opt.slice(opt.indexOf(sep) + 1);
    switch (key) {
      case 'seccomp':
        if (value === '') throw invalid(`--security-opt ${quote(opt)}: a seccomp profile (a file or its JSON) or "unconfined" is needed`);
        out.seccomp = value;
        break;
      case 'no-new-privileges': {
        const b = parseBool(value);
        if (b === undefined) throw invalid(`--security-opt ${quote(opt)}: no-new-privileges takes true or false`);
        out.noNewPrivileges = b;
        break;
      }
      case 'apparmor':
        // asking for no profile is what a host without AppArmor gives anyway
        if (value === 'unconfined') break;
        if (!host.apparmor) throw new HakoError('unsupported', `--security-opt ${quote(opt)}: AppArmor is not enabled on this host`);
        out.apparmorProfile = value;
        break;
      case 'label':
        if (value === 'disable') break;
        if (!host.selinux) throw new HakoError('unsupported', `--security-opt ${quote(opt)}: SELinux is not enabled on this host`);
        throw new HakoError('unsupported', `--security-opt ${quote(opt)}: hako does not set SELinux labels`);
      default:
        throw invalid(`--security-opt ${quote(opt)}: unknown option ${quote(key)} (seccomp=…, no-new-privileges, apparmor=…, label=…)`);
    }
  }
  return out;
}

/** The profile for `--security-opt seccomp=VALUE`: its JSON inline (as the Docker CLI sends it) or a file. */
function seccompProfileText(value: string): { json: string; where: string } {
  if (value.trimStart().startsWith('{')) return { json: value, where: 'the profile' };
  try {
    return { json: readFileSync(value, 'utf8'), where: value };
  } catch (err) {
    throw invalid(`--security-opt seccomp=${value}: cannot read the profile: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

function seccompFor(sec: SecurityOptions, privileged: boolean, bounding: string[], host: HostFacts): SpecSeccomp | undefined {
  if (privileged || sec.seccomp === 'unconfined') return undefined;
  const seccompHost = { arch: host.arch, kernel: host.kernel };
  if (sec.seccomp === undefined) return defaultSeccomp(bounding, seccompHost);
  const { json, where } = seccompProfileText(sec.seccomp);
  return seccompFromProfile(parseSeccompProfile(json, where), bounding, seccompHost);
}

// ---------------------------------------------------------------------------------------
// Mounts

const MIB = 1024 * 1024;
const DEFAULT_SHM_SIZE = 64 * MIB;

/** moby oci DefaultLinuxSpec's mounts, in its order; /dev/shm gets its size later. */
function defaultMounts(): SpecMount[] {
  const nsn = ['nosuid', 'noexec', 'nodev'];
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: [...nsn] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: [...nsn, 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', ...nsn] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: [...nsn] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: [...nsn, 'mode=1777'] },
  ];
}

/** Option → the flag it sets or clears (moby/sys/mount's table): a later one of a pair wins. */
const TMPFS_FLAGS: Record<string, string> = {
  ro: 'rdonly', rw: 'rdonly', suid: 'nosuid', nosuid: 'nosuid', dev: 'nodev', nodev: 'nodev', exec: 'noexec', noexec: 'noexec',
  sync: 'sync', async: 'sync', dirsync: 'dirsync', remount: 'remount', mand: 'mand', nomand: 'mand', atime: 'noatime',
  noatime: 'noatime', diratime: 'nodiratime', nodiratime: 'nodiratime', relatime: 'relatime', norelatime: 'relatime',
  strictatime: 'strictatime', nostrictatime: 'strictatime',
  bind: 'propagation', rbind: 'propagation', unbindable: 'propagation', runbindable: 'propagation', private: 'propagation',
  rprivate: 'propagation', shared: 'propagation', rshared: 'propagation', slave: 'propagation', rslave: 'propagation',
};
const TMPFS_DATA = new Set(['size', 'mode', 'uid', 'gid', 'nr_inodes', 'nr_blocks', 'mpol']);

/** `--tmpfs DEST:OPTS` → runc's options: Docker's defaults, then the user's, one of each (moby MergeTmpfsOptions). */
export function tmpfsOptions(data: string, dest: string): string[] {
  const options = ['noexec', 'nosuid', 'nodev', 'rprivate', ...(data ? data.split(',') : [])];
  const seen = new Set<string>();
  const out: string[] = [];
  for (const opt of options.reverse()) {
    if (opt === 'defaults') continue;
    const eq = opt.indexOf('=');
    const key = TMPFS_FLAGS[opt] ?? (eq > 0 && TMPFS_DATA.has(opt.slice(0, eq)) ? `data:${opt.slice(0, eq)}` : undefined);
    if (key === undefined) throw invalid(`--tmpfs ${dest}: invalid tmpfs option ${quote(opt)}`);
    if (!seen.has(key)) out.unshift(opt);
    seen.add(key);
  }
  return out;
}

const depth = (dest: string) => posix.normalize(dest).replace(/(.)\/$/, '$1').split('/').length - 1;
const without = (opts: string[] | undefined, drop: string) => (opts ?? []).filter((o) => o !== drop);

/**
 * Docker's WithMounts: its defaults (less those a user mount replaces; all of /dev's if
 * /dev is replaced), the init, then the user's mounts, --tmpfs and the three /etc files
 * ordered by depth (a parent before what is mounted inside it).
 */
function mountsFor(input: SpecInput, shmSize: number): SpecMount[] {
  const { hostConfig: hc, etcFiles } = input;
  const user: SpecMount[] = input.mounts.map((m) => ({ destination: m.destination, type: m.type, source: m.source, options: [...m.options] }));
  const taken = new Set(user.map((m) => posix.normalize(m.destination)));
  for (const [dest, data] of Object.entries(hc.Tmpfs ?? {})) {
    if (!dest.startsWith('/')) throw invalid(`--tmpfs ${dest}: the mount path must be absolute`);
    if (taken.has(posix.normalize(dest))) continue; // the engine resolved it already
    user.push({ destination: dest, type: 'tmpfs', source: 'tmpfs', options: tmpfsOptions(data, dest) });
    taken.add(posix.normalize(dest));
  }
  const etcOpts = hc.ReadonlyRootfs ? ['rbind', 'ro', 'rprivate'] : ['rbind', 'rprivate'];
  for (const [dest, source] of [['/etc/resolv.conf', etcFiles.resolvConf], ['/etc/hostname', etcFiles.hostname], ['/etc/hosts', etcFiles.hosts]] as const) {
    if (!taken.has(dest)) user.push({ destination: dest, type: 'bind', source, options: [...etcOpts] });
  }

  const devReplaced = taken.has('/dev');
  const mounts = defaultMounts().filter((m) => !taken.has(m.destination) && !(devReplaced && m.destination.startsWith('/dev/')));
  for (const m of mounts) if (m.destination === '/dev/shm') m.options!.push(`size=${shmSize}`);
  if (hc.Init) {
    if (!input.initPath) throw new HakoError('unsupported', '--init: no init binary (hako-init) was found');
    mounts.push({ destination: '/sbin/docker-init', type: 'bind', source: input.initPath, options: ['bind', 'ro'] });
  }
  if (hc.ReadonlyRootfs) {
    for (const m of mounts) {
      if (!['/proc', '/dev/pts', '/dev/shm', '/dev/mqueue', '/dev'].includes(m.destination) && !m.options!.includes('ro')) m.options!.push('ro');
    }
  }
  if (hc.Privileged) {
    for (const m of mounts) if (m.destination === '/sys' || m.type === 'cgroup') m.options = without(m.options, 'ro');
  }
  // stable, unlike Go's sort.Sort, which is stable only for the few mounts a container usually has
  const sorted = user.map((m, i) => ({ m, i, d: depth(m.destination) })).sort((a, b) => a.d - b.d || a.i - b.i);
  return [...mounts, ...sorted.map((x) => x.m)];
}

// ---------------------------------------------------------------------------------------
// Sysctls

const IPC_SYSCTLS = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);

/** Only sysctls of a namespace the container has its own of: anything else would change the host. */
function checkSysctl(key: string, ownNetwork: boolean): void {
  const w = `--sysctl ${key}`;
  if (IPC_SYSCTLS.has(key) || key.startsWith('fs.mqueue.') || key === 'kernel.domainname') return;
  if (key.startsWith('net.')) {
    if (!ownNetwork) throw invalid(`${w}: not allowed with --network host: it would change the host's network settings`);
    return;
  }
  if (key === 'kernel.hostname') throw invalid(`${w}: not allowed, use --hostname`);
  throw invalid(`${w}: not allowed: only the IPC sysctls (kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*), net.* and kernel.domainname are namespaced`);
}

function sysctlsFor(config: ContainerConfig, hc: HostConfig, ownNetwork: boolean, host: HostFacts): Record<string, string> {
  const out: Record<string, string> = {};
  if (config.Domainname) out['kernel.domainname'] = config.Domainname;
  // Docker's defaults for a network namespace of its own: ping and low ports without privileges
  if (ownNetwork) {
    if (host.sysctlExists('net.ipv4.ping_group_range')) out['net.ipv4.ping_group_range'] = '0 2147483647';
    if (host.sysctlExists('net.ipv4.ip_unprivileged_port_start')) out['net.ipv4.ip_unprivileged_port_start'] = '0';
  }
  for (const [key, value] of Object.entries(hc.Sysctls ?? {})) {
    checkSysctl(key, ownNetwork);
    out[key] = value;
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Process and resources

/** go-units' ulimit names. */
const ULIMITS = new Set(['core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack']);
/** RLIM_INFINITY (2^64-1) as near as a JSON number gets; the runtime reads it as infinity. */
const RLIM_INFINITY = 2 ** 64;

function rlimitsFor(hc: HostConfig): NonNullable<SpecProcess['rlimits']> {
  return (hc.Ulimits ?? []).map((u) => {
    if (!ULIMITS.has(u.Name)) throw invalid(`--ulimit ${u.Name}: unknown ulimit (${[...ULIMITS].join(', ')})`);
    const soft = u.Soft < 0 ? RLIM_INFINITY : u.Soft;
    const hard = u.Hard < 0 ? RLIM_INFINITY : u.Hard;
    if (soft > hard) throw invalid(`--ulimit ${u.Name}: soft limit must be less than or equal to hard limit: ${u.Soft} > ${u.Hard}`);
    return { type: `RLIMIT_${u.Name.toUpperCase()}`, soft, hard };
  });
}

const CPU_LIST = /^\d+(-\d+)?(,\d+(-\d+)?)*$/;

function resourcesFor(hc: HostConfig, host: HostFacts): Record<string, unknown> {
  const res: Record<string, unknown> = {};
  if (hc.Memory < 0 || (hc.Memory > 0 && hc.Memory < 6 * MIB)) throw invalid(`--memory ${hc.Memory}: the minimum memory limit allowed is 6MB`);
  if (hc.MemorySwap > 0 && hc.Memory === 0) throw invalid('--memory-swap: you should always set the memory limit (--memory) when using a memory+swap limit');
  if (hc.MemorySwap > 0 && hc.MemorySwap < hc.Memory) throw invalid(`--memory-swap ${hc.MemorySwap}: the memory+swap limit must be larger than the memory limit (${hc.Memory})`);
  if (hc.MemorySwap < -1) throw invalid(`--memory-swap ${hc.MemorySwap}: -1 (unlimited), 0 (twice --memory) or a size`);
  const memory: Record<string, number> = {};
  if (hc.Memory > 0) memory['limit'] = hc.Memory;
  // Docker's default: as much swap as memory; dropped where the kernel cannot limit swap
  const swap = hc.MemorySwap === 0 && hc.Memory > 0 ? 2 * hc.Memory : hc.MemorySwap;
  if (swap > 0 && host.swapLimit) memory['swap'] = swap;
  if (Object.keys(memory).length > 0) res['memory'] = memory;

  const cpu: Record<string, number | string> = {};
  if (hc.CpuShares < 0) throw invalid(`--cpu-shares ${hc.CpuShares}: must not be negative`);
  if (hc.CpuShares > 0) cpu['shares'] = hc.CpuShares;
  for (const [flag, value, key] of [['--cpuset-cpus', hc.CpusetCpus, 'cpus'], ['--cpuset-mems', hc.CpusetMems, 'mems']] as const) {
    if (!value) continue;
    if (!CPU_LIST.test(value)) throw invalid(`${flag} ${quote(value)}: expected a list like 0-3,5`);
    cpu[key] = value;
  }
  if (hc.NanoCpus > 0 && hc.CpuPeriod > 0) throw invalid('conflicting options: --cpus and --cpu-period cannot both be set');
  if (hc.NanoCpus > 0 && hc.CpuQuota > 0) throw invalid('conflicting options: --cpus and --cpu-quota cannot both be set');
  if (hc.NanoCpus < 0 || hc.NanoCpus > host.cpus * 1e9) {
    throw invalid(`--cpus ${hc.NanoCpus / 1e9}: the range of CPUs is from 0.01 to ${host.cpus}.00, as there are only ${host.cpus} CPUs available`);
  }
  if (hc.NanoCpus > 0) {
    cpu['period'] = 100_000;
    cpu['quota'] = Math.trunc((hc.NanoCpus * 100_000) / 1e9);
  }
  if (hc.CpuPeriod !== 0 && (hc.CpuPeriod < 1000 || hc.CpuPeriod > 1_000_000)) {
    throw invalid(`--cpu-period ${hc.CpuPeriod}: CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)`);
  }
  if (hc.CpuPeriod !== 0) cpu['period'] = hc.CpuPeriod;
  if (hc.CpuQuota > 0 && hc.CpuQuota < 1000) throw invalid(`--cpu-quota ${hc.CpuQuota}: CPU cfs quota can not be less than 1ms (i.e. 1000)`);
  if (hc.CpuQuota !== 0) cpu['quota'] = hc.CpuQuota;
  if (Object.keys(cpu).length > 0) res['cpu'] = cpu;

  if (hc.PidsLimit !== null && hc.PidsLimit > 0) res['pids'] = { limit: hc.PidsLimit };
  return res;
}

/** moby oci DefaultLinuxSpec's device cgroup: nothing but null, zero, full, random, urandom, tty and ptys. */
const DEVICE_RULES = [
  { allow: false, access: 'rwm' },
  ...[[1, 5], [1, 3], [1, 9], [1, 8], [5, 0], [5, 1]].map(([major, minor]) => ({ allow: true, type: 'c', major, minor, access: 'rwm' })),
  // /dev/rtc0: the clock is the host's
  { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' },
];

export const MASKED_PATHS = [
  '/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware',
];
export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

function namespacesFor(hc: HostConfig, host: HostFacts, netnsPath: string | undefined): SpecNamespace[] {
  const mode = hc.NetworkMode;
  if (mode.startsWith('container:') && !netnsPath) throw new HakoError('invalid-state', `--network ${mode}: the other container's network namespace is not known`);
  const ns: SpecNamespace[] = [{ type: 'mount' }];
  if (mode !== 'host') ns.push(netnsPath ? { type: 'network', path: netnsPath } : { type: 'network' });
  ns.push({ type: 'uts' }, { type: 'pid' }, { type: 'ipc' });
  if (host.cgroupV2) ns.push({ type: 'cgroup' });
  return ns;
}

export function buildContainerSpec(input: SpecInput, host: HostFacts = detectHost()): Spec {
  const { config, hostConfig: hc } = input;
  const sec = parseSecurityOpts(hc.SecurityOpt, host);
  if (hc.OomScoreAdj < -1000 || hc.OomScoreAdj > 1000) throw invalid(`--oom-score-adj ${hc.OomScoreAdj}: the range is [-1000, 1000]`);
  if (hc.ShmSize < 0) throw invalid(`--shm-size ${hc.ShmSize}: must not be negative`);
  const namespaces = namespacesFor(hc, host, input.networkNamespacePath);
  const ownNetwork = namespaces.some((n) => n.type === 'network');
  const hostname = config.Hostname || defaultHostname(input.id, hc.NetworkMode);
  // the checks of the flags first: the image's files are read only for a spec that can be made
  const resources = resourcesFor(hc, host);
  const mounts = mountsFor(input, hc.ShmSize || DEFAULT_SHM_SIZE);
  const sysctl = sysctlsFor(config, hc, ownNetwork, host);
  const rlimits = rlimitsFor(hc);
  const caps = containerCapabilities(hc, host.lastCap);

  // a bare NAME in Env unsets it (the daemon's meaning of `-e NAME` when the CLI had no value)
  const proc = runtimeProcessFor(
    { Entrypoint: config.Entrypoint, Cmd: config.Cmd, Env: config.Env.filter((e) => e.includes('=')), WorkingDir: config.WorkingDir, User: config.User },
    { hostname, tty: config.Tty, groupAdd: hc.GroupAdd ?? [], env: config.Env.filter((e) => !e.includes('=')) },
    input.rootfs,
  );
  const process: SpecProcess = {
    ...(proc.terminal ? { terminal: true } : {}),
    user: proc.user,
    args: hc.Init ? ['/sbin/docker-init', '--', ...proc.args] : proc.args,
    env: proc.env,
    cwd: proc.cwd,
    // as execve(2) would: a process not run as root has no effective or permitted capabilities
    capabilities: proc.user.uid === 0 ? { bounding: caps, effective: [...caps], permitted: [...caps] } : { bounding: caps },
    oomScoreAdj: hc.OomScoreAdj,
  };
  if (rlimits.length > 0) process.rlimits = rlimits;
  if (sec.noNewPrivileges) process.noNewPrivileges = true;
  if (sec.apparmorProfile !== undefined) process.apparmorProfile = sec.apparmorProfile;

  resources['devices'] = hc.Privileged ? [{ allow: true, access: 'rwm' }] : DEVICE_RULES.map((r) => ({ ...r }));
  const spec: Spec = {
    ociVersion: OCI_VERSION,
    process,
    root: hc.ReadonlyRootfs ? { path: input.rootfs, readonly: true } : { path: input.rootfs },
    hostname,
    mounts,
    linux: {
      sysctl,
      resources,
      cgroupsPath: input.cgroupsPath,
      namespaces,
    },
  };
  const linux = spec.linux!;
  if (hc.Privileged) linux.devices = host.hostDevices();
  else {
    linux.maskedPaths = [...MASKED_PATHS];
    linux.readonlyPaths = [...READONLY_PATHS];
  }
  const seccomp = seccompFor(sec, hc.Privileged, caps, host);
  if (seccomp !== undefined) linux.seccomp = seccomp;
  return spec;
}
