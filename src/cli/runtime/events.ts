import { HakoError } from '../../common/errors.ts';
import { parseVerb } from '../args.ts';
import { containerEvents } from '../../runtime/container-events.ts';
import { out } from '../output.ts';
import type { RuntimeGlobals } from './index.ts';

export default async function events(args: string[], g: RuntimeGlobals): Promise<number> {
  const { values, positionals } = parseVerb(
    'events',
    args,
    { interval: { type: 'string', default: '5s' }, stats: { type: 'boolean' } },
    { min: 1, max: 1, usage: 'events [--interval 5s] [--stats] CONTAINER_ID' },
  );
  await containerEvents(g.store, positionals[0]!, {
    interval: duration(values.interval),
    statsOnly: !!values.stats,
    emit: (line) => out(line + '\n'),
  });
  return 0;
}

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go duration ("5s", "500ms", "1m30s"), as runc's --interval takes it; in ms. */
export function duration(text: string): number {
  let ms = 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let m: RegExpExecArray | null;
  let end = 0;
  while ((m = re.exec(text))) {
    ms += Number(m[1]) * UNIT_MS[m[2]!]!;
    end = re.lastIndex;
  }
  if (text === '' || end !== text.length || ms <= 0) throw new HakoError('invalid-argument', `events: invalid --interval "${text}" (e.g. 5s, 500ms)`);
  return ms;
}
