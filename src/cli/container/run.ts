import { HakoError } from '../../common/errors.ts';
import { removeContainer } from '../../engine/containers/lifecycle.ts';
import { startContainer, startFailureStatus } from '../../engine/containers/start.ts';
import { err, out } from '../output.ts';
import { errorText } from '../image/index.ts';
import { createFromFlags } from './create.ts';
import type { ContainerGlobals } from './index.ts';
import { relayAttached } from './relay.ts';
import { parseRunFlags, runHelp, RUN_USAGE } from './run-flags.ts';
import { withHelpHint } from '../docker-flags.ts';

/**
 * `run`: create + start. Detached, it prints the id and leaves the container to its
 * monitor; in the foreground it relays the container's stdio and exits with its code.
 * A container that cannot start exits 125 (127: command not found, 126: not executable),
 * as Docker.
 */
export default async function run(args: string[], g: ContainerGlobals): Promise<number> {
  let flags;
  try {
    flags = parseRunFlags(args, 'run');
  } catch (e) {
    err(`hako: ${errorText(withHelpHint(e, 'hako run', RUN_USAGE.run))}\n`);
    return 125;
  }
  if (flags.help) {
    out(runHelp('run'));
    return 0;
  }
  let c;
  try {
    c = await createFromFlags(g, flags);
  } catch (e) {
    err(`hako: ${errorText(e)}\n`);
    return 125;
  }
  const warn = (m: string) => err(`WARNING: ${m}\n`);
  const autoRemove = c.settings.HostConfig.AutoRemove;
  try {
    if (flags.detach) {
      const started = await startContainer(g.eng, c, { warn });
      started?.monitor.release();
      out(`${c.id}\n`);
      return 0;
    }
    return await relayAttached(g.eng, c, {
      stdin: flags.attach.includes('stdin'),
      start: true,
      remove: autoRemove,
      sigProxy: flags.sigProxy,
      streams: { stdout: flags.attach.includes('stdout'), stderr: flags.attach.includes('stderr') },
      warn,
    });
  } catch (e) {
    err(`hako: ${errorText(e)}\n`);
    if (autoRemove) await removeContainer(g.eng, c, { force: true, volumes: true }).catch(() => {});
    return e instanceof HakoError ? startFailureStatus(e) : 125;
  }
}
