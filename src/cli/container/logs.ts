import { writeSync } from 'node:fs';
import { parseVerb } from '../args.ts';
import { HakoError } from '../../common/errors.ts';
import { followLogs, formatLogEntry, parseSince, readLogs, type LogEntry } from '../../engine/json-log.ts';
import { monitorAlive, readMonitorState } from '../../engine/containers/state.ts';
import type { ContainerGlobals } from './index.ts';

/** `logs [-f] [-t] [--since T] [--until T] [-n N] CONTAINER`: stdout to stdout, stderr to stderr. */
export default async function logs(args: string[], g: ContainerGlobals): Promise<number> {
  const { values: o, positionals } = parseVerb(
    'logs',
    args,
    {
      follow: { type: 'boolean', short: 'f' },
      timestamps: { type: 'boolean', short: 't' },
      since: { type: 'string' },
      until: { type: 'string' },
      tail: { type: 'string', short: 'n' },
      details: { type: 'boolean' },
    },
    { min: 1, max: 1, usage: 'hako logs [OPTIONS] CONTAINER' },
  );
  const c = g.eng.resolve(positionals[0]!);
  if (c.settings.HostConfig.LogConfig?.Type === 'none') {
    throw new HakoError('unsupported', 'configured logging driver does not support reading');
  }
  const tail = o.tail === undefined || o.tail === 'all' ? -1 : Number(o.tail);
  if (!Number.isInteger(tail)) throw new HakoError('invalid-argument', `invalid value for "tail": ${o.tail}`);
  const now = new Date();
  const opts = {
    ...(o.since ? { since: parseSince(o.since, now) } : {}),
    ...(o.until ? { until: parseSince(o.until, now) } : {}),
    tail,
  };
  const files = g.eng.files(c.id);
  const emit = (e: LogEntry) => writeSync(e.stream === 'stderr' ? 2 : 1, formatLogEntry(e, !!o.timestamps));
  if (!o.follow) {
    readLogs(files.log, opts).forEach(emit);
    return 0;
  }
  // Follow until the container is gone for good: not running and its monitor has left.
  const done = () => {
    const st = g.eng.state(c);
    return !st.Running && !st.Restarting && !monitorAlive(readMonitorState(files.monitorState));
  };
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  await followLogs(files.log, opts, emit, done, abort.signal);
  return 0;
}
