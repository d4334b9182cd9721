import { createReadStream } from 'node:fs';
import { parseVerb } from '../args.ts';
import { HakoError } from '../../common/errors.ts';
import { importImage } from '../../engine/image-import.ts';
import { out } from '../output.ts';
import type { ImageGlobals } from './index.ts';

/** `hako import [-c CHANGE]... [-m MSG] FILE|- [REPOSITORY[:TAG]]`: prints the new image's id. */
export default async function importCmd(args: string[], g: ImageGlobals): Promise<number> {
  const { values: o, positionals } = parseVerb(
    'import',
    args,
    { change: { type: 'string', short: 'c', multiple: true }, message: { type: 'string', short: 'm' }, platform: { type: 'string' } },
    { min: 1, max: 2, usage: 'hako import [OPTIONS] file|URL|- [REPOSITORY[:TAG]]' },
  );
  const [src, ref] = positionals as [string, string | undefined];
  if (/^https?:\/\//.test(src)) throw new HakoError('unsupported', 'import from a URL is not supported yet: download the file and import it');
  if (o.platform && !/^linux(\/|$)/.test(o.platform)) throw new HakoError('unsupported', `import: platform ${o.platform} is not supported`);
  const input = src === '-' ? process.stdin : createReadStream(src);
  const id = await importImage(g.svc, input, {
    changes: o.change ?? [],
    ...(o.message !== undefined ? { message: o.message } : {}),
    sourceName: src,
    ...(ref !== undefined ? { reference: ref } : {}),
  });
  out(`${id}\n`);
  return 0;
}
