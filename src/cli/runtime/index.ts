import { HakoError } from '../../common/errors.ts';
import { createLog, type LogSink } from '../../common/log.ts';
import { DEFAULT_ROOT, StateStore } from '../../runtime/state-store.ts';
import { err, out } from '../output.ts';

/** Global flags, as runc takes them before the verb. */
export interface RuntimeGlobals {
  store: StateStore;
  log: LogSink;
  /** a warning for the log and stderr (the runtime spec's "log a warning") */
  warn: (msg: string) => void;
}

type Verb = (args: string[], g: RuntimeGlobals) => Promise<number>;

const VERBS: Record<string, () => Promise<{ default: Verb }>> = {
  create: () => import('./create.ts'),
  start: () => import('./start.ts'),
  run: () => import('./run.ts'),
  state: () => import('./state.ts'),
  kill: () => import('./kill.ts'),
  delete: () => import('./delete.ts'),
  list: () => import('./list.ts'),
  spec: () => import('./spec.ts'),
  pause: () => import('./pause.ts'),
  resume: () => import('./resume.ts'),
  update: () => import('./update.ts'),
  events: () => import('./events.ts'),
  ps: () => import('./ps.ts'),
  features: () => import('./features.ts'),
  exec: () => import('./exec.ts'),
};

const USAGE = `Usage: hako runtime [global options] COMMAND [options] ARGS

The OCI runtime, with runc's command-line contract.

Commands:
  create   create a container from a bundle; its process waits for "start"
  start    run the user-defined process of a created container
  run      create and start a container (in the foreground unless --detach)
  state    print the state of a container as JSON
  kill     send a signal to a container's init (--all: to every process)
  delete   delete a container and everything it holds (--force: even if running)
  list     list containers (--format table|json, --quiet)
  spec     write a new config.json
  pause    freeze every process of a container
  resume   thaw a paused container
  update   change a running container's resource limits (flags or --resources JSON)
  events   stream stats and OOM events as JSON lines (--stats: one stats object)
  ps       list the processes of a container (--format json: their pids)
  features print what this runtime supports, as JSON
  exec     run a new process in a running container

Global options:
  --root DIR          state directory (default ${DEFAULT_ROOT})
  --log FILE          log file; errors are also written there
  --log-format FMT    text or json
  --debug             accepted for compatibility
`;

const VALUE_FLAGS = new Set(['root', 'log', 'log-format', 'criu', 'rootless']);
const BOOL_FLAGS = new Set(['debug', 'systemd-cgroup', 'help', 'version']);

export async function main(argv: string[], prog: string): Promise<number> {
  let root = DEFAULT_ROOT;
  let logPath: string | undefined;
  let logFormat: 'text' | 'json' = 'text';
  let i = 0;
  const flags: Record<string, string | true> = {};
  while (i < argv.length && argv[i]!.startsWith('-')) {
    const m = /^--?([\w-]+)(?:=(.*))?$/.exec(argv[i]!);
    const name = m?.[1] ?? '';
    if (BOOL_FLAGS.has(name)) flags[name] = m?.[2] ?? true;
    else if (VALUE_FLAGS.has(name)) {
      const value = m?.[2] ?? argv[++i];
      if (value === undefined) return usageError(prog, `flag --${name} needs a value`);
      flags[name] = value;
    } else return usageError(prog, `unknown global flag ${argv[i]}`);
    i++;
  }
  if (typeof flags['root'] === 'string') root = flags['root'];
  if (typeof flags['log'] === 'string') logPath = flags['log'];
  if (flags['log-format'] === 'json' || flags['log-format'] === 'text') logFormat = flags['log-format'];
  else if (flags['log-format'] !== undefined) return usageError(prog, `unknown log format "${String(flags['log-format'])}" (text or json)`);
  // From here on errors also go to --log: containerd shows the log's last error line,
  // and without this it would show an older, unrelated one.
  const log = createLog(logPath, logFormat);
  if (flags['systemd-cgroup'] && flags['systemd-cgroup'] !== 'false') {
    return usageError(prog, '--systemd-cgroup is not supported: hako manages cgroupfs paths', log);
  }
  if (flags['version']) {
    out(`${prog} version 0.1.0\nspec: 1.2.0\n`);
    return 0;
  }
  const verb = argv[i];
  if (flags['help'] || verb === undefined || verb === 'help') {
    out(USAGE);
    return verb === undefined && !flags['help'] ? 1 : 0;
  }
  const load = VERBS[verb];
  if (!load) return usageError(prog, `unknown command "${verb}" (see --help)`, log);
  try {
    const mod = await load();
    const warn = (msg: string) => {
      log.warn(msg);
      err(`${prog}: warning: ${msg}\n`);
    };
    return await mod.default(argv.slice(i + 1), { store: new StateStore(root), log, warn });
  } catch (e) {
    const msg = e instanceof HakoError ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e);
    log.error(msg);
    err(`${prog}: ${msg}\n`);
    return 1;
  }
}

function usageError(prog: string, msg: string, log?: LogSink): number {
  log?.error(msg);
  err(`${prog}: ${msg}\n`);
  return 1;
}
