import { readFileSync } from 'node:fs';
import { isErrno } from '../../common/errors.ts';
import { isAlive } from '../../common/process-info.ts';
import type { StateStore } from '../../runtime/state-store.ts';
import { containerFiles, type Container } from './record.ts';

/** monitor.state as native/build/hako-monitor writes it (native/MONITOR.md). */
export interface MonitorState {
  monitorPid: number;
  monitorStart: string;
  status: 'created' | 'running' | 'restarting' | 'exited' | 'failed';
  pid: number;
  startedAt: string;
  finishedAt: string;
  exitCode: number;
  restartCount: number;
  error: string;
}

export const ZERO_TIME = '0001-01-01T00:00:00Z';

export function readMonitorState(file: string): MonitorState | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
  const kv = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) kv.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return {
    monitorPid: Number(kv.get('monitor_pid') ?? 0),
    monitorStart: kv.get('monitor_start') ?? '',
    status: (kv.get('status') ?? 'created') as MonitorState['status'],
    pid: Number(kv.get('pid') ?? 0),
    startedAt: kv.get('started_at') ?? '',
    finishedAt: kv.get('finished_at') ?? '',
    exitCode: Number(kv.get('exit_code') ?? 0),
    restartCount: Number(kv.get('restart_count') ?? 0),
    error: kv.get('error') ?? '',
  };
}

export function monitorAlive(m: MonitorState | undefined): boolean {
  return !!m && m.monitorPid > 0 && isAlive(m.monitorPid, m.monitorStart);
}

/** Docker's State object. */
export interface DockerState {
  Status: 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  Health?: unknown;
  /** not Docker's: how often the monitor restarted it */
  restartCount: number;
}

/**
 * The container's state, from what the monitor last wrote and whether its processes
 * live: nothing here is cached, so a container whose monitor was killed (or a host that
 * rebooted) reads as exited, never as running forever.
 */
export function containerState(c: Container, dir: string, runtime: StateStore): DockerState {
  const m = readMonitorState(containerFiles(dir, c.id).monitorState);
  const base: DockerState = {
    Status: 'created',
    Running: false,
    Paused: false,
    Restarting: false,
    OOMKilled: false,
    Dead: false,
    Pid: 0,
    ExitCode: 0,
    Error: '',
    StartedAt: ZERO_TIME,
    FinishedAt: ZERO_TIME,
    restartCount: m?.restartCount ?? 0,
  };
  if (!m) return base;
  base.StartedAt = m.startedAt || ZERO_TIME;
  base.FinishedAt = m.finishedAt || ZERO_TIME;
  base.ExitCode = m.exitCode;
  base.Error = m.error;
  switch (m.status) {
    case 'failed':
    case 'created': // a start in progress, or one that failed: Docker says "created"
      return base;
    case 'restarting':
      return monitorAlive(m) ? { ...base, Status: 'restarting', Restarting: true } : { ...base, Status: 'exited' };
    case 'exited':
      return { ...base, Status: 'exited' };
  }
  const rt = runtime.exists(c.id) ? runtime.status(runtime.load(c.id)) : 'stopped';
  if (rt === 'running' || rt === 'paused' || monitorAlive(m)) {
    // (init gone but the monitor alive: it is about to record the exit)
    return { ...base, Status: rt === 'paused' ? 'paused' : 'running', Running: true, Paused: rt === 'paused', Pid: m.pid, ExitCode: 0, FinishedAt: ZERO_TIME };
  }
  // Neither the container nor its monitor lives, and no exit was recorded: the monitor
  // was killed, or the host rebooted. Docker reports such a container as exited (255).
  return { ...base, Status: 'exited', ExitCode: 255, FinishedAt: base.StartedAt };
}
