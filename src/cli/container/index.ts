import { HakoError } from '../../common/errors.ts';
import { ContainerEngine } from '../../engine/containers/engine.ts';
import { reconcileNetworks } from '../../engine/containers/network.ts';
import { dataRoot } from '../../engine/store-paths.ts';
import { errorText } from '../image/index.ts';
import { err, out } from '../output.ts';
import { compileFormat } from '../docker-args.ts';

export interface ContainerGlobals {
  eng: ContainerEngine;
}

export type ContainerCommand = (args: string[], g: ContainerGlobals) => Promise<number>;

const COMMANDS: Record<string, () => Promise<{ default: ContainerCommand }>> = {
  run: () => import('./run.ts'),
  create: () => import('./create.ts'),
  start: () => import('./start.ts'),
  stop: () => import('./stop.ts'),
  restart: () => import('./restart.ts'),
  kill: () => import('./kill.ts'),
  rm: () => import('./rm.ts'),
  ps: () => import('./ps.ts'),
  logs: () => import('./logs.ts'),
  exec: () => import('./exec.ts'),
  attach: () => import('./attach.ts'),
  wait: () => import('./wait.ts'),
  top: () => import('./top.ts'),
  stats: () => import('./stats.ts'),
  cp: () => import('./cp.ts'),
  inspect: () => import('./inspect.ts'),
  rename: () => import('./rename.ts'),
  pause: () => import('./pause.ts'),
  unpause: () => import('./unpause.ts'),
  update: () => import('./update.ts'),
  diff: () => import('./diff.ts'),
  commit: () => import('./commit.ts'),
  export: () => import('./export.ts'),
  prune: () => import('./prune.ts'),
  volume: () => import('./volume.ts'),
  __relaunch: () => import('./internal.ts').then((m) => ({ default: m.relaunch })),
  __healthcheck: () => import('./internal.ts').then((m) => ({ default: m.healthcheck })),
  __netdown: () => import('./internal.ts').then((m) => ({ default: m.netdown })),
  network: () => import('./network.ts'),
  port: () => import('./port.ts'),
};

const CONTAINER_SUBCOMMANDS: Record<string, string> = {
  ls: 'ps',
  list: 'ps',
  ps: 'ps',
  remove: 'rm',
};

const CONTAINER_USAGE = `Usage: hako container COMMAND

Manage containers

Commands:
  attach, commit, cp, create, diff, exec, export, inspect, kill, logs, ls, pause,
  port, prune, rename, restart, rm, run, start, stats, stop, top, unpause, update, wait
`;

export const CONTAINER_COMMANDS = new Set(Object.keys(COMMANDS).filter((c) => c !== 'prune'));

/** Runs a container (or volume) command: CMD is a top-level name, or "container" with a subcommand. */
export async function main(cmd: string, args: string[], dataRootFlag: string | undefined): Promise<number> {
  let name = cmd;
  if (cmd === 'container') {
    const sub = args[0];
    if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
      out(CONTAINER_USAGE);
      return sub === undefined ? 1 : 0;
    }
    name = CONTAINER_SUBCOMMANDS[sub] ?? sub;
    if (!COMMANDS[name] || name === 'volume' || name === 'network' || name.startsWith('__')) {
      err(`hako: 'container ${sub}' is not a hako command.\nSee 'hako container --help'\n`);
      return 1;
    }
    args = args.slice(1);
  }
  const load = COMMANDS[name];
  if (!load) {
    err(`hako: '${cmd}' is not a hako command.\nSee 'hako --help'\n`);
    return 1;
  }
  let eng: ContainerEngine | undefined;
  try {
    const mod = await load();
    eng = new ContainerEngine(dataRoot(dataRootFlag));
    // Daemonless: what a container that exited unwatched (or a crash) left of its network is cleaned up by the next command.
    if (!name.startsWith('__') && name !== 'volume') await reconcileNetworks(eng);
    return await mod.default(args, { eng });
  } catch (e) {
    err(`hako: ${errorText(e)}\n`);
    return e instanceof HakoError && e.code === 'invalid-argument' && /^(unknown|flag|invalid argument)/.test(e.message) ? 125 : 1;
  } finally {
    eng?.close();
  }
}

/** Runs fn for each container named; errors are printed per container and make the status 1 (Docker's way). */
export async function eachContainer(g: ContainerGlobals, refs: string[], fn: (ref: string) => Promise<string | void>): Promise<number> {
  let status = 0;
  for (const ref of refs) {
    try {
      const line = await fn(ref);
      if (line !== undefined) out(`${line}\n`);
    } catch (e) {
      err(`hako: ${errorText(e)}\n`);
      status = 1;
    }
  }
  return status;
}

/**
 * Docker's inspect output for each ref: a JSON array, or one line per object with -f.
 * A ref that fails is reported on stderr and makes the status 1; the others still print.
 */
export async function inspectEach(refs: string[], view: (ref: string) => unknown, format: string | undefined): Promise<number> {
  const found: unknown[] = [];
  let status = 0;
  for (const ref of refs) {
    try {
      found.push(await view(ref));
    } catch (e) {
      err(`hako: ${errorText(e)}\n`);
      status = 1;
    }
  }
  if (format) {
    const { render } = compileFormat(format);
    out(found.map((f) => `${render(f)}\n`).join(''));
  } else out(`${JSON.stringify(found, null, 4)}\n`);
  return status;
}
