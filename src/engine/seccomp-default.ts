import { HakoError } from '../common/errors.ts';
import type { SpecSeccomp } from '../runtime/seccomp.ts';

/**
 * Docker's seccomp profiles: the default one (moby v20.10.24 profiles/seccomp, the
 * docker.io of Debian 12; see docs/seccomp.md) and the profile JSON format of
 * `--security-opt seccomp=…`, turned into an OCI `linux.seccomp` the way dockerd's
 * setupSeccomp does: for this host's architecture, kernel and the container's
 * bounding capabilities.
 */

export type SeccompArg = NonNullable<NonNullable<SpecSeccomp['syscalls']>[number]['args']>[number];

export interface SeccompFilter {
  caps?: string[];
  /** libseccomp's names: amd64, x86, x32, arm64, arm, s390x … */
  arches?: string[];
  /** "<kernel>.<major>", e.g. "4.8" */
  minKernel?: string;
}

export interface SeccompRule {
  name?: string;
  names?: string[];
  action: string;
  errnoRet?: number;
  args?: SeccompArg[] | null;
  comment?: string;
  includes?: SeccompFilter;
  excludes?: SeccompFilter;
}

/** Docker's profile document (moby's seccomp.Seccomp). */
export interface SeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: { architecture: string; subArchitectures?: string[] | null }[];
  flags?: string[];
  listenerPath?: string;
  syscalls?: SeccompRule[] | null;
}

/** What of the host decides which rules apply. */
export interface SeccompHost {
  /** libseccomp's name of this machine's architecture (amd64, arm64 …) */
  arch: string;
  /** uname -r */
  kernel: string;
}

const ENOSYS = 38;
const EPERM = 1;

/** `chown{,32}` → chown chown32; groups multiply: `timer_{get,set}time{,64}`. */
function expand(words: string): string[] {
  const out: string[] = [];
  for (const word of words.split(/\s+/).filter(Boolean)) {
    const stack = [word];
    while (stack.length > 0) {
      const w = stack.shift()!;
      const m = /\{([^{}]*)\}/.exec(w);
      if (m === null) out.push(w);
      else for (const alt of m[1]!.split(',')) stack.push(w.slice(0, m.index) + alt + w.slice(m.index + m[0].length));
    }
  }
  return out;
}

