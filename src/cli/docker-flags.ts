import { HakoError } from '../common/errors.ts';

/**
 * Docker's command-line flags, parsed as spf13/pflag does (the docker CLI's parser), so
 * that argument splitting and error messages match Docker's exactly: `--name value`,
 * `--name=value`, `-e VALUE`, `-eVALUE`, `-e=VALUE`, grouped shorthands (`-dit`), bools
 * that take a value only with `=` (`--rm=false`), `--` and, for commands such as `run`
 * (`interspersed: false`), the first positional ends the flags.
 * node:util's parseArgs differs on most of these points, hence a parser of our own.
 */

export type FlagType = 'bool' | 'string' | 'list' | 'int';

export interface FlagSpec {
  name: string;
  /** one character */
  short?: string;
  type: FlagType;
  help?: string;
  /** other long names that set the same value (Docker's hidden --net for --network) */
  aliases?: readonly string[];
  /** the value's name in the usage text (pflag's Type(): "bytes", "duration", …) */
  valueName?: string;
  /** shown as "(default …)" in the usage text */
  defaultText?: string;
  /** left out of the usage text */
  hidden?: boolean;
  /**
   * Checks (and may normalize) each value as it is read, as Docker's typed flag values do;
   * a thrown message becomes pflag's `invalid argument "V" for "-x, --name" flag: …`.
   */
  check?: (value: string) => string | void;
}

type ValueOf<T extends FlagType> = T extends 'bool' ? boolean : T extends 'list' ? string[] : T extends 'int' ? number : string;

/** The values of a flag table: only the flags that were given (pflag's Changed). */
export type FlagValues<T extends readonly FlagSpec[]> = { [F in T[number] as F['name']]?: ValueOf<F['type']> };

export interface ParsedFlags<V> {
  values: V;
  /** the positionals; with interspersed: false, the first one and everything after it */
  args: string[];
  /** how many of args came before `--` (pflag's ArgsLenAtDash); -1 without one */
  dashAt: number;
  /** --help (or -h where no flag claims it) */
  help: boolean;
}

export interface ParseOptions {
  /** false: the first positional ends the flags (`run IMAGE CMD -x`) */
  interspersed?: boolean;
}

const HELP: FlagSpec = { name: 'help', type: 'bool', help: 'Print usage' };

function fail(message: string): HakoError {
  return new HakoError('invalid-argument', message);
}

/** pflag's InvalidValueError wording, for values checked after parsing too. */
export function invalidArgument(spec: Pick<FlagSpec, 'name' | 'short'>, value: string, reason: string): HakoError {
  const flag = spec.short ? `-${spec.short}, --${spec.name}` : `--${spec.name}`;
  return fail(`invalid argument ${goQuote(value)} for ${goQuote(flag)} flag: ${reason}`);
}

/** Go's %q for the strings that reach error messages. */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}

export function parseFlags<const T extends readonly FlagSpec[]>(argv: readonly string[], table: T, options: ParseOptions = {}): ParsedFlags<FlagValues<T>> {
  const longs = new Map<string, FlagSpec>();
  const shorts = new Map<string, FlagSpec>();
  for (const spec of table) {
    for (const n of [spec.name, ...(spec.aliases ?? [])]) longs.set(n, spec);
    if (spec.short) shorts.set(spec.short, spec);
  }
  // Docker's commands all have --help; -h too unless the command uses it (run: --hostname).
  if (!longs.has('help')) longs.set('help', HELP);
  if (!shorts.has('h') && longs.get('help') === HELP) shorts.set('h', HELP);

  const values: Record<string, unknown> = {};
  const set = (spec: FlagSpec, usedName: string, value: string): void => {
    let v: unknown = value;
    try {
      if (spec.type === 'bool') v = parseGoBool(value);
      else if (spec.type === 'int') v = parseGoInt(value);
      if (spec.check) {
        const normalized = spec.check(value);
        if (typeof normalized === 'string' && spec.type !== 'bool' && spec.type !== 'int') v = normalized;
      }
    } catch (err) {
      if (err instanceof HakoError) throw err; // already in its final wording
      // pflag names the flag object that was used: an alias is a flag of its own there.
      throw invalidArgument({ name: usedName, ...(usedName === spec.name && spec.short ? { short: spec.short } : {}) }, value, (err as Error).message);
    }
    if (spec.type === 'list') ((values[spec.name] ??= []) as string[]).push(v as string);
    else values[spec.name] = v;
  };

  const args: string[] = [];
  let dashAt = -1;
  const rest = [...argv];
  while (rest.length > 0) {
    const s = rest.shift()!;
    if (s.length < 2 || s[0] !== '-') {
      args.push(s);
      if (options.interspersed === false) {
        args.push(...rest);
        break;
      }
      continue;
    }
    if (s === '--') {
      dashAt = args.length;
      args.push(...rest);
      break;
    }
    if (s[1] === '-') {
      const body = s.slice(2);
      if (body[0] === '-' || body[0] === '=') throw fail(`bad flag syntax: ${s}`);
      const eq = body.indexOf('=');
      const name = eq < 0 ? body : body.slice(0, eq);
      const spec = longs.get(name);
      if (!spec) throw fail(`unknown flag: --${name}`);
      if (eq >= 0) set(spec, name, body.slice(eq + 1));
      else if (spec.type === 'bool') set(spec, name, 'true');
      else if (rest.length > 0) set(spec, name, rest.shift()!);
      else throw fail(`flag needs an argument: --${name}`);
      continue;
    }
    // A group of shorthands: bools, then at most one flag that takes the rest as its value.
    let shorthands = s.slice(1);
    while (shorthands.length > 0) {
      const c = shorthands[0]!;
      const spec = shorts.get(c);
      if (!spec) throw fail(`unknown shorthand flag: '${c}' in -${shorthands}`);
      if (shorthands.length > 2 && shorthands[1] === '=') {
        set(spec, spec.name, shorthands.slice(2));
        shorthands = '';
      } else if (spec.type === 'bool') {
        set(spec, spec.name, 'true');
        shorthands = shorthands.slice(1);
      } else if (shorthands.length > 1) {
        set(spec, spec.name, shorthands.slice(1));
        shorthands = '';
      } else if (rest.length > 0) {
        set(spec, spec.name, rest.shift()!);
        shorthands = '';
      } else throw fail(`flag needs an argument: '${c}' in -${shorthands}`);
    }
  }
  const help = values['help'] === true;
  if (longs.get('help') === HELP) delete values['help'];
  return { values: values as FlagValues<T>, args, dashAt, help };
}

