import { parseVerb } from '../args.ts';
import { HakoError } from '../../common/errors.ts';
import { inspectContainer } from '../../engine/containers/inspect.ts';
import { inspectEach, type ContainerGlobals } from './index.ts';

/** `inspect [-f FORMAT] [--type container|image|volume] NAME...`: containers first, then images, as Docker. */
export default async function inspect(args: string[], g: ContainerGlobals): Promise<number> {
  const { values: o, positionals } = parseVerb(
    'inspect',
    args,
    { format: { type: 'string', short: 'f' }, type: { type: 'string' }, size: { type: 'boolean', short: 's' } },
    { min: 1, max: Infinity, usage: 'hako inspect [OPTIONS] NAME|ID [NAME|ID...]' },
  );
  return inspectEach(positionals, (ref) => inspectOne(g, ref, o.type), o.format);
}

async function inspectOne(g: ContainerGlobals, ref: string, type: string | undefined): Promise<unknown> {
  if (type === undefined || type === 'container') {
    try {
      return await inspectContainer(g.eng, g.eng.resolve(ref));
    } catch (e) {
      if (type === 'container' || !(e instanceof HakoError && e.code === 'not-found')) throw e;
    }
  }
  if (type === undefined || type === 'image') {
    const { inspectImage } = await import('../../engine/image-list.ts');
    try {
      return inspectImage(g.eng.images, ref);
    } catch (e) {
      if (type === 'image' || !(e instanceof HakoError && e.code === 'not-found')) throw e;
    }
  }
  if (type === undefined || type === 'volume') {
    const { volumeView } = await import('./volume.ts');
    const v = g.eng.meta.getVolume(ref);
    if (v) return volumeView(g.eng, ref);
  }
  throw new HakoError('not-found', `No such object: ${ref}`);
}