/** Allowed for every container, by topic (the order of a rule's names is no matter to the kernel). */
const ALWAYS = expand(`
  access faccessat faccessat2 chdir fchdir getcwd chmod fchmod fchmodat chown{,32} fchown{,32} fchownat lchown{,32}
  creat open openat openat2 close close_range link linkat symlink symlinkat unlink unlinkat rename renameat renameat2
  mkdir mkdirat mknod mknodat rmdir readlink readlinkat stat{,64} lstat{,64} fstat{,64} fstatat64 newfstatat statx
  statfs{,64} fstatfs{,64} truncate{,64} ftruncate{,64} fallocate fadvise64{,_64} getdents{,64} umask utime utimes
  utimensat{,_time64} futimesat sync syncfs fsync fdatasync sync_file_range flock fcntl{,64} copy_file_range
  sendfile{,64} splice tee vmsplice readahead {,f,l}{get,set,list,remove}xattr
  read write readv writev pread64 pwrite64 preadv{,2} pwritev{,2} lseek _llseek dup dup2 dup3 pipe pipe2 ioctl
  poll ppoll{,_time64} select _newselect pselect6{,_time64} epoll_create{,1} epoll_ctl{,_old} epoll_wait{,_old}
  epoll_pwait{,2} eventfd{,2} signalfd{,4} inotify_init{,1} inotify_add_watch inotify_rm_watch fanotify_mark
  timerfd_create timerfd_{get,set}time{,64}
  io_setup io_destroy io_submit io_cancel io_getevents io_pgetevents{,_time64} io_uring_{setup,enter,register}
  brk mmap{,2} munmap mremap mprotect madvise mincore msync mlock{,2} mlockall munlock munlockall membarrier
  memfd_create memfd_secret remap_file_pages
  execve execveat exit exit_group fork vfork wait4 waitid waitpid kill tkill tgkill pidfd_open pidfd_send_signal
  process_mrelease prctl getpid getppid gettid getpgid getpgrp getsid setpgid setsid restart_syscall pause seccomp
  rseq set_tid_address {get,set}_robust_list {get,set}_thread_area uname sysinfo getrandom getcpu capget capset
  landlock_{add_rule,create_ruleset,restrict_self} ioprio_{get,set} getpriority setpriority getrlimit setrlimit
  ugetrlimit prlimit64 getrusage times
  get{,e,res}{u,g}id{,32} set{,re,res,fs}{u,g}id{,32} getgroups{,32} setgroups{,32}
  rt_sig{action,pending,procmask,queueinfo,return,suspend,timedwait} rt_sigtimedwait_time64 rt_tgsigqueueinfo
  sigaltstack sigprocmask sigreturn
  alarm time gettimeofday nanosleep adjtimex clock_adjtime{,64} clock_getres{,_time64} clock_gettime{,64}
  clock_nanosleep{,_time64} getitimer setitimer timer_{create,delete,getoverrun} timer_{get,set}time{,64}
  futex futex_time64 futex_waitv
  sched_{get,set}{affinity,attr,param,scheduler} sched_get_priority_{max,min} sched_rr_get_interval{,_time64}
  sched_yield
  ipc msg{ctl,get,rcv,snd} sem{ctl,get,op,timedop} semtimedop_time64 shm{at,ctl,dt,get}
  mq_{getsetattr,notify,open,timedreceive,timedsend,unlink} mq_timed{receive,send}_time64
  socket socketpair socketcall bind connect listen accept accept4 shutdown getsockname getpeername getsockopt
  setsockopt send sendto sendmsg sendmmsg recv recvfrom recvmsg recvmmsg{,_time64}
`);

/** Only with a capability (each group is one rule, as in moby's profile). */
const WITH_CAP: [cap: string, names: string][] = [
  ['CAP_DAC_READ_SEARCH', 'open_by_handle_at'],
  [
    'CAP_SYS_ADMIN',
    `bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie mount mount_setattr move_mount
     name_to_handle_at open_tree perf_event_open quotactl quotactl_fd setdomainname sethostname setns syslog
     umount umount2 unshare`,
  ],
  ['CAP_SYS_BOOT', 'reboot'],
  ['CAP_SYS_CHROOT', 'chroot'],
  ['CAP_SYS_MODULE', 'delete_module init_module finit_module'],
  ['CAP_SYS_PACCT', 'acct'],
  ['CAP_SYS_PTRACE', 'kcmp pidfd_getfd process_madvise process_vm_readv process_vm_writev ptrace'],
  ['CAP_SYS_RAWIO', 'iopl ioperm'],
  ['CAP_SYS_TIME', 'settimeofday stime clock_settime'],
  ['CAP_SYS_TTY_CONFIG', 'vhangup'],
  ['CAP_SYS_NICE', 'get_mempolicy mbind set_mempolicy'],
  ['CAP_SYSLOG', 'syslog'],
  // Later moby profiles' rules for the capabilities docker 20.10 could not grant at all:
  // they change nothing for any container 20.10 can run.
  ['CAP_BPF', 'bpf'],
  ['CAP_PERFMON', 'perf_event_open'],
];

/** Only on some architectures (libseccomp names). */
const WITH_ARCH: [arches: string, names: string][] = [
  ['ppc64le', 'sync_file_range2'],
  ['arm arm64', 'arm_fadvise64_64 arm_sync_file_range sync_file_range2 breakpoint cacheflush set_tls'],
  ['amd64 x32', 'arch_prctl'],
  ['amd64 x32 x86', 'modify_ldt'],
  ['s390 s390x', 's390_pci_mmio_read s390_pci_mmio_write s390_runtime_instr'],
];

/** personality(2) with these personas only: Linux, 32-bit, ADDR_NO_RANDOMIZE and query (0xffffffff). */
const PERSONAS = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];

