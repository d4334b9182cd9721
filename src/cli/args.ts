import { parseArgs, type ParseArgsConfig } from 'node:util';
import { HakoError } from '../common/errors.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * util.parseArgs (Node's own, no start-up cost) with the habits of Go CLIs that runc's
 * callers rely on: `-bundle x` is `--bundle x`.
 */
export function parseVerb<O extends Options>(verb: string, args: string[], options: O, positionals: { min: number; max: number; usage: string }) {
  const longNames = new Set(Object.keys(options));
  const normalized = args.map((a) => {
    const m = /^-([a-z][\w-]+)(=.*)?$/.exec(a);
    return m && longNames.has(m[1]!) ? `-${a}` : a;
  });
  let parsed;
  try {
    parsed = parseArgs({ args: normalized, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new HakoError('invalid-argument', `${verb}: ${(err as Error).message.split('\n')[0]}`);
  }
  const n = parsed.positionals.length;
  if (n < positionals.min || n > positionals.max) {
    const want =
      positionals.min === positionals.max ? `exactly ${positionals.min}` : positionals.max > 1024 ? `at least ${positionals.min}` : `${positionals.min} to ${positionals.max}`;
    throw new HakoError('invalid-argument', `"${verb}" requires ${want} argument(s)\nUsage: ${positionals.usage}`);
  }
  return parsed;
}
