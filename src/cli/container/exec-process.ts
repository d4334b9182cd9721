import { readFileSync } from 'node:fs';
import { HakoError } from '../../common/errors.ts';
import { resolveUser } from '../../image/passwd.ts';
import type { Spec, SpecProcess } from '../../runtime/spec-types.ts';
import type { ContainerEngine } from '../../engine/containers/engine.ts';
import type { Container } from '../../engine/containers/record.ts';

export interface ExecRequest {
  cmd: string[];
  env?: string[];
  user?: string;
  workdir?: string;
  tty?: boolean;
  privileged?: boolean;
}

/**
 * An exec'd process starts as a copy of the container's own (its env, user, caps,
 * rlimits, seccomp placement) with Docker's exec flags on top.
 */
export function execProcess(eng: ContainerEngine, c: Container, req: ExecRequest): SpecProcess {
  const spec = JSON.parse(readFileSync(eng.files(c.id).bundleConfig, 'utf8')) as Spec;
  const base = spec.process!;
  const env = [...(base.env ?? [])];
  for (const kv of req.env ?? []) {
    const key = kv.split('=')[0]!;
    const i = env.findIndex((e) => e.split('=')[0] === key);
    if (i >= 0) env[i] = kv;
    else env.push(kv);
  }
  const proc: SpecProcess = { ...base, args: req.cmd, env, terminal: !!req.tty };
  if (req.tty && !env.some((e) => e.startsWith('TERM='))) env.push('TERM=xterm');
  if (req.workdir) {
    if (!req.workdir.startsWith('/')) throw new HakoError('invalid-argument', `the working directory '${req.workdir}' is invalid, it needs to be an absolute path`);
    proc.cwd = req.workdir;
  }
  if (req.user) {
    const u = resolveUser(spec.root!.path, req.user);
    proc.user = { uid: u.uid, gid: u.gid, additionalGids: u.additionalGids };
  }
  if (req.privileged && proc.capabilities) {
    const all = spec.process?.capabilities?.bounding ?? [];
    proc.capabilities = { bounding: all, effective: all, permitted: all, inheritable: [], ambient: [] };
  }
  delete proc.consoleSize;
  return proc;
}
