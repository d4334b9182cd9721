import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HakoError } from '../common/errors.ts';
import {
  checkArgCount,
  flagUsages,
  fromHumanSize,
  parseFlags,
  parseGoAtoi,
  parseGoBool,
  parseGoDuration,
  parseGoInt,
  ramInBytes,
  withHelpHint,
  type FlagSpec,
} from './docker-flags.ts';

const TABLE = [
  { name: 'detach', short: 'd', type: 'bool', help: 'Run in background' },
  { name: 'interactive', short: 'i', type: 'bool' },
  { name: 'tty', short: 't', type: 'bool' },
  { name: 'rm', type: 'bool' },
  { name: 'name', type: 'string', help: 'Assign a name' },
  { name: 'env', short: 'e', type: 'list', help: 'Set environment variables' },
  { name: 'count', short: 'c', type: 'int' },
  { name: 'network', type: 'list', aliases: ['net'] },
  {
    name: 'attach',
    short: 'a',
    type: 'list',
    check: (v: string) => {
      if (!['stdin', 'stdout', 'stderr'].includes(v.toLowerCase())) throw new Error('valid streams are STDIN, STDOUT and STDERR');
      return v.toLowerCase();
    },
  },
] as const satisfies readonly FlagSpec[];

const parse = (args: string[], interspersed = true) => parseFlags(args, TABLE, { interspersed });

function fails(args: string[], message: string, interspersed = true): void {
  assert.throws(
    () => parse(args, interspersed),
    (err: unknown) => err instanceof HakoError && err.code === 'invalid-argument' && err.message === message,
  );
}

describe('parseFlags: value syntaxes', () => {
  test('--name value and --name=value', () => {
    assert.equal(parse(['--name', 'web']).values.name, 'web');
    assert.equal(parse(['--name=web']).values.name, 'web');
    assert.equal(parse(['--name=a=b']).values.name, 'a=b');
    assert.equal(parse(['--name=']).values.name, '');
    assert.equal(parse(['--name', '']).values.name, '');
  });

  test('a value may look like a flag when it follows a flag that takes one', () => {
    assert.equal(parse(['--name', '--rm']).values.name, '--rm');
    assert.deepEqual(parse(['-e', '-x']).values.env, ['-x']);
  });

  test('-e VALUE, -eVALUE, -e=VALUE', () => {
    assert.deepEqual(parse(['-e', 'A=1']).values.env, ['A=1']);
    assert.deepEqual(parse(['-eA=1']).values.env, ['A=1']);
    assert.deepEqual(parse(['-e=A=1']).values.env, ['A=1']);
  });

  test('grouped shorthands: -dit, and a value-taking one last takes the rest', () => {
    const v = parse(['-dit']).values;
    assert.deepEqual([v.detach, v.interactive, v.tty], [true, true, true]);
    const w = parse(['-iteFOO=1']).values;
    assert.deepEqual([w.interactive, w.tty, w.env], [true, true, ['FOO=1']]);
    const x = parse(['-ite', 'FOO=1']).values;
    assert.deepEqual(x.env, ['FOO=1']);
  });

  test('-it --rm', () => {
    const v = parse(['-it', '--rm']).values;
    assert.deepEqual([v.interactive, v.tty, v.rm, v.detach], [true, true, true, undefined]);
  });

  test('bools take a value only after =', () => {
    assert.equal(parse(['--rm=false']).values.rm, false);
    assert.equal(parse(['--rm=true']).values.rm, true);
    assert.equal(parse(['--rm=0']).values.rm, false);
    assert.equal(parse(['--rm=T']).values.rm, true);
    assert.equal(parse(['-d=false']).values.detach, false);
    const v = parse(['-it=false']);
    assert.deepEqual([v.values.interactive, v.values.tty], [true, false]);
    const spaced = parse(['--rm', 'false']);
    assert.equal(spaced.values.rm, true);
    assert.deepEqual(spaced.args, ['false']);
  });

  test('a bad bool is pflag\'s "invalid argument"', () => {
    fails(['--rm=yes'], 'invalid argument "yes" for "--rm" flag: strconv.ParseBool: parsing "yes": invalid syntax');
    fails(['-d=maybe'], 'invalid argument "maybe" for "-d, --detach" flag: strconv.ParseBool: parsing "maybe": invalid syntax');
  });

  test('ints in Go syntax', () => {
    assert.equal(parse(['--count', '42']).values.count, 42);
    assert.equal(parse(['-c', '-5']).values.count, -5);
    assert.equal(parse(['-c0x1f']).values.count, 31);
    assert.equal(parse(['--count=010']).values.count, 8);
    assert.equal(parse(['--count=1_000']).values.count, 1000);
    fails(['--count', 'ten'], 'invalid argument "ten" for "-c, --count" flag: strconv.ParseInt: parsing "ten": invalid syntax');
    fails(['--count', '08'], 'invalid argument "08" for "-c, --count" flag: strconv.ParseInt: parsing "08": invalid syntax');
    fails(['--count', '1.5'], 'invalid argument "1.5" for "-c, --count" flag: strconv.ParseInt: parsing "1.5": invalid syntax');
  });

  test('list flags accumulate in order; an alias adds to the same list', () => {
    assert.deepEqual(parse(['-e', 'A=1', '--env', 'B=2', '-eC=3', '--env=D=4']).values.env, ['A=1', 'B=2', 'C=3', 'D=4']);
    assert.deepEqual(parse(['--network', 'a', '--net', 'b']).values.network, ['a', 'b']);
  });

  test('a later string value wins', () => {
    assert.equal(parse(['--name', 'a', '--name', 'b']).values.name, 'b');
  });

  test('only the flags given are in values', () => {
    assert.deepEqual(parse([]).values, {});
    assert.deepEqual(Object.keys(parse(['--rm=false']).values), ['rm']);
  });

  test('check: normalizes, and its error is pflag-wrapped naming the flag as typed', () => {
    assert.deepEqual(parse(['-a', 'STDIN', '--attach=Stdout']).values.attach, ['stdin', 'stdout']);
    fails(['-a', 'foo'], 'invalid argument "foo" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR');
    const table = [{ name: 'network', type: 'string', aliases: ['net'], check: () => { throw new Error('nope'); } }] as const satisfies readonly FlagSpec[];
    assert.throws(() => parseFlags(['--net', 'x'], table), { message: 'invalid argument "x" for "--net" flag: nope' });
    assert.throws(() => parseFlags(['--network', 'x'], table), { message: 'invalid argument "x" for "--network" flag: nope' });
  });

  test('a HakoError from check passes through as it is', () => {
    const table = [{ name: 'x', type: 'string', check: () => { throw new HakoError('unsupported', 'not here'); } }] as const satisfies readonly FlagSpec[];
    assert.throws(() => parseFlags(['--x=1'], table), (err: unknown) => err instanceof HakoError && err.code === 'unsupported' && err.message === 'not here');
  });
});

