import { existsSync, readFileSync } from 'node:fs';
import { HakoError } from '../common/errors.ts';
import { CAP_SETS, capMask } from './capabilities.ts';
import { seccompSteps, type SpecSeccomp } from './seccomp.ts';
import type { SpecLinux, SpecProcess } from './spec-types.ts';
import type { Frame } from './wire.ts';

export const RLIMITS = [
  'RLIMIT_AS', 'RLIMIT_CORE', 'RLIMIT_CPU', 'RLIMIT_DATA', 'RLIMIT_FSIZE', 'RLIMIT_LOCKS',
  'RLIMIT_MEMLOCK', 'RLIMIT_MSGQUEUE', 'RLIMIT_NICE', 'RLIMIT_NOFILE', 'RLIMIT_NPROC',
  'RLIMIT_RSS', 'RLIMIT_RTPRIO', 'RLIMIT_RTTIME', 'RLIMIT_SIGPENDING', 'RLIMIT_STACK',
];

/** The process's steps in two parts: up to `ready`, and after start (just before exec). */
export interface ProcessSteps {
  beforeReady: Frame[];
  beforeExec: Frame[];
  /** things the runtime spec says to warn about rather than fail on */
  warnings: string[];
}

/**
 * Identity and confinement of a container process (init or exec'd), in the order the
 * kernel needs: limits and the bounding set while still privileged; seccomp as late
 * as it can be loaded (with no_new_privs, right before exec; otherwise before the
 * user switch drops CAP_SYS_ADMIN); capabilities after the switch; LSM labels last.
 */
export function processSteps(proc: SpecProcess, linux: SpecLinux, where = 'process'): ProcessSteps {
  const before: Frame[] = [];
  const late: Frame[] = [];
  const warnings: string[] = [];
  before.push(...rlimitSteps(proc.rlimits, where));
  const caps = proc.capabilities;
  let mask = (set: (typeof CAP_SETS)[number]) => capMask(caps?.[set], `config.json: ${where}.capabilities.${set}`);
  if (caps) {
    for (const set of Object.keys(caps)) {
      if (!(CAP_SETS as readonly string[]).includes(set)) throw new HakoError('invalid-config', `config.json: ${where}.capabilities: unknown set "${set}"`);
    }
    for (const set of CAP_SETS) capMask(caps[set], `config.json: ${where}.capabilities.${set}`); // names checked per set
    // A capability the runtime itself lacks cannot be granted: warn and go on without it.
    const held = ownBoundingSet();
    const requested = new Set(CAP_SETS.flatMap((set) => caps[set] ?? []).map((c) => c.toUpperCase()));
    for (const name of requested) {
      const bit = BigInt.asUintN(64, BigInt('0x' + capMask([name], `config.json: ${where}.capabilities`)));
      if ((held & bit) === 0n) warnings.push(`capability ${name} is not available to the runtime on this host; the process runs without it`);
    }
    const full = mask;
    mask = (set) => (BigInt('0x' + full(set)) & held).toString(16);
    before.push(['caps-bounding', mask('bounding')]);
  }
  // chdir (and its check that the cwd is inside the container) before seccomp: a
  // profile may deny getcwd.
  before.push(['chdir', proc.cwd]);
  const seccomp = linux.seccomp ? seccompSteps(linux.seccomp as SpecSeccomp) : [];
  if (!proc.noNewPrivileges) before.push(...seccomp);
  if (proc.noNewPrivileges) before.push(['no-new-privs']);
  before.push(['umask', (proc.user.umask ?? 0o022).toString(8)]);
  before.push(['env', ...(proc.env ?? [])]);
  before.push(['user', String(proc.user.uid), String(proc.user.gid), ...(proc.user.additionalGids ?? []).map(String)]);
  if (caps) before.push(['caps', mask('effective'), mask('permitted'), mask('inheritable'), mask('ambient')]);
  if (proc.apparmorProfile) {
    if (!appArmorEnabled()) {
      throw new HakoError('unsupported', `config.json: ${where}.apparmorProfile "${proc.apparmorProfile}": AppArmor is not enabled on this host`);
    }
    before.push(['apparmor', proc.apparmorProfile]);
  }
  if (proc.selinuxLabel) {
    if (!existsSync('/sys/fs/selinux/enforce')) {
      throw new HakoError('unsupported', `config.json: ${where}.selinuxLabel "${proc.selinuxLabel}": SELinux is not enabled on this host`);
    }
    before.push(['selinux', proc.selinuxLabel]);
  }
  if (proc.noNewPrivileges) late.push(...seccomp);
  return { beforeReady: before, beforeExec: late, warnings };
}

