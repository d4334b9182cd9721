import { parseVerb } from '../args.ts';
import { stopContainer } from '../../engine/containers/lifecycle.ts';
import { startContainer } from '../../engine/containers/start.ts';
import { eachContainer, type ContainerGlobals } from './index.ts';
import { parseTimeout } from './stop.ts';

/** `restart [-t N] CONTAINER...`: stop (if running), then start. */
export default async function restart(args: string[], g: ContainerGlobals): Promise<number> {
  const { values: o, positionals } = parseVerb(
    'restart',
    args,
    { time: { type: 'string', short: 't' }, timeout: { type: 'string' }, signal: { type: 'string', short: 's' } },
    { min: 1, max: Infinity, usage: 'hako restart [OPTIONS] CONTAINER [CONTAINER...]' },
  );
  const t = o.time ?? o.timeout;
  return eachContainer(g, positionals, async (ref) => {
    const c = g.eng.resolve(ref);
    await stopContainer(g.eng, c, { timeout: t === undefined ? undefined : parseTimeout(t), signal: o.signal });
    const started = await startContainer(g.eng, c);
    started?.monitor.release();
    return ref;
  });
}
