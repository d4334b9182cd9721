import { relaunchContainer } from '../../engine/containers/relaunch.ts';
import { runHealthcheck } from '../../engine/containers/healthcheck.ts';
import type { ContainerGlobals } from './index.ts';
import { detachNetworks, withStartLock } from '../../engine/containers/network.ts';

/** `hako __relaunch ID`: the monitor's restart (see engine/containers/relaunch.ts). */
export async function relaunch(args: string[], g: ContainerGlobals): Promise<number> {
  await relaunchContainer(g.eng, args[0] ?? '');
  return 0;
}

/** `hako __healthcheck ID`: one health probe, run by the monitor's tick. */
export async function healthcheck(args: string[], g: ContainerGlobals): Promise<number> {
  await runHealthcheck(g.eng, g.eng.resolve(args[0] ?? ''));
  return 0;
}

/** `hako __netdown ID`: the monitor's last act when a container stopped for good: its networks go. */
export async function netdown(args: string[], g: ContainerGlobals): Promise<number> {
  const c = g.eng.get(args[0] ?? '');
  if (!c) return 0;
  await withStartLock(g.eng, c.id, async () => {
    const st = g.eng.state(c);
    if (!st.Running && !st.Restarting && !st.Paused) await detachNetworks(g.eng, c); // not started again meanwhile
  });
  return 0;
}