/** CLONE_NEWNS|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET|NEWCGROUP: no new namespaces without CAP_SYS_ADMIN. */
const CLONE_NS_FLAGS = 0x00020000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000 | 0x02000000;

/** moby's arches(): a native architecture with the ones its kernel also runs. */
const ARCH_MAP: [string, string[]][] = [
  ['SCMP_ARCH_X86_64', ['SCMP_ARCH_X86', 'SCMP_ARCH_X32']],
  ['SCMP_ARCH_AARCH64', ['SCMP_ARCH_ARM']],
  ['SCMP_ARCH_MIPS64', ['SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64N32']],
  ['SCMP_ARCH_MIPS64N32', ['SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64']],
  ['SCMP_ARCH_MIPSEL64', ['SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64N32']],
  ['SCMP_ARCH_MIPSEL64N32', ['SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64']],
  ['SCMP_ARCH_S390X', ['SCMP_ARCH_S390']],
];

const allow = (names: string, more: Partial<SeccompRule> = {}): SeccompRule => ({ names: expand(names), action: 'SCMP_ACT_ALLOW', ...more });
const words = (s: string) => s.split(' ');
const cloneMasked = (index: number): SeccompArg[] => [{ index, value: CLONE_NS_FLAGS, op: 'SCMP_CMP_MASKED_EQ' }];

/** Docker's default profile, in its own JSON shape (so it goes through the same filter as a user's). */
export function defaultSeccompProfile(): SeccompProfile {
  const syscalls: SeccompRule[] = [
    { names: ALWAYS, action: 'SCMP_ACT_ALLOW' },
    // ptrace is safe from kernel 4.8 on (it no longer bypasses seccomp)
    allow('ptrace', { includes: { minKernel: '4.8' } }),
    ...PERSONAS.map((value) => allow('personality', { args: [{ index: 0, value, op: 'SCMP_CMP_EQ' }] })),
    ...WITH_ARCH.map(([arches, names]) => allow(names, { includes: { arches: words(arches) } })),
    ...WITH_CAP.slice(0, 2).map(([cap, names]) => allow(names, { includes: { caps: [cap] } })),
    // without CAP_SYS_ADMIN: clone without namespace flags (s390 swaps clone's first two arguments)
    allow('clone', { args: cloneMasked(0), excludes: { caps: ['CAP_SYS_ADMIN'], arches: ['s390', 's390x'] } }),
    allow('clone', { args: cloneMasked(1), includes: { arches: ['s390', 's390x'] }, excludes: { caps: ['CAP_SYS_ADMIN'] } }),
    // clone3's flags are in memory seccomp cannot read: ENOSYS makes libcs fall back to clone
    { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS, excludes: { caps: ['CAP_SYS_ADMIN'] } },
    ...WITH_CAP.slice(2).map(([cap, names]) => allow(names, { includes: { caps: [cap] } })),
  ];
  return {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: EPERM,
    archMap: ARCH_MAP.map(([architecture, subArchitectures]) => ({ architecture, subArchitectures })),
    syscalls,
  };
}

/** libseccomp's name → the OCI/Docker architecture constant (moby's nativeToSeccomp). */
const NATIVE_TO_SCMP: Record<string, string> = {
  x86: 'SCMP_ARCH_X86',
  amd64: 'SCMP_ARCH_X86_64',
  arm: 'SCMP_ARCH_ARM',
  arm64: 'SCMP_ARCH_AARCH64',
  mips64: 'SCMP_ARCH_MIPS64',
  mips64n32: 'SCMP_ARCH_MIPS64N32',
  mipsel64: 'SCMP_ARCH_MIPSEL64',
  mipsel64n32: 'SCMP_ARCH_MIPSEL64N32',
  mipsel: 'SCMP_ARCH_MIPSEL',
  ppc: 'SCMP_ARCH_PPC',
  ppc64: 'SCMP_ARCH_PPC64',
  ppc64le: 'SCMP_ARCH_PPC64LE',
  s390: 'SCMP_ARCH_S390',
  s390x: 'SCMP_ARCH_S390X',
  riscv64: 'SCMP_ARCH_RISCV64',
};