describe('parseFlags: positionals, -- and interspersed', () => {
  test('interspersed (the default): flags anywhere', () => {
    const r = parse(['a', '--rm', 'b', '-d', 'c']);
    assert.deepEqual(r.args, ['a', 'b', 'c']);
    assert.equal(r.values.rm, true);
    assert.equal(r.values.detach, true);
  });

  test('-- ends the flags; dashAt counts the positionals before it', () => {
    const r = parse(['a', '--', '--rm', '-x']);
    assert.deepEqual(r.args, ['a', '--rm', '-x']);
    assert.equal(r.dashAt, 1);
    assert.equal(r.values.rm, undefined);
    assert.equal(parse(['a']).dashAt, -1);
  });

  test('"-" and "" are positionals', () => {
    assert.deepEqual(parse(['-', '']).args, ['-', '']);
  });

  test('interspersed: false stops at the first positional', () => {
    const r = parse(['-it', 'busybox', 'sh', '-c', 'ls -l', '--rm'], false);
    assert.deepEqual(r.args, ['busybox', 'sh', '-c', 'ls -l', '--rm']);
    assert.equal(r.values.rm, undefined);
    assert.deepEqual(parse(['busybox', '-x'], false).args, ['busybox', '-x']);
    assert.deepEqual(parse(['busybox', '--', 'x'], false).args, ['busybox', '--', 'x']);
    assert.deepEqual(parse(['--', 'busybox', '-d'], false).args, ['busybox', '-d']);
  });
});

