import { parseVerb } from '../args.ts';
import { pushImage } from '../../engine/image-push.ts';
import type { ImageGlobals } from './index.ts';
import { ProgressPrinter, progressMode } from './progress.ts';
import { out } from '../output.ts';

/** `hako push [-q] [--format json] NAME[:TAG]` */
export default async function push(args: string[], g: ImageGlobals): Promise<number> {
  const { values: o, positionals } = parseVerb(
    'push',
    args,
    { quiet: { type: 'boolean', short: 'q' }, format: { type: 'string' } },
    { min: 1, max: 1, usage: 'hako push [OPTIONS] NAME[:TAG]' },
  );
  const mode = progressMode(1, { json: o.format === 'json', quiet: o.quiet ?? false });
  const printer = new ProgressPrinter(1, mode);
  const res = await pushImage(g.svc, positionals[0]!, { onEvent: printer.event });
  if (mode === 'quiet') out(`${positionals[0]}\n`);
  void res;
  return 0;
}
