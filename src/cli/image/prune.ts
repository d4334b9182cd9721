import { readSync } from 'node:fs';
import { parseVerb } from '../args.ts';
import { humanSize } from '../docker-args.ts';
import { pruneImages } from '../../engine/image-remove.ts';
import { out } from '../output.ts';
import type { ImageGlobals } from './index.ts';

/** `hako image prune [-a] [-f]`: asks first unless -f, as Docker does. */
export default async function prune(args: string[], g: ImageGlobals): Promise<number> {
  const { values: o } = parseVerb(
    'image prune',
    args,
    { all: { type: 'boolean', short: 'a' }, force: { type: 'boolean', short: 'f' }, filter: { type: 'string', multiple: true } },
    { min: 0, max: 0, usage: 'hako image prune [OPTIONS]' },
  );
  if (!o.force) {
    out(
      o.all
        ? 'WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue? [y/N] '
        : 'WARNING! This will remove all dangling images.\nAre you sure you want to continue? [y/N] ',
    );
    if (!/^y(es)?$/i.test(readLine().trim())) return 0;
  }
  const { events, reclaimed } = await pruneImages(g.svc, o.all === true);
  if (events.length) out(`Deleted Images:\n${events.map((e) => (e.untagged ? `untagged: ${e.untagged}\n` : `deleted: ${e.deleted}\n`)).join('')}\n`);
  out(`Total reclaimed space: ${humanSize(reclaimed)}\n`);
  return 0;
}

function readLine(): string {
  const buf = Buffer.alloc(1);
  let line = '';
  try {
    while (readSync(0, buf, 0, 1, null) === 1 && buf[0] !== 0x0a) line += String.fromCharCode(buf[0]!);
  } catch {
    // no stdin: the answer is no
  }
  return line;
}
