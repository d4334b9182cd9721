import { parseVerb } from '../args.ts';
import type { ContainerGlobals } from './index.ts';
import { relayAttached } from './relay.ts';

/** `attach [--no-stdin] [--sig-proxy=false] CONTAINER` */
export default async function attach(args: string[], g: ContainerGlobals): Promise<number> {
  const { values: o, positionals } = parseVerb(
    'attach',
    args,
    { 'no-stdin': { type: 'boolean' }, 'sig-proxy': { type: 'string' }, 'detach-keys': { type: 'string' } },
    { min: 1, max: 1, usage: 'hako attach [OPTIONS] CONTAINER' },
  );
  const c = g.eng.resolve(positionals[0]!);
  return relayAttached(g.eng, c, { stdin: !o['no-stdin'] && c.settings.Config.OpenStdin, start: false, sigProxy: o['sig-proxy'] !== 'false' });
}