/**
 * Docker's argument-count errors (cli.RequiresMinArgs and friends), after "hako: ".
 * `command` is the command path ("hako run"), `usage` its use line.
 */
export function checkArgCount(args: readonly string[], command: string, usage: string, count: { min?: number; max?: number }): void {
  const { min = 0, max = Infinity } = count;
  if (args.length >= min && args.length <= max) return;
  const plural = (n: number) => (n === 1 ? 'argument' : 'arguments');
  let what: string;
  let verb = 'Run';
  if (max === 0) what = 'accepts no arguments';
  else if (min === max) what = `requires ${min} ${plural(min)}`;
  else if (max === Infinity) {
    what = `requires at least ${min} ${plural(min)}`;
    verb = 'See';
  } else if (min === 0) what = `requires at most ${max} ${plural(max)}`;
  else what = `requires at least ${min} and at most ${max} ${plural(max)}`;
  throw fail(`'${command}' ${what}\n\nUsage:  ${usage}\n\n${verb} '${command} --help' for more information`);
}

/**
 * The tail Docker adds to a command's usage errors: flag errors get the use line too
 * (cobra's FlagErrorFunc), other argument errors only the pointer to --help (withHelp).
 */
export function withHelpHint(err: unknown, command: string, usage?: string): unknown {
  if (!(err instanceof HakoError) || err.code !== 'invalid-argument') return err;
  const tail = `${usage ? `\n\nUsage:  ${usage}` : ''}\n\nRun '${command} --help' for more information`;
  return new HakoError(err.code, err.message + tail, { cause: err });
}

/** pflag's FlagUsages: the "Options:" block of a command's help, sorted by name. */
export function flagUsages(table: readonly FlagSpec[]): string {
  const rows: Array<[string, string]> = [];
  const specs = [...table, ...(table.some((f) => f.name === 'help') ? [] : [HELP])].filter((f) => !f.hidden);
  specs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const f of specs) {
    let left = f.short ? `  -${f.short}, --${f.name}` : `      --${f.name}`;
    const valueName = f.valueName ?? (f.type === 'bool' ? '' : f.type);
    if (valueName) left += ` ${valueName}`;
    const def = f.defaultText === undefined ? '' : f.type === 'string' ? ` (default ${goQuote(f.defaultText)})` : ` (default ${f.defaultText})`;
    rows.push([left, `${f.help ?? ''}${def}`]);
  }
  const width = Math.max(0, ...rows.map(([l]) => l.length));
  return rows.map(([l, r]) => `${l.padEnd(width)}   ${r}`.trimEnd() + '\n').join('');
}

// ---------------------------------------------------------------------------------------
// Go's value syntaxes, with Go's error texts (Docker shows them inside its own messages)

/** strconv.ParseBool */
export function parseGoBool(s: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  throw new Error(`strconv.ParseBool: parsing ${goQuote(s)}: invalid syntax`);
}

const INT_SYNTAX: Record<string, RegExp> = {
  '0x': /^0[xX](_?[0-9a-fA-F])+$/,
  '0b': /^0[bB](_?[01])+$/,
  '0o': /^0[oO](_?[0-7])+$/,
  '0': /^0(_?[0-7])+$/,
  '': /^[0-9](_?[0-9])*$/,
};

