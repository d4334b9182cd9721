import { createReadStream, existsSync, statSync } from 'node:fs';
import { isatty } from 'node:tty';
import { parseVerb } from '../args.ts';
import { HakoError } from '../../common/errors.ts';
import { loadImages } from '../../engine/image-load.ts';
import { out } from '../output.ts';
import type { ImageGlobals } from './index.ts';

/** `hako load [-i FILE|DIR] [-q]`: an archive from FILE or stdin, or an OCI layout directory. */
export default async function load(args: string[], g: ImageGlobals): Promise<number> {
  const { values: o } = parseVerb(
    'load',
    args,
    { input: { type: 'string', short: 'i' }, quiet: { type: 'boolean', short: 'q' }, platform: { type: 'string', multiple: true } },
    { min: 0, max: 0, usage: 'hako load [OPTIONS]' },
  );
  let source;
  if (o.input !== undefined) {
    if (!existsSync(o.input)) throw new HakoError('not-found', `open ${o.input}: no such file or directory`);
    source = statSync(o.input).isDirectory() ? o.input : createReadStream(o.input);
  } else {
    if (isatty(0)) throw new HakoError('invalid-argument', 'requested load from stdin, but stdin is empty');
    source = process.stdin;
  }
  for (const r of await loadImages(g.svc, source)) {
    for (const [name, previous] of r.retagged) out(`The image ${name} already exists, renaming the old one with ID ${previous} to empty string\n`);
    if (r.names.length) for (const n of r.names) out(`Loaded image: ${n}\n`);
    else out(`Loaded image ID: ${r.id}\n`);
  }
  return 0;
}
