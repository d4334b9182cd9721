import { parseVerb } from '../args.ts';
import { containerChanges } from '../../image/layer-diff.ts';
import { out } from '../output.ts';
import type { ContainerGlobals } from './index.ts';

const KIND = ['C', 'A', 'D'];

/** `diff CONTAINER`: A/C/D lines, as Docker. */
export default async function diff(args: string[], g: ContainerGlobals): Promise<number> {
  const { positionals } = parseVerb('diff', args, {}, { min: 1, max: 1, usage: 'hako diff CONTAINER' });
  const c = g.eng.resolve(positionals[0]!);
  const snaps = g.eng.images.snapshots;
  const layer = await snaps.containerLayer(c.id);
  const lowers = await snaps.lowerDirs(g.eng.meta.layersOf(c.imageId).map((l) => l.chainId));
  const changes = await containerChanges(layer, lowers);
  out(changes.map((ch) => `${KIND[ch.Kind]} ${ch.Path}\n`).join(''));
  return 0;
}