/** Node's process.arch → libseccomp's name (what profiles' `arches` filters use). */
export function nativeArch(nodeArch: string = process.arch, littleEndian = true): string {
  const table: Record<string, string> = { x64: 'amd64', ia32: 'x86', arm: 'arm', arm64: 'arm64', s390x: 's390x', s390: 's390', riscv64: 'riscv64', mips: 'mips', mipsel: 'mipsel', ppc: 'ppc' };
  if (nodeArch === 'ppc64') return littleEndian ? 'ppc64le' : 'ppc64';
  return table[nodeArch] ?? nodeArch;
}

const bad = (msg: string) => new HakoError('invalid-argument', `--security-opt seccomp: ${msg}`);

/** moby's parseRelease: only "<kernel>.<major>" counts ("6.18.44-fc" is 6.18). */
function kernelAtLeast(release: string, min: string): boolean {
  const m = /^(\d+)\.(\d+)$/.exec(min);
  if (m === null || (m[1] === '0' && m[2] === '0')) throw bad(`invalid kernel version ${JSON.stringify(min)}, expected "<kernel>.<major>"`);
  const k = /^(\d+)\.(\d+)/.exec(release);
  if (k === null) throw new HakoError('system', `cannot parse the kernel version ${JSON.stringify(release)}`);
  const [have, want] = [[Number(k[1]), Number(k[2])], [Number(m[1]), Number(m[2])]] as const;
  return have[0]! > want[0]! || (have[0] === want[0] && have[1]! >= want[1]!);
}

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');
const isUint = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

function checkRule(r: SeccompRule, i: number): void {
  const w = `syscalls[${i}]`;
  if (typeof r !== 'object' || r === null) throw bad(`${w} must be an object`);
  if (typeof r.action !== 'string' || r.action === '') throw bad(`${w}.action must be a seccomp action (SCMP_ACT_…)`);
  if (r.name !== undefined && r.name !== '' && r.names !== undefined && r.names !== null && r.names.length > 0) {
    throw bad(`${w}: 'name' and 'names' were both specified, use either 'name' or 'names'`);
  }
  if (r.name !== undefined && typeof r.name !== 'string') throw bad(`${w}.name must be a string`);
  if (r.names !== undefined && r.names !== null && !isStrings(r.names)) throw bad(`${w}.names must be a list of strings`);
  if (r.errnoRet !== undefined && r.errnoRet !== null && !isUint(r.errnoRet)) throw bad(`${w}.errnoRet must be a non-negative integer`);
  for (const [j, a] of (r.args ?? []).entries()) {
    if (typeof a !== 'object' || a === null || !isUint(a.index) || !isUint(a.value) || typeof a.op !== 'string' || (a.valueTwo !== undefined && !isUint(a.valueTwo))) {
      throw bad(`${w}.args[${j}] must be {index, value, valueTwo?, op}`);
    }
  }
  for (const f of ['includes', 'excludes'] as const) {
    const filter = r[f];
    if (filter === undefined || filter === null) continue;
    if (typeof filter !== 'object') throw bad(`${w}.${f} must be an object`);
    if (filter.caps !== undefined && filter.caps !== null && !isStrings(filter.caps)) throw bad(`${w}.${f}.caps must be a list of strings`);
    if (filter.arches !== undefined && filter.arches !== null && !isStrings(filter.arches)) throw bad(`${w}.${f}.arches must be a list of strings`);
    if (filter.minKernel !== undefined && filter.minKernel !== null && filter.minKernel !== '' && typeof filter.minKernel !== 'string') {
      throw bad(`${w}.${f}.minKernel must be a string like "4.8"`);
    }
  }
}

