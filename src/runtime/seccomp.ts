import { HakoError } from '../common/errors.ts';
import type { Frame } from './wire.ts';

/** The OCI `linux.seccomp` object. */
export interface SpecSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  flags?: string[];
  listenerPath?: string;
  syscalls?: { names: string[]; action: string; errnoRet?: number; args?: SeccompArg[] }[];
}
interface SeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: string;
}

const ACTIONS: Record<string, string> = {
  SCMP_ACT_KILL: 'kill',
  SCMP_ACT_KILL_THREAD: 'kill-thread',
  SCMP_ACT_KILL_PROCESS: 'kill-process',
  SCMP_ACT_TRAP: 'trap',
  SCMP_ACT_ERRNO: 'errno',
  SCMP_ACT_TRACE: 'trace',
  SCMP_ACT_ALLOW: 'allow',
  SCMP_ACT_LOG: 'log',
};
const OPERATORS: Record<string, string> = {
  SCMP_CMP_NE: 'ne',
  SCMP_CMP_LT: 'lt',
  SCMP_CMP_LE: 'le',
  SCMP_CMP_EQ: 'eq',
  SCMP_CMP_GE: 'ge',
  SCMP_CMP_GT: 'gt',
  SCMP_CMP_MASKED_EQ: 'masked-eq',
};
const ARCHES: Record<string, string> = {
  SCMP_ARCH_X86: 'x86',
  SCMP_ARCH_X86_64: 'x86_64',
  SCMP_ARCH_X32: 'x32',
  SCMP_ARCH_ARM: 'arm',
  SCMP_ARCH_AARCH64: 'aarch64',
  SCMP_ARCH_MIPS: 'mips',
  SCMP_ARCH_MIPS64: 'mips64',
  SCMP_ARCH_MIPS64N32: 'mips64n32',
  SCMP_ARCH_MIPSEL: 'mipsel',
  SCMP_ARCH_MIPSEL64: 'mipsel64',
  SCMP_ARCH_MIPSEL64N32: 'mipsel64n32',
  SCMP_ARCH_PPC: 'ppc',
  SCMP_ARCH_PPC64: 'ppc64',
  SCMP_ARCH_PPC64LE: 'ppc64le',
  SCMP_ARCH_S390: 's390',
  SCMP_ARCH_S390X: 's390x',
  SCMP_ARCH_RISCV64: 'riscv64',
};
const FLAGS: Record<string, string> = {
  SECCOMP_FILTER_FLAG_TSYNC: 'tsync',
  SECCOMP_FILTER_FLAG_LOG: 'log',
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 'spec-allow',
};
const EPERM = 1;

function lookup(table: Record<string, string>, key: unknown, where: string, what: string): string {
  const v = typeof key === 'string' ? table[key] : undefined;
  if (!v) {
    if (key === 'SCMP_ACT_NOTIFY') throw new HakoError('unsupported', `${where}: SCMP_ACT_NOTIFY (seccomp user notification) is not supported by hako yet`);
    throw new HakoError('invalid-config', `${where}: unknown ${what} ${JSON.stringify(key)}`);
  }
  return v;
}

const u64 = (n: unknown, where: string): string => {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new HakoError('invalid-config', `${where} must be a non-negative integer`);
  return BigInt(n).toString();
};

/**
 * Compiles linux.seccomp into the executor's seccomp steps, ending with `seccomp-load`.
 * As runc: a syscall entry whose args name the same index twice becomes one rule per
 * arg (libseccomp refuses two conditions on one argument in a rule).
 */
export function seccompSteps(sc: SpecSeccomp): Frame[] {
  const w = 'config.json: linux.seccomp';
  if (typeof sc !== 'object' || sc === null) throw new HakoError('invalid-config', `${w} must be an object`);
  if (sc.listenerPath) throw new HakoError('unsupported', `${w}.listenerPath: seccomp user notification is not supported by hako yet`);
  const defaultAction = lookup(ACTIONS, sc.defaultAction, `${w}.defaultAction`, 'action');
  const defaultErrno = sc.defaultErrnoRet ?? EPERM;
  const steps: Frame[] = [['seccomp', defaultAction, u64(defaultErrno, `${w}.defaultErrnoRet`)]];
  for (const [i, a] of (sc.architectures ?? []).entries()) steps.push(['seccomp-arch', lookup(ARCHES, a, `${w}.architectures[${i}]`, 'architecture')]);
  for (const [i, f] of (sc.flags ?? []).entries()) steps.push(['seccomp-flag', lookup(FLAGS, f, `${w}.flags[${i}]`, 'flag')]);
  for (const [i, entry] of (sc.syscalls ?? []).entries()) {
    const where = `${w}.syscalls[${i}]`;
    if (!Array.isArray(entry.names) || entry.names.some((n) => typeof n !== 'string' || !n)) {
      throw new HakoError('invalid-config', `${where}.names must be a list of syscall names`);
    }
    const action = lookup(ACTIONS, entry.action, `${where}.action`, 'action');
    const errno = u64(entry.errnoRet ?? EPERM, `${where}.errnoRet`);
    const args = (entry.args ?? []).map((a, j) => {
      const aw = `${where}.args[${j}]`;
      if (!Number.isInteger(a.index) || a.index < 0 || a.index > 5) throw new HakoError('invalid-config', `${aw}.index must be 0 to 5`);
      return [String(a.index), lookup(OPERATORS, a.op, `${aw}.op`, 'operator'), u64(a.value, `${aw}.value`), u64(a.valueTwo ?? 0, `${aw}.valueTwo`)];
    });
    const indexes = args.map((a) => a[0]);
    const groups = new Set(indexes).size === indexes.length ? [args.flat()] : args;
    for (const name of entry.names) for (const g of groups) steps.push(['seccomp-rule', action, errno, name, ...g]);
  }
  steps.push(['seccomp-load']);
  return steps;
}