/** strconv.ParseInt(s, 0, 64): decimal, 0x…, 0o…, 0b…, leading-0 octal, `_` between digits. */
export function parseGoInt(s: string): number {
  const sign = s[0] === '-' || s[0] === '+' ? s[0] : '';
  const body = s.slice(sign.length);
  const prefix = /^0[xX]/.test(body) ? '0x' : /^0[bB]/.test(body) ? '0b' : /^0[oO]/.test(body) ? '0o' : /^0./.test(body) ? '0' : '';
  if (!INT_SYNTAX[prefix]!.test(body)) throw new Error(`strconv.ParseInt: parsing ${goQuote(s)}: invalid syntax`);
  const digits = body.replace(/_/g, '');
  let n = prefix === '0' ? BigInt(`0o${digits.slice(1)}`) : BigInt(digits);
  if (sign === '-') n = -n;
  if (n > 2n ** 63n - 1n || n < -(2n ** 63n)) throw new Error(`strconv.ParseInt: parsing ${goQuote(s)}: value out of range`);
  return Number(n);
}

/** strconv.Atoi: a plain decimal, as Docker's "N" in `on-failure:N` or `max-file`. */
export function parseGoAtoi(s: string): number {
  if (!/^[+-]?[0-9]+$/.test(s)) throw new Error(`strconv.Atoi: parsing ${goQuote(s)}: invalid syntax`);
  const n = BigInt(s);
  if (n > 2n ** 63n - 1n || n < -(2n ** 63n)) throw new Error(`strconv.Atoi: parsing ${goQuote(s)}: value out of range`);
  return Number(n);
}

const DURATION_UNITS: Record<string, bigint> = {
  ns: 1n,
  us: 1000n,
  'µs': 1000n, // U+00B5
  'μs': 1000n, // U+03BC
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

/** time.ParseDuration, in nanoseconds: "30s", "1m30s", "1.5h", "500ms", "-2s". */
export function parseGoDuration(orig: string): number {
  const invalid = () => new Error(`time: invalid duration ${goQuote(orig)}`);
  let s = orig;
  let neg = false;
  if (s[0] === '-' || s[0] === '+') {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw invalid();
  let total = 0n;
  const max = 2n ** 63n;
  while (s !== '') {
    const m = /^([0-9]*)(?:\.([0-9]*))?/.exec(s)!;
    const [whole, int = '', frac] = m;
    if (int === '' && (frac === undefined || frac === '')) throw invalid();
    s = s.slice(whole.length);
    const unitLen = s.search(/[0-9.]/);
    const unit = unitLen < 0 ? s : s.slice(0, unitLen);
    if (unit === '') throw new Error(`time: missing unit in duration ${goQuote(orig)}`);
    s = s.slice(unit.length);
    const scale = DURATION_UNITS[unit];
    if (scale === undefined) throw new Error(`time: unknown unit ${goQuote(unit)} in duration ${goQuote(orig)}`);
    let v = BigInt(int || '0') * scale;
    if (frac) v += (BigInt(frac) * scale) / 10n ** BigInt(frac.length);
    total += v;
    if (total > max) throw invalid();
  }
  if (!neg && total > max - 1n) throw invalid();
  return Number(neg ? -total : total);
}

const BINARY: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };
const DECIMAL: Record<string, number> = { k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15 };

function parseSize(size: string, units: Record<string, number>): number {
  let num: string;
  let sfx: string;
  const sp = size.indexOf(' ');
  if (sp >= 0) {
    num = size.slice(0, sp);
    sfx = size.slice(sp + 1);
  } else {
    const sep = Math.max(...[...'0123456789.'].map((c) => size.lastIndexOf(c)));
    if (sep < 0) throw new Error(`invalid size: '${size}'`);
    num = size.slice(0, sep + 1);
    sfx = size.slice(sep + 1);
  }
  if (!/^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(num)) throw new Error(`strconv.ParseFloat: parsing ${goQuote(num)}: invalid syntax`);
  let n = Number(num);
  if (n < 0) throw new Error(`invalid size: '${size}'`);
  if (sfx === '') return Math.trunc(n);
  const bad = () => new Error(`invalid suffix: '${sfx.length > 3 ? sfx : sfx.toLowerCase()}'`);
  if (sfx.length > 3) throw bad();
  const lower = sfx.toLowerCase();
  if (lower[0] === 'b') {
    if (lower.length > 1) throw bad();
    return Math.trunc(n);
  }
  const mul = units[lower[0]!];
  if (mul === undefined) throw bad();
  if ((lower.length === 2 && lower[1] !== 'b') || (lower.length === 3 && lower.slice(1) !== 'ib')) throw bad();
  n *= mul;
  return Math.trunc(n);
}

/** go-units RAMInBytes: "512m", "1g", "1.5GiB", "100" — binary multiples, as -m/--shm-size take them. */
export function ramInBytes(size: string): number {
  return parseSize(size, BINARY);
}

/** go-units FromHumanSize: decimal multiples ("10m" = 10,000,000), as json-file's max-size. */
export function fromHumanSize(size: string): number {
  return parseSize(size, DECIMAL);
}
