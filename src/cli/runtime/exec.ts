import { readFileSync } from 'node:fs';
import { HakoError } from '../../common/errors.ts';
import { execInContainer } from '../../runtime/container-exec.ts';
import { validateProcess } from '../../runtime/spec-load.ts';
import type { SpecProcess } from '../../runtime/spec-types.ts';
import { parseVerb } from '../args.ts';
import type { RuntimeGlobals } from './index.ts';

const OPTIONS = {
  'console-socket': { type: 'string' },
  cwd: { type: 'string' },
  env: { type: 'string', short: 'e', multiple: true },
  tty: { type: 'boolean', short: 't' },
  user: { type: 'string', short: 'u' },
  'additional-gids': { type: 'string', short: 'g', multiple: true },
  process: { type: 'string', short: 'p' },
  detach: { type: 'boolean', short: 'd' },
  'pid-file': { type: 'string' },
  'process-label': { type: 'string' },
  apparmor: { type: 'string' },
  'no-new-privs': { type: 'boolean' },
  cap: { type: 'string', short: 'c', multiple: true },
  'preserve-fds': { type: 'string' },
  cgroup: { type: 'string' },
  'ignore-paused': { type: 'boolean' },
} as const;

const USAGE = 'exec [options] CONTAINER_ID COMMAND [ARGS...]  or  exec --process FILE [options] CONTAINER_ID';

export default async function exec(args: string[], g: RuntimeGlobals): Promise<number> {
  const [flags, rest] = splitAtCommand(args);
  const { values, positionals } = parseVerb('exec', flags, OPTIONS, { min: 0, max: 0, usage: USAGE });
  void positionals;
  const [id, ...command] = rest;
  if (!id) throw new HakoError('invalid-argument', `"exec" requires a container id\nUsage: ${USAGE}`);
  if (values['preserve-fds'] !== undefined && values['preserve-fds'] !== '0') throw new HakoError('unsupported', '--preserve-fds is not supported yet');
  if (values.cgroup !== undefined) throw new HakoError('unsupported', '--cgroup is not supported yet: exec joins the container\'s cgroup');
  const process = values.process ? readProcessFile(values.process) : fromFlags(g, id, command, values);
  if (values.tty) process.terminal = true;
  return execInContainer(
    g.store,
    { id, process, consoleSocket: values['console-socket'], pidFile: values['pid-file'], detach: !!values.detach, ignorePaused: !!values['ignore-paused'], warn: g.warn },
    g.log,
  );
}

/** Flags stop at the first argument that is not one (urfave/cli's rule, which runc follows). */
function splitAtCommand(args: string[]): [string[], string[]] {
  const valued = new Set(Object.entries(OPTIONS).flatMap(([name, o]) => (o.type === 'string' ? [`--${name}`, `-${name}`, ...('short' in o ? [`-${o.short}`] : [])] : [])));
  let i = 0;
  while (i < args.length) {
    const a = args[i]!;
    if (a === '--') return [args.slice(0, i), args.slice(i + 1)];
    if (!a.startsWith('-') || a === '-') break;
    i += valued.has(a) ? 2 : 1;
  }
  return [args.slice(0, i), args.slice(i)];
}

function readProcessFile(path: string): SpecProcess {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new HakoError('invalid-argument', `--process ${path}: ${(err as Error).message}`);
  }
  try {
    validateProcess(raw);
  } catch (err) {
    throw new HakoError('invalid-argument', `--process ${path}: ${(err as Error).message.replace(/^config\.json: /, '')}`);
  }
  return raw as SpecProcess;
}

type Values = ReturnType<typeof parseVerb<typeof OPTIONS>>['values'];

/** Without --process: the container's own process, with the flags' changes (as runc). */
function fromFlags(g: RuntimeGlobals, id: string, command: string[], v: Values): SpecProcess {
  if (command.length === 0) throw new HakoError('invalid-argument', `"exec" requires a command to run\nUsage: ${USAGE}`);
  const base = structuredClone(g.store.load(id).spec.process);
  if (!base) throw new HakoError('invalid-config', `container "${id}" has no process in its config`);
  const proc: SpecProcess = { ...base, args: command, terminal: !!v.tty };
  if (v.cwd) proc.cwd = v.cwd;
  for (const e of v.env ?? []) {
    if (!e.includes('=')) throw new HakoError('invalid-argument', `--env "${e}": expected KEY=VALUE`);
    const key = e.slice(0, e.indexOf('=') + 1);
    proc.env = [...(proc.env ?? []).filter((x) => !x.startsWith(key)), e];
  }
  if (v.user) {
    const m = /^(\d+)(?::(\d+))?$/.exec(v.user);
    if (!m) throw new HakoError('invalid-argument', `--user "${v.user}": expected UID[:GID] (numbers)`);
    proc.user = { ...proc.user, uid: Number(m[1]), gid: m[2] !== undefined ? Number(m[2]) : proc.user.gid };
  }
  if (v['additional-gids']?.length) {
    proc.user = { ...proc.user, additionalGids: v['additional-gids'].map((x) => {
      if (!/^\d+$/.test(x)) throw new HakoError('invalid-argument', `--additional-gids "${x}": not a number`);
      return Number(x);
    }) };
  }
  if (v.cap?.length) {
    const caps = { ...(proc.capabilities ?? {}) };
    for (const set of ['bounding', 'effective', 'permitted'] as const) caps[set] = [...new Set([...(caps[set] ?? []), ...v.cap])];
    proc.capabilities = caps;
  }
  if (v['no-new-privs']) proc.noNewPrivileges = true;
  if (v.apparmor) proc.apparmorProfile = v.apparmor;
  if (v['process-label']) proc.selinuxLabel = v['process-label'];
  return proc;
}