describe('parseFlags: errors in Docker\'s words', () => {
  test('unknown flags', () => {
    fails(['--foo'], 'unknown flag: --foo');
    fails(['--foo=1'], 'unknown flag: --foo');
    fails(['-x'], "unknown shorthand flag: 'x' in -x");
    fails(['-dx'], "unknown shorthand flag: 'x' in -x");
    fails(['-dxy'], "unknown shorthand flag: 'x' in -xy");
  });

  test('missing values', () => {
    fails(['--name'], 'flag needs an argument: --name');
    fails(['-e'], "flag needs an argument: 'e' in -e");
    fails(['-de'], "flag needs an argument: 'e' in -e");
    fails(['--count'], 'flag needs an argument: --count');
  });

  test('bad flag syntax', () => {
    fails(['---x'], 'bad flag syntax: ---x');
    fails(['--=x'], 'bad flag syntax: --=x');
  });

  test('an unknown flag after the first positional is not an error without interspersing', () => {
    assert.deepEqual(parse(['img', '--foo'], false).args, ['img', '--foo']);
    fails(['img', '--foo'], 'unknown flag: --foo', true);
  });
});

describe('parseFlags: help', () => {
  test('--help and -h, unless the command uses -h', () => {
    assert.equal(parse(['--help']).help, true);
    assert.equal(parse(['-h']).help, true);
    assert.equal(parse(['-dh']).help, true);
    assert.equal(parse(['--help=false']).help, false);
    assert.equal(parse([]).help, false);
    assert.equal('help' in parse(['--help']).values, false);
    const withHost = [{ name: 'hostname', short: 'h', type: 'string' }] as const satisfies readonly FlagSpec[];
    const r = parseFlags(['-h', 'box'], withHost);
    assert.equal(r.help, false);
    assert.equal(r.values.hostname, 'box');
    assert.equal(parseFlags(['--help'], withHost).help, true);
  });

  test('a parse error still wins over --help', () => {
    fails(['--help', '--nope'], 'unknown flag: --nope');
  });
});

describe('checkArgCount', () => {
  const usage = 'hako run [OPTIONS] IMAGE [COMMAND] [ARG...]';
  test("Docker's wording", () => {
    assert.doesNotThrow(() => checkArgCount(['x'], 'hako run', usage, { min: 1 }));
    assert.throws(() => checkArgCount([], 'hako run', usage, { min: 1 }), {
      message: `'hako run' requires at least 1 argument\n\nUsage:  ${usage}\n\nSee 'hako run --help' for more information`,
    });
    assert.throws(() => checkArgCount([], 'hako rename', 'hako rename CONTAINER NEW_NAME', { min: 2, max: 2 }), { message: /^'hako rename' requires 2 arguments\n\nUsage:  hako rename CONTAINER NEW_NAME\n\nRun 'hako rename --help'/ });
    assert.throws(() => checkArgCount(['a'], 'hako ps', 'hako ps [OPTIONS]', { max: 0 }), { message: /^'hako ps' accepts no arguments\n/ });
    assert.throws(() => checkArgCount(['a', 'b'], 'hako logs', 'hako logs CONTAINER', { min: 1, max: 1 }), { message: /^'hako logs' requires 1 argument\n/ });
    assert.throws(() => checkArgCount(['a', 'b', 'c'], 'hako x', 'u', { max: 2 }), { message: /^'hako x' requires at most 2 arguments\n/ });
    assert.throws(() => checkArgCount([], 'hako x', 'u', { min: 1, max: 2 }), { message: /^'hako x' requires at least 1 and at most 2 arguments\n/ });
  });
});

test('withHelpHint adds Docker\'s tail to usage errors only', () => {
  const e = withHelpHint(new HakoError('invalid-argument', 'unknown flag: --foo'), 'hako run', 'hako run [OPTIONS] IMAGE') as HakoError;
  assert.equal(e.message, "unknown flag: --foo\n\nUsage:  hako run [OPTIONS] IMAGE\n\nRun 'hako run --help' for more information");
  assert.equal((withHelpHint(new HakoError('invalid-argument', 'bad'), 'hako run') as HakoError).message, "bad\n\nRun 'hako run --help' for more information");
  const other = new HakoError('not-found', 'no such image');
  assert.equal(withHelpHint(other, 'hako run'), other);
});

test('flagUsages: pflag layout, sorted, bools without a value name, defaults', () => {
  const text = flagUsages([
    { name: 'name', type: 'string', help: 'Assign a name' },
    { name: 'detach', short: 'd', type: 'bool', help: 'Run in background' },
    { name: 'pull', type: 'string', help: 'Pull image', defaultText: 'missing' },
    { name: 'memory', short: 'm', type: 'string', valueName: 'bytes', help: 'Memory limit' },
    { name: 'secret', type: 'bool', hidden: true },
  ]);
  assert.equal(
    text,
    [
      '  -d, --detach         Run in background',
      '      --help           Print usage',
      '  -m, --memory bytes   Memory limit',
      '      --name string    Assign a name',
      '      --pull string    Pull image (default "missing")',
      '',
    ].join('\n'),
  );
});