/** Whether a rule is for this container (moby's setupSeccomp: excludes first, then includes). */
function applies(r: SeccompRule, bounding: ReadonlySet<string>, host: SeccompHost): boolean {
  const ex = r.excludes ?? {};
  const inc = r.includes ?? {};
  if (ex.arches?.includes(host.arch)) return false;
  if (ex.caps?.some((c) => bounding.has(c))) return false;
  if (ex.minKernel && kernelAtLeast(host.kernel, ex.minKernel)) return false;
  if (inc.arches && inc.arches.length > 0 && !inc.arches.includes(host.arch)) return false;
  if (inc.caps && !inc.caps.every((c) => bounding.has(c))) return false;
  if (inc.minKernel && !kernelAtLeast(host.kernel, inc.minKernel)) return false;
  return true;
}

/**
 * A Docker seccomp profile → OCI `linux.seccomp` for a container with these bounding
 * capabilities; undefined when the profile disables seccomp (no default action and no
 * rules, as Docker reads it).
 */
export function seccompFromProfile(profile: SeccompProfile, bounding: readonly string[], host: SeccompHost): SpecSeccomp | undefined {
  if (typeof profile !== 'object' || profile === null || Array.isArray(profile)) throw bad('the profile must be a JSON object');
  const rules = profile.syscalls ?? [];
  if (!Array.isArray(rules)) throw bad('syscalls must be a list');
  if (!profile.defaultAction && rules.length === 0) return undefined;
  if (typeof profile.defaultAction !== 'string' || profile.defaultAction === '') throw bad('defaultAction is missing');
  const archMap = profile.archMap ?? [];
  if ((profile.architectures ?? []).length > 0 && archMap.length > 0) {
    throw bad("'architectures' and 'archMap' were both specified, use either 'architectures' or 'archMap'");
  }
  if (profile.architectures !== undefined && profile.architectures !== null && !isStrings(profile.architectures)) throw bad('architectures must be a list of strings');
  if (profile.defaultErrnoRet !== undefined && profile.defaultErrnoRet !== null && !isUint(profile.defaultErrnoRet)) throw bad('defaultErrnoRet must be a non-negative integer');
  rules.forEach(checkRule);

  const out: SpecSeccomp = { defaultAction: profile.defaultAction };
  if (profile.defaultErrnoRet !== undefined && profile.defaultErrnoRet !== null) out.defaultErrnoRet = profile.defaultErrnoRet;
  const architectures = [...(profile.architectures ?? [])];
  const native = NATIVE_TO_SCMP[host.arch];
  const mine = archMap.find((a) => a.architecture === native);
  if (mine !== undefined) architectures.push(mine.architecture, ...(mine.subArchitectures ?? []));
  if (architectures.length > 0) out.architectures = architectures;
  if (profile.flags !== undefined && profile.flags.length > 0) out.flags = profile.flags;
  if (profile.listenerPath) out.listenerPath = profile.listenerPath;

  const caps = new Set(bounding);
  out.syscalls = rules
    .filter((r) => applies(r, caps, host))
    .map((r) => {
      const rule: NonNullable<SpecSeccomp['syscalls']>[number] = { names: r.name ? [r.name] : [...(r.names ?? [])], action: r.action };
      if (r.errnoRet !== undefined && r.errnoRet !== null) rule.errnoRet = r.errnoRet;
      if (r.args && r.args.length > 0) {
        rule.args = r.args.map((a) => (a.valueTwo ? { index: a.index, value: a.value, valueTwo: a.valueTwo, op: a.op } : { index: a.index, value: a.value, op: a.op }));
      }
      return rule;
    });
  return out;
}

/** Docker's default seccomp for a container with these bounding capabilities. */
export function defaultSeccomp(bounding: readonly string[], host: SeccompHost): SpecSeccomp {
  return seccompFromProfile(defaultSeccompProfile(), bounding, host)!;
}

/** `--security-opt seccomp=…`'s value: the profile JSON itself, as the Docker CLI sends it. */
export function parseSeccompProfile(json: string, where: string): SeccompProfile {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch (err) {
    throw bad(`${where} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(`${where} must be a JSON object`);
  return v as SeccompProfile;
}