let boundingCache: bigint | undefined;
function ownBoundingSet(): bigint {
  boundingCache ??= BigInt('0x' + (/^CapBnd:\s*([0-9a-f]+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0'));
  return boundingCache;
}

function rlimitSteps(rlimits: SpecProcess['rlimits'], where: string): Frame[] {
  const seen = new Set<string>();
  return (rlimits ?? []).map((r, i) => {
    const w = `config.json: ${where}.rlimits[${i}]`;
    if (!RLIMITS.includes(r.type)) throw new HakoError('invalid-config', `${w}: unknown rlimit "${r.type}"`);
    if (seen.has(r.type)) throw new HakoError('invalid-config', `${w}: ${r.type} appears twice`);
    seen.add(r.type);
    const value = (v: unknown, name: string) => {
      if (typeof v !== 'number' || v < 0 || !Number.isFinite(v)) throw new HakoError('invalid-config', `${w}.${name} must be a non-negative integer`);
      // 2^64-1 (RLIM_INFINITY) is not exact in a JSON number: anything that large is infinity.
      return v >= 2 ** 63 ? '-1' : BigInt(Math.trunc(v)).toString();
    };
    const soft = value(r.soft, 'soft');
    const hard = value(r.hard, 'hard');
    if (hard !== '-1' && (soft === '-1' || BigInt(soft) > BigInt(hard))) {
      throw new HakoError('invalid-config', `${w}: soft limit ${r.soft} is above the hard limit ${r.hard}`);
    }
    return ['rlimit', r.type, soft, hard];
  });
}

function appArmorEnabled(): boolean {
  try {
    return readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').trim() === 'Y';
  } catch {
    return false;
  }
}

const IPC_SYSCTLS = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);

/**
 * linux.sysctl: only keys that belong to a namespace the container owns, so a
 * container can never change the host's kernel settings.
 */
export function sysctlSteps(sysctl: Record<string, string> | undefined, ownsNs: (t: 'ipc' | 'network' | 'uts') => boolean): Frame[] {
  return Object.entries(sysctl ?? {}).map(([key, value]) => {
    const w = `config.json: linux.sysctl "${key}"`;
    if (!/^[a-z0-9_]+(\.[\w-]+)+$/i.test(key) || key.includes('..')) throw new HakoError('invalid-config', `${w}: not a sysctl name`);
    let ns: 'ipc' | 'network' | 'uts' | undefined;
    if (IPC_SYSCTLS.has(key) || key.startsWith('fs.mqueue.')) ns = 'ipc';
    else if (key.startsWith('net.')) ns = 'network';
    else if (key === 'kernel.hostname' || key === 'kernel.domainname') ns = 'uts';
    if (!ns) throw new HakoError('invalid-config', `${w}: not a namespaced sysctl; it would change the host's kernel`);
    if (!ownsNs(ns)) throw new HakoError('invalid-config', `${w}: needs a new ${ns} namespace; otherwise it would change the host's`);
    if (typeof value !== 'string') throw new HakoError('invalid-config', `${w}: value must be a string`);
    return ['sysctl', key, value];
  });
}

/**
 * The console socket, for a process with a terminal: a host path, so it is connected
 * before any namespace is joined. A terminal needs one; a socket needs a terminal.
 */
export function consoleSocketSteps(terminal: boolean | undefined, socket: string | undefined): Frame[] {
  if (terminal && !socket) throw new HakoError('invalid-argument', 'the process has a terminal: --console-socket is required');
  if (!terminal && socket) throw new HakoError('invalid-argument', '--console-socket was given but the process has no terminal');
  return socket ? [['console-socket', socket]] : [];
}