describe('Go value syntaxes', () => {
  test('parseGoBool', () => {
    for (const t of ['1', 't', 'T', 'true', 'TRUE', 'True']) assert.equal(parseGoBool(t), true);
    for (const f of ['0', 'f', 'F', 'false', 'FALSE', 'False']) assert.equal(parseGoBool(f), false);
    assert.throws(() => parseGoBool('yes'), { message: 'strconv.ParseBool: parsing "yes": invalid syntax' });
  });

  test('parseGoInt / parseGoAtoi', () => {
    assert.equal(parseGoInt('0'), 0);
    assert.equal(parseGoInt('-0x10'), -16);
    assert.equal(parseGoInt('0o17'), 15);
    assert.equal(parseGoInt('0b101'), 5);
    assert.equal(parseGoInt('+7'), 7);
    assert.throws(() => parseGoInt('9223372036854775808'), { message: 'strconv.ParseInt: parsing "9223372036854775808": value out of range' });
    assert.throws(() => parseGoInt(''), { message: 'strconv.ParseInt: parsing "": invalid syntax' });
    assert.throws(() => parseGoInt('1__0'), /invalid syntax/);
    assert.equal(parseGoAtoi('12'), 12);
    assert.throws(() => parseGoAtoi('0x1'), { message: 'strconv.Atoi: parsing "0x1": invalid syntax' });
  });

  test('parseGoDuration → nanoseconds', () => {
    assert.equal(parseGoDuration('30s'), 30e9);
    assert.equal(parseGoDuration('1m30s'), 90e9);
    assert.equal(parseGoDuration('500ms'), 5e8);
    assert.equal(parseGoDuration('1.5h'), 5400e9);
    assert.equal(parseGoDuration('2us'), 2000);
    assert.equal(parseGoDuration('2µs'), 2000);
    assert.equal(parseGoDuration('10ns'), 10);
    assert.equal(parseGoDuration('-2s'), -2e9);
    assert.equal(parseGoDuration('.5s'), 5e8);
    assert.equal(parseGoDuration('0'), 0);
    assert.throws(() => parseGoDuration('1'), { message: 'time: missing unit in duration "1"' });
    assert.throws(() => parseGoDuration('1x'), { message: 'time: unknown unit "x" in duration "1x"' });
    assert.throws(() => parseGoDuration('abc'), { message: 'time: invalid duration "abc"' });
    assert.throws(() => parseGoDuration(''), { message: 'time: invalid duration ""' });
    assert.throws(() => parseGoDuration('.s'), { message: 'time: invalid duration ".s"' });
    assert.throws(() => parseGoDuration('3000000h'), { message: 'time: invalid duration "3000000h"' });
  });

  test('ramInBytes (binary) and fromHumanSize (decimal)', () => {
    assert.equal(ramInBytes('100'), 100);
    assert.equal(ramInBytes('1k'), 1024);
    assert.equal(ramInBytes('512m'), 512 * 1024 ** 2);
    assert.equal(ramInBytes('1g'), 1024 ** 3);
    assert.equal(ramInBytes('1GB'), 1024 ** 3);
    assert.equal(ramInBytes('1GiB'), 1024 ** 3);
    assert.equal(ramInBytes('1.5g'), 1.5 * 1024 ** 3);
    assert.equal(ramInBytes('10b'), 10);
    assert.equal(ramInBytes('1 MB'), 1024 ** 2);
    assert.equal(fromHumanSize('10m'), 10_000_000);
    assert.equal(fromHumanSize('1kB'), 1000);
    assert.throws(() => ramInBytes('abc'), { message: "invalid size: 'abc'" });
    assert.throws(() => ramInBytes('-1'), { message: "invalid size: '-1'" });
    assert.throws(() => ramInBytes('1x'), { message: "invalid suffix: 'x'" });
    assert.throws(() => ramInBytes('1kx'), { message: "invalid suffix: 'kx'" });
    assert.throws(() => ramInBytes('1KiBs'), { message: "invalid suffix: 'KiBs'" });
    assert.throws(() => ramInBytes('1.2.3'), { message: 'strconv.ParseFloat: parsing "1.2.3": invalid syntax' });
  });
});
