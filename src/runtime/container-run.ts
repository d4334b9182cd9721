import type { LogSink } from '../common/log.ts';
import { createContainer, type CreateOptions } from './container-create.ts';
import { destroyContainer } from './container-delete.ts';
import { releaseInit, runPoststart, startContainer } from './container-start.ts';
import { exitCode, forwardSignals } from './signal-forward.ts';
import type { StateStore } from './state-store.ts';

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
  const unforward = forwardSignals(rec.pid);
  try {
    releaseInit(store, rec);
    await runPoststart(rec, log);
    const status = await launch.exited;
    if (!opts.keep) await destroyContainer(store, rec, { runPoststop: true, log });
    return exitCode(status);
  } catch (err) {
    await destroyContainer(store, rec, { runPoststop: true, log });
    throw err;
  } finally {
    unforward();
  }
}
