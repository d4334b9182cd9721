import type { LogSink } from '../common/log.ts';
import { createContainer, type CreateOptions } from './container-create.ts';
import { destroyContainer } from './container-delete.ts';
import { releaseInit, runPoststart, startContainer } from './container-start.ts';
import type { StateStore } from './state-store.ts';

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'] as const;

/**
 * `run`: create + start. In the foreground it forwards signals to the container, waits
 * for it, removes it (unless keep) and returns the exit code the shell would see.
 */
export async function runContainer(
  store: StateStore,
  opts: Omit<CreateOptions, 'mode'> & { detach: boolean; keep: boolean },
  log: LogSink,
): Promise<number> {
  if (opts.detach) {
    const { launch } = await createContainer(store, { ...opts, mode: 'create' });
    launch.detach();
    await startContainer(store, opts.id, log);
    return 0;
  }
  const { rec, launch } = await createContainer(store, { ...opts, mode: 'run' });
  const forward = (sig: NodeJS.Signals) => {
    try {
      process.kill(rec.pid, sig);
    } catch {
      // it has just exited
    }
  };
  for (const sig of FORWARDED) process.on(sig, forward);
  try {
    releaseInit(store, rec);
    await runPoststart(rec, log);
    const status = await launch.exited;
    if (!opts.keep) await destroyContainer(store, rec, { runPoststop: true, log });
    return status.signal !== undefined ? 128 + status.signal : status.code;
  } catch (err) {
    await destroyContainer(store, rec, { runPoststop: true, log });
    throw err;
  } finally {
    for (const sig of FORWARDED) process.off(sig, forward);
  }
}
