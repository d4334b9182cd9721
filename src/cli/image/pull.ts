import { parseVerb } from '../args.ts';
import { pullImage } from '../../engine/image-pull.ts';
import { out } from '../output.ts';
import type { ImageGlobals } from './index.ts';
import { ProgressPrinter, progressMode } from './progress.ts';

/** `hako pull [--platform P] [-q] [--format json] NAME[:TAG|@DIGEST]` */
export default async function pull(args: string[], g: ImageGlobals): Promise<number> {
  const { values: o, positionals } = parseVerb(
    'pull',
    args,
    { platform: { type: 'string' }, quiet: { type: 'boolean', short: 'q' }, format: { type: 'string' } },
    { min: 1, max: 1, usage: 'hako pull [OPTIONS] NAME[:TAG|@DIGEST]' },
  );
  const mode = progressMode(1, { json: o.format === 'json', quiet: o.quiet ?? false });
  const printer = new ProgressPrinter(1, mode);
  const res = await pullImage(g.svc, positionals[0]!, { ...(o.platform ? { platform: o.platform } : {}), onEvent: printer.event });
  // Docker ends with the full name; -q prints only that.
  if (mode !== 'json') out(`${res.name}\n`);
  return 0;
}
