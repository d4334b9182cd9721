import { parseVerb } from '../args.ts';
import { HakoError } from '../../common/errors.ts';
import { formatReference, parseReference } from '../../engine/reference.ts';
import type { ImageGlobals } from './index.ts';

/** `hako tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]`. */
export default async function tag(args: string[], g: ImageGlobals): Promise<number> {
  const { positionals } = parseVerb('tag', args, {}, { min: 2, max: 2, usage: 'hako tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]' });
  const image = g.svc.resolve(positionals[0]!);
  const target = parseReference(positionals[1]!);
  if (target.digest) throw new HakoError('invalid-argument', 'refusing to create a tag with a digest reference');
  g.svc.meta.tag(formatReference(target), image.id);
  return 0;
}
