import { HakoError } from '../common/errors.ts';
import { atomicWriteFile } from '../common/fs.ts';
import type { LogSink } from '../common/log.ts';
import { joinCgroup, returnToOwnCgroup } from './cgroups.ts';
import { Launch } from './executor.ts';
import { JOIN_ORDER, NS_PLAN_NAME } from './plan.ts';
import { consoleSocketSteps, processSteps } from './process-steps.ts';
import { exitCode, forwardSignals } from './signal-forward.ts';
import type { SpecProcess } from './spec-types.ts';
import type { ContainerRecord, StateStore } from './state-store.ts';
import type { Frame } from './wire.ts';

export interface ExecOptions {
  id: string;
  process: SpecProcess;
  consoleSocket?: string | undefined;
  pidFile?: string | undefined;
  detach: boolean;
  ignorePaused: boolean;
  warn?: ((msg: string) => void) | undefined;
}

/**
 * `exec`: a new process in a running container — in every one of its namespaces and
 * its cgroup, confined like the container (its seccomp profile, the process's caps,
 * user and LSM label). Returns the process's exit code (0 when detached).
 */
export async function execInContainer(store: StateStore, opts: ExecOptions, _log: LogSink): Promise<number> {
  const rec = store.load(opts.id);
  const status = store.status(rec);
  if (status === 'stopped') throw new HakoError('invalid-state', `cannot exec in a stopped container`);
  if (status === 'paused' && !opts.ignorePaused) throw new HakoError('invalid-state', 'cannot exec in a paused container (use --ignore-paused to override)');
  const plan = execPlan(rec, opts);
  let executorPid = 0;
  let pid = 0;
  const launch = new Launch(plan, {
    beforePlan: (p) => {
      executorPid = p;
      joinCgroup(rec.cgroup, p); // the clone inherits it: the process never runs outside
    },
    onPid: (p) => {
      pid = p;
      if (!opts.detach) returnToOwnCgroup(executorPid);
    },
    onSync: async (name) => {
      throw new HakoError('launch-failed', `unexpected sync "${name}" from the executor`);
    },
  });
  await launch.ready;
  if (opts.pidFile) atomicWriteFile(opts.pidFile, String(pid));
  if (opts.detach) {
    launch.detach();
    return 0;
  }
  const unforward = forwardSignals(pid);
  try {
    return exitCode(await launch.exited);
  } finally {
    unforward();
  }
}

function execPlan(rec: ContainerRecord, opts: ExecOptions): Frame[] {
  const proc = opts.process;
  const linux = rec.spec.linux ?? {};
  const plan: Frame[] = [];
  plan.push(...consoleSocketSteps(proc.terminal, opts.consoleSocket));
  for (const type of JOIN_ORDER) {
    const ns = linux.namespaces?.find((n) => n.type === type);
    if (!ns) continue;
    plan.push(['join', NS_PLAN_NAME[type], ns.path ?? `/proc/${rec.pid}/ns/${NS_PLAN_NAME[type]}`]);
  }
  plan.push(['mode', opts.detach ? 'create' : 'run']);
  plan.push(['clone']);
  if (proc.terminal) plan.push(['setsid'], ['console', 'exec']);
  const steps = processSteps(proc, linux);
  steps.warnings.forEach((w) => opts.warn?.(w));
  plan.push(...steps.beforeReady, ['ready'], ...steps.beforeExec, ['exec', ...proc.args!], ['end']);
  return plan;
}
