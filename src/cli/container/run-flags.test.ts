import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { HakoError } from '../../common/errors.ts';
import { parseCPUs, parseMountFlag, parseRunFlags, parseUlimit, parseVolumeSpec, runHelp, type RunFlags, type RunFlagsContext } from './run-flags.ts';

const dir = mkdtempSync(join(tmpdir(), 'hako-run-flags-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const ctx: RunFlagsContext = { env: { HOME: '/root', FROM_ENV: 'hello', EMPTY: '' }, cwd: dir };

const run = (...args: string[]): RunFlags => parseRunFlags(args, 'run', ctx);
const create = (...args: string[]): RunFlags => parseRunFlags(args, 'create', ctx);

function fails(args: string[], message: string | RegExp, code = 'invalid-argument', verb: 'run' | 'create' = 'run'): void {
  assert.throws(
    () => parseRunFlags(args, verb, ctx),
    (err: unknown) => {
      assert.ok(err instanceof HakoError, String(err));
      assert.equal(err.code, code);
      if (typeof message === 'string') assert.equal(err.message, message);
      else assert.match(err.message, message);
      return true;
    },
  );
}

function file(name: string, content: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

describe('the split between flags and the command', () => {
  test("run -it busybox sh -c 'ls -l'", () => {
    const f = run('-it', 'busybox', 'sh', '-c', 'ls -l');
    assert.equal(f.request.image, 'busybox');
    assert.deepEqual(f.command, ['sh', '-c', 'ls -l']);
    assert.deepEqual(f.request.config.Cmd, ['sh', '-c', 'ls -l']);
    assert.equal(f.request.config.Tty, true);
    assert.equal(f.request.config.OpenStdin, true);
  });

  test('run busybox -x: everything after the image is the command', () => {
    const f = run('busybox', '-x', '--rm', '-d');
    assert.deepEqual(f.command, ['-x', '--rm', '-d']);
    assert.equal(f.detach, false);
    assert.equal(f.request.hostConfig.AutoRemove, undefined);
  });

  test('-- before the image ends the flags; after it, it is part of the command', () => {
    assert.deepEqual(run('--', 'busybox', 'echo').command, ['echo']);
    assert.deepEqual(run('busybox', '--', 'echo').command, ['--', 'echo']);
  });

  test('no command: no Cmd; no --entrypoint: no Entrypoint', () => {
    const f = run('busybox');
    assert.deepEqual(f.command, []);
    assert.equal('Cmd' in f.request.config, false);
    assert.equal('Entrypoint' in f.request.config, false);
  });

  test('the image is required; --help is not an error without it', () => {
    fails([], "'hako run' requires at least 1 argument\n\nUsage:  hako run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nSee 'hako run --help' for more information");
    fails(['--rm'], /^'hako create' requires at least 1 argument/, 'invalid-argument', 'create');
    assert.equal(run('--help').help, true);
    assert.equal(run('--rm', '--help').help, true);
    assert.equal(run('busybox', '--help').help, false);
  });

  test('-h is --hostname here, as in Docker', () => {
    const f = run('-h', 'box', 'busybox');
    assert.equal(f.help, false);
    assert.equal(f.request.config.Hostname, 'box');
  });

  test('flag errors in pflag\'s words', () => {
    fails(['--foo', 'busybox'], 'unknown flag: --foo');
    fails(['-x', 'busybox'], "unknown shorthand flag: 'x' in -x");
    fails(['--name'], 'flag needs an argument: --name');
    fails(['-e'], "flag needs an argument: 'e' in -e");
    fails(['--rm=maybe', 'busybox'], 'invalid argument "maybe" for "--rm" flag: strconv.ParseBool: parsing "maybe": invalid syntax');
    fails(['--cpu-shares', 'lots', 'x'], 'invalid argument "lots" for "-c, --cpu-shares" flag: strconv.ParseInt: parsing "lots": invalid syntax');
    fails(['--stop-timeout', '1s', 'x'], 'invalid argument "1s" for "--stop-timeout" flag: strconv.ParseInt: parsing "1s": invalid syntax');
  });

  test('create has no -d, --sig-proxy or --detach-keys', () => {
    fails(['-d', 'x'], "unknown shorthand flag: 'd' in -d", 'invalid-argument', 'create');
    fails(['--sig-proxy=false', 'x'], 'unknown flag: --sig-proxy', 'invalid-argument', 'create');
    fails(['--detach-keys', 'ctrl-a', 'x'], 'unknown flag: --detach-keys', 'invalid-argument', 'create');
  });
});

describe('attach, detach and stdin', () => {
  test('run without -d: stdout and stderr', () => {
    const f = run('busybox');
    assert.deepEqual(f.attach, ['stdout', 'stderr']);
    const c = f.request.config;
    assert.deepEqual([c.AttachStdin, c.AttachStdout, c.AttachStderr, c.OpenStdin, c.StdinOnce, c.Tty], [false, true, true, false, false, false]);
  });

  test('-i adds stdin, and StdinOnce', () => {
    const f = run('-i', 'busybox');
    assert.deepEqual(f.attach, ['stdin', 'stdout', 'stderr']);
    assert.equal(f.request.config.StdinOnce, true);
  });

  test('-a picks the streams (case-insensitive); -i still attaches stdin', () => {
    const f = run('-a', 'STDOUT', '--attach=stdin', 'busybox');
    assert.deepEqual(f.attach, ['stdin', 'stdout']);
    assert.equal(f.request.config.AttachStderr, false);
    assert.equal(f.request.config.StdinOnce, false);
    assert.deepEqual(run('-a', 'stderr', '-i', 'busybox').attach, ['stdin', 'stderr']);
    fails(['-a', 'stdall', 'x'], 'invalid argument "stdall" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR');
  });

  test('-d: nothing attached', () => {
    const f = run('-dit', 'busybox');
    assert.equal(f.detach, true);
    assert.deepEqual(f.attach, []);
    const c = f.request.config;
    assert.deepEqual([c.AttachStdin, c.AttachStdout, c.AttachStderr, c.StdinOnce, c.OpenStdin, c.Tty], [false, false, false, false, true, true]);
    fails(['-d', '-a', 'stdout', 'x'], 'conflicting options: cannot specify both --attach and --detach');
  });

  test('create derives the same attach fields', () => {
    const f = create('-i', 'busybox');
    assert.deepEqual(f.attach, ['stdin', 'stdout', 'stderr']);
    assert.equal(f.request.config.StdinOnce, true);
  });

  test('--sig-proxy (default true), --detach-keys', () => {
    assert.equal(run('x').sigProxy, true);
    assert.equal(run('--sig-proxy=false', 'x').sigProxy, false);
    assert.equal(run('--detach-keys', 'ctrl-p,ctrl-q', 'x').detachKeys, 'ctrl-p,ctrl-q');
    assert.equal(run('--detach-keys=a,DEL,ctrl-\\', 'x').detachKeys, 'a,DEL,ctrl-\\');
    fails(['--detach-keys', 'ctrl-p,alt-x', 'x'], "invalid detach keys (ctrl-p,alt-x): Unknown character: 'alt-x'");
  });
});

describe('image, name, pull, platform', () => {
  test('--name, --pull, --platform, -q, --cidfile', () => {
    const f = run('--name', 'web', '--pull', 'always', '--platform', 'linux/arm64', '-q', '--cidfile', '/tmp/id', 'nginx:1');
    assert.equal(f.request.name, 'web');
    assert.equal(f.pull, 'always');
    assert.equal(f.platform, 'linux/arm64');
    assert.equal(f.quiet, true);
    assert.equal(f.cidfile, '/tmp/id');
    assert.equal(run('x').pull, 'missing');
    assert.equal(run('--pull=', 'x').pull, 'missing');
    assert.equal(run('--pull=never', 'x').pull, 'never');
    fails(['--pull', 'sometimes', 'x'], 'invalid pull option: \'sometimes\': must be one of "always", "missing" or "never"');
  });

  test('DOCKER_DEFAULT_PLATFORM is the --platform default', () => {
    assert.equal(parseRunFlags(['x'], 'run', { env: { DOCKER_DEFAULT_PLATFORM: 'linux/386' }, cwd: dir }).platform, 'linux/386');
    assert.equal(run('x').platform, undefined);
  });

  test('only what the user set is in the request', () => {
    const f = run('busybox');
    assert.deepEqual(f.request.hostConfig, {});
    assert.deepEqual(Object.keys(f.request.config).sort(), ['AttachStderr', 'AttachStdin', 'AttachStdout', 'OpenStdin', 'StdinOnce', 'Tty']);
    assert.equal('name' in f.request, false);
  });
});

describe('environment and labels', () => {
  test('-e: KEY=VALUE as given, KEY alone from the environment, or kept bare', () => {
    const f = run('-e', 'A=1', '-eB=', '--env', 'FROM_ENV', '-e', 'EMPTY', '-e', 'MISSING', '-e', 'C=x=y', 'busybox');
    assert.deepEqual(f.request.config.Env, ['A=1', 'B=', 'FROM_ENV=hello', 'EMPTY=', 'MISSING', 'C=x=y']);
    fails(['-e', '=x', 'busybox'], 'invalid argument "=x" for "-e, --env" flag: invalid environment variable: =x');
  });

  test('--env-file: Docker\'s format, then -e after it', () => {
    const p = file(
      'env.list',
      '\ufeff# a comment\n\n  INDENTED=yes\nQUOTED="not unquoted"\nTRAIL=sp  \nFROM_ENV\nNOT_SET\nWIN=crlf\r\nEQ=a=b\n   # indented comment\n',
    );
    const f = run('--env-file', p, '-e', 'A=1', 'x');
    assert.deepEqual(f.request.config.Env, ['INDENTED=yes', 'QUOTED="not unquoted"', 'TRAIL=sp  ', 'FROM_ENV=hello', 'WIN=crlf', 'EQ=a=b', 'A=1']);
  });

  test('--env-file errors', () => {
    fails(['--env-file', join(dir, 'nope'), 'x'], `--env-file: open ${join(dir, 'nope')}: no such file or directory`);
    const ws = file('ws.env', 'GOOD=1\nBAD KEY=1\n');
    fails(['--env-file', ws, 'x'], `--env-file: invalid env file (${ws}): variable 'BAD KEY' contains whitespaces`);
    const nokey = file('nokey.env', '=value\n');
    fails(['--env-file', nokey, 'x'], `--env-file: invalid env file (${nokey}): no variable name on line '=value'`);
    const utf = file('utf.env', Buffer.from([0x41, 0x3d, 0xff, 0x0a]));
    fails(['--env-file', utf, 'x'], `--env-file: invalid env file (${utf}): invalid utf8 bytes at line 1: [65 61 255]`);
  });

  test('-l and --label-file: a map; a label file line without = is left out', () => {
    const p = file('labels', '# x\nfrom.file=1\nbare\nshared=file\n');
    const f = run('--label-file', p, '-l', 'a=b', '--label', 'flag', '-l', 'shared=flag', 'x');
    assert.deepEqual(f.request.config.Labels, { 'from.file': '1', shared: 'flag', a: 'b', flag: '' });
    fails(['-l', '=x', 'y'], `invalid argument "=x" for "-l, --label" flag: invalid label '=x': empty name`);
    fails(['-l', 'a b=c', 'y'], `invalid argument "a b=c" for "-l, --label" flag: label 'a b' contains whitespaces`);
    fails(['--label-file', join(dir, 'none'), 'y'], `--label-file: open ${join(dir, 'none')}: no such file or directory`);
  });
});

describe('process settings', () => {
  test('--entrypoint: a value, or "" to reset', () => {
    assert.deepEqual(run('--entrypoint', '/bin/sh', 'x').request.config.Entrypoint, ['/bin/sh']);
    assert.deepEqual(run('--entrypoint', '', 'x').request.config.Entrypoint, ['']);
    assert.deepEqual(run('--entrypoint=', 'x', 'a').request.config.Entrypoint, ['']);
  });

  test('-w must be absolute (the daemon\'s error); it is cleaned', () => {
    assert.equal(run('-w', '/srv/app/', 'x').request.config.WorkingDir, '/srv/app');
    assert.equal(run('--workdir=/a/../b', 'x').request.config.WorkingDir, '/b');
    fails(['-w', 'app', 'x'], "the working directory 'app' is invalid, it needs to be an absolute path");
  });

  test('-u, -h, --domainname, --stop-signal, --stop-timeout', () => {
    const c = run('-u', '1000:1000', '--hostname', 'h', '--domainname', 'example.com', '--stop-signal', 'SIGUSR1', '--stop-timeout', '5', 'x').request.config;
    assert.deepEqual([c.User, c.Hostname, c.Domainname, c.StopSignal, c.StopTimeout], ['1000:1000', 'h', 'example.com', 'SIGUSR1', 5]);
    assert.equal(run('--stop-signal', 'kill', 'x').request.config.StopSignal, 'kill');
    assert.equal(run('--stop-signal', '9', 'x').request.config.StopSignal, '9');
    assert.equal(run('--stop-signal', 'RTMIN+3', 'x').request.config.StopSignal, 'RTMIN+3');
    assert.equal(run('--stop-timeout=-1', 'x').request.config.StopTimeout, -1);
    assert.equal('StopTimeout' in run('x').request.config, false);
    fails(['--stop-signal', 'SIGFOO', 'x'], 'Invalid signal: SIGFOO');
    fails(['--stop-signal', '0', 'x'], 'Invalid signal: 0');
  });

  test('--rm, --init, --privileged, --read-only', () => {
    const h = run('--rm', '--init', '--privileged', '--read-only', 'x').request.hostConfig;
    assert.deepEqual([h.AutoRemove, h.Init, h.Privileged, h.ReadonlyRootfs], [true, true, true, true]);
    assert.equal(run('--rm=false', 'x').request.hostConfig.AutoRemove, false);
    assert.equal(run('--init=false', 'x').request.hostConfig.Init, false);
    assert.equal('Init' in run('x').request.hostConfig, false);
  });
});

describe('-v', () => {
  test('binds and named volumes to Binds, anonymous volumes to Config.Volumes', () => {
    const f = run('-v', '/host/data:/data:ro', '-v', 'cache:/cache', '-v', '/anon', '-v', './rel:/rel', '-v', '/host/data:/data:ro', 'x');
    assert.deepEqual(f.request.hostConfig.Binds, ['/host/data:/data:ro', 'cache:/cache', `${dir}/rel:/rel`]);
    assert.deepEqual(f.request.config.Volumes, { '/anon': {} });
    assert.equal('Binds' in run('-v', '/only-anon', 'x').request.hostConfig, false);
  });

  test('options: ro, rw, z, Z, nocopy, propagation', () => {
    const binds = run('-v', '/a:/a:rw,z', '-v', '/b:/b:ro,Z,rshared', '-v', 'vol:/c:nocopy', 'x').request.hostConfig.Binds;
    assert.equal(binds?.length, 3);
  });

  test('errors, in the CLI\'s and then the daemon\'s words', () => {
    fails(['-v', '', 'x'], 'invalid empty volume spec');
    fails(['-v', '/a::/b', 'x'], 'invalid spec: /a::/b: empty section between colons');
    fails(['-v', '/a:/b:ro:extra', 'x'], 'invalid spec: /a:/b:ro:extra: too many colons');
    fails(['-v', '/a:/b:bogus', 'x'], 'invalid mode: bogus');
    fails(['-v', '/a:/b:ro,rw', 'x'], 'invalid mode: ro,rw');
    fails(['-v', '/data:rw', 'x'], "invalid volume specification: '/data:rw'");
    fails(['-v', 'vol:relative', 'x'], "invalid volume specification: 'vol:relative': invalid mount config for type \"volume\": invalid mount path: 'relative' mount path must be absolute");
    fails(['-v', '/a:/', 'x'], "invalid volume specification: '/a:/': invalid mount config for type \"bind\": invalid specification: destination can't be '/'");
    fails(['-v', 'relative', 'x'], "invalid volume specification: 'relative': invalid mount config for type \"volume\": invalid mount path: 'relative' mount path must be absolute");
    fails(['-v', '/a:/b:nocopy', 'x'], "invalid volume specification: '/a:/b:nocopy': invalid mount config for type \"bind\": field VolumeOptions must not be specified");
    fails(['-v', 'vol:/b:shared', 'x'], "invalid volume specification: 'vol:/b:shared': invalid mount config for type \"volume\": field BindOptions must not be specified");
    fails(['-v', '~/src:/src', 'x'], /^create ~\/src: "~\/src" includes invalid characters for a local volume name, only "\[a-zA-Z0-9\]\[a-zA-Z0-9_.-\]" are allowed\. If you intended to pass a host directory, use absolute path$/);
  });

  test('parseVolumeSpec: the daemon\'s reading of one -v value', () => {
    assert.deepEqual(parseVolumeSpec('/src:/dst/:ro,rslave'), { Type: 'bind', Source: '/src', Target: '/dst', ReadOnly: true, BindOptions: { Propagation: 'rslave' } });
    assert.deepEqual(parseVolumeSpec('data:/data:nocopy'), { Type: 'volume', Source: 'data', Target: '/data', ReadOnly: false, VolumeOptions: { NoCopy: true } });
    assert.deepEqual(parseVolumeSpec('/anon'), { Type: 'volume', Source: '', Target: '/anon', ReadOnly: false });
    assert.deepEqual(parseVolumeSpec('./here:/x', '/work'), { Type: 'bind', Source: '/work/here', Target: '/x', ReadOnly: false });
    assert.deepEqual(parseVolumeSpec('../up:/x', '/work/a'), { Type: 'bind', Source: '/work/up', Target: '/x', ReadOnly: false });
    assert.throws(() => parseVolumeSpec('a:/x'), /includes invalid characters for a local volume name/);
    assert.throws(() => parseVolumeSpec(':/x'), { message: "invalid volume specification: ':/x'" });
  });
});

describe('--mount and --tmpfs', () => {
  test('bind, volume and tmpfs mounts', () => {
    const src = join(dir, 'mnt-src');
    mkdirSync(src, { recursive: true });
    const f = run(
      '--mount', `type=bind,source=${src},target=/app,readonly,bind-propagation=rshared`,
      '--mount', 'type=volume,src=myvol,dst=/data,volume-nocopy,volume-label=a=b,ro=false',
      '--mount', 'dst=/anon',
      '--mount', 'type=tmpfs,destination=/t,tmpfs-size=64m,tmpfs-mode=1770',
      '--mount', 'type=bind,src=./mnt-src,dst=/rel',
      'x',
    );
    assert.deepEqual(f.request.hostConfig.Mounts, [
      { Type: 'bind', Source: src, Target: '/app', ReadOnly: true, BindOptions: { Propagation: 'rshared' } },
      { Type: 'volume', Source: 'myvol', Target: '/data', VolumeOptions: { NoCopy: true, Labels: { a: 'b' } }, ReadOnly: false },
      { Type: 'volume', Source: '', Target: '/anon' },
      { Type: 'tmpfs', Source: '', Target: '/t', TmpfsOptions: { SizeBytes: 64 * 1024 * 1024, Mode: 0o1770 } },
      { Type: 'bind', Source: src, Target: '/rel' },
    ]);
  });

  test('CSV quoting, as Go\'s encoding/csv', () => {
    assert.deepEqual(parseMountFlag('type=volume,"volume-label=a=b,c",dst=/x'), { Type: 'volume', Source: '', Target: '/x', VolumeOptions: { Labels: { a: 'b,c' } } });
    assert.throws(() => parseMountFlag('type=volume,dst=/x"y'), { message: 'parse error on line 1, column 19: bare " in non-quoted-field' });
  });

  test('flag-time errors (pflag-wrapped)', () => {
    const w = (v: string, why: string) => fails(['--mount', v, 'x'], `invalid argument ${JSON.stringify(v)} for "--mount" flag: ${why}`);
    w('type=bind,bogus=1,dst=/x', "unknown option 'bogus' in 'bogus=1'");
    w('type=bind,dst', "invalid field 'dst' must be a key=value pair");
    w('type=bind,dst=', "invalid value for 'dst': value is empty");
    w('type=bind, dst=/x', "invalid option 'dst' in ' dst=/x': option should not have whitespace");
    w('type=volume,dst=/x,readonly=maybe', `invalid value for 'readonly': invalid boolean value ("maybe"): must be one of "true", "1", "false", or "0" (default "true")`);
    w('type=tmpfs,dst=/x,tmpfs-size=big', 'invalid value for tmpfs-size: big');
    w('type=tmpfs,dst=/x,tmpfs-mode=9', 'invalid value for tmpfs-mode: 9');
    w('type=volume,dst=/x,bind-propagation=shared', "cannot mix 'bind-*' options with mount type 'volume'");
    w('type=bind,src=/,dst=/x,tmpfs-size=1m', "cannot mix 'tmpfs-*' options with mount type 'bind'");
    w('type=bind,src=/,dst=/x,bind-nonrecursive', 'bind-nonrecursive is deprecated, use bind-recursive=disabled instead');
    fails(['--mount', '', 'x'], 'invalid argument "" for "--mount" flag: value is empty');
  });

  test("the daemon's mount checks", () => {
    fails(['--mount', 'type=volume,src=v1', 'x'], 'invalid mount config for type "volume": field Target must not be empty');
    fails(['--mount', 'type=bind,dst=/x', 'x'], 'invalid mount config for type "bind": field Source must not be empty');
    fails(['--mount', 'type=bind,src=/,dst=rel', 'x'], "invalid mount config for type \"bind\": invalid mount path: 'rel' mount path must be absolute");
    fails(['--mount', 'type=bind,src=/,dst=/', 'x'], "invalid mount config for type \"bind\": invalid specification: destination can't be '/'");
    fails(['--mount', `type=bind,src=${dir}/missing,dst=/x`, 'x'], `invalid mount config for type "bind": bind source path does not exist: ${dir}/missing`);
    assert.doesNotThrow(() => run('--mount', `type=bind,src=${dir}/missing,dst=/x,bind-create-src`, 'x'));
    fails(['--mount', 'type=bind,src=/,dst=/x,bind-propagation=sideways', 'x'], 'invalid mount config for type "bind": invalid propagation mode: sideways');
    fails(['--mount', 'type=tmpfs,src=foo,dst=/x', 'x'], 'invalid mount config for type "tmpfs": field Source must not be specified');
    fails(['--mount', 'type=weird,dst=/x', 'x'], 'invalid mount config for type "weird": mount type unknown');
    fails(['--mount', 'type=image,src=alpine,dst=/x', 'x'], /not supported/, 'unsupported');
  });

  test('--tmpfs PATH[:OPTS]', () => {
    assert.deepEqual(run('--tmpfs', '/run:size=64m,noexec', '--tmpfs', '/tmp', 'x').request.hostConfig.Tmpfs, { '/run': 'size=64m,noexec', '/tmp': '' });
    fails(['--tmpfs', 'run', 'x'], "invalid mount path: 'run' mount path must be absolute");
    fails(['--tmpfs', '/', 'x'], "invalid specification: destination can't be '/'");
  });
});

describe('resources', () => {
  test('-m, --memory-swap, --shm-size in Docker\'s units', () => {
    const h = run('-m', '512m', '--memory-swap', '1g', '--shm-size', '128m', 'x').request.hostConfig;
    assert.deepEqual([h.Memory, h.MemorySwap, h.ShmSize], [512 * 1024 ** 2, 1024 ** 3, 128 * 1024 ** 2]);
    assert.equal(run('--memory=6m', '--memory-swap=-1', 'x').request.hostConfig.MemorySwap, -1);
    assert.equal(run('-m1g', 'x').request.hostConfig.Memory, 1024 ** 3);
  });

  test('memory errors', () => {
    fails(['-m', '5m', 'x'], 'Minimum memory limit allowed is 6MB');
    fails(['-m', '100', 'x'], 'Minimum memory limit allowed is 6MB');
    fails(['-m', 'lots', 'x'], `invalid argument "lots" for "-m, --memory" flag: invalid size: 'lots'`);
    fails(['-m', '1q', 'x'], `invalid argument "1q" for "-m, --memory" flag: invalid suffix: 'q'`);
    fails(['-m', '1g', '--memory-swap', '512m', 'x'], 'Minimum memoryswap limit should be larger than memory limit, see usage');
    fails(['--memory-swap', '1g', 'x'], 'You should always set the Memory limit when using Memoryswap limit, see usage');
    fails(['--memory-swap', '-2', 'x'], `invalid argument "-2" for "--memory-swap" flag: invalid size: '-2'`);
    fails(['--shm-size', 'x', 'y'], `invalid argument "x" for "--shm-size" flag: invalid size: 'x'`);
  });

  test('--cpus → NanoCpus, and the CFS flags', () => {
    assert.equal(run('--cpus', '1.5', 'x').request.hostConfig.NanoCpus, 1.5e9);
    assert.equal(run('--cpus=0.25', 'x').request.hostConfig.NanoCpus, 2.5e8);
    const h = run('-c', '512', '--cpu-period', '100000', '--cpu-quota', '50000', '--cpuset-cpus', '0-1,3', '--cpuset-mems', '0', 'x').request.hostConfig;
    assert.deepEqual([h.CpuShares, h.CpuPeriod, h.CpuQuota, h.CpusetCpus, h.CpusetMems], [512, 100000, 50000, '0-1,3', '0']);
    assert.equal(run('--cpu-shares=1024', 'x').request.hostConfig.CpuShares, 1024);
  });

  test('cpu errors', () => {
    fails(['--cpus', 'one', 'x'], 'invalid argument "one" for "--cpus" flag: failed to parse one as a rational number');
    fails(['--cpus', '0.0000000001', 'x'], 'invalid argument "0.0000000001" for "--cpus" flag: value is too precise');
    fails(['--cpus', '1', '--cpu-period', '100000', 'x'], 'Conflicting options: Nano CPUs and CPU Period cannot both be set');
    fails(['--cpus', '1', '--cpu-quota', '100000', 'x'], 'Conflicting options: Nano CPUs and CPU Quota cannot both be set');
    fails(['--cpus', '100000', 'x'], /^range of CPUs is from 0\.01 to \d+\.00, as there are only \d+ CPUs available$/);
    fails(['--cpu-period', '100', 'x'], 'CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
    fails(['--cpu-quota', '999', 'x'], 'CPU cfs quota can not be less than 1ms (i.e. 1000)');
    fails(['--cpuset-cpus', '3-1', 'x'], 'Invalid value 3-1 for cpuset cpus: invalid format: 3-1');
    fails(['--cpuset-mems', 'a', 'x'], 'Invalid value a for cpuset mems: invalid format: a');
    fails(['--cpuset-cpus', '0-9000', 'x'], 'Invalid value 0-9000 for cpuset cpus: value of out range, maximum is 8192');
  });

  test('parseCPUs', () => {
    assert.equal(parseCPUs('2'), 2e9);
    assert.equal(parseCPUs('.5'), 5e8);
    assert.equal(parseCPUs('1e-3'), 1e6);
    assert.equal(parseCPUs('3/2'), 1.5e9);
    assert.throws(() => parseCPUs('1/0'), { message: 'failed to parse 1/0 as a rational number' });
  });

  test('--pids-limit, --oom-score-adj', () => {
    assert.equal(run('--pids-limit', '100', 'x').request.hostConfig.PidsLimit, 100);
    assert.equal(run('--pids-limit=-1', 'x').request.hostConfig.PidsLimit, -1);
    assert.equal(run('--oom-score-adj', '-500', 'x').request.hostConfig.OomScoreAdj, -500);
    fails(['--oom-score-adj', '1001', 'x'], 'Invalid value 1001, range for oom score adj is [-1000, 1000]');
  });

  test('--ulimit name=soft[:hard]', () => {
    assert.deepEqual(run('--ulimit', 'nproc=-1', '--ulimit', 'nofile=1024:2048', '--ulimit', 'core=0', '--ulimit', 'nofile=10:20', 'x').request.hostConfig.Ulimits, [
      { Name: 'core', Soft: 0, Hard: 0 },
      { Name: 'nofile', Soft: 10, Hard: 20 },
      { Name: 'nproc', Soft: -1, Hard: -1 },
    ]);
    assert.deepEqual(parseUlimit('stack=100:-1'), { Name: 'stack', Soft: 100, Hard: -1 });
    const w = (v: string, why: string) => fails(['--ulimit', v, 'x'], `invalid argument ${JSON.stringify(v)} for "--ulimit" flag: ${why}`);
    w('nofile', 'invalid ulimit argument: nofile');
    w('as=1', 'invalid ulimit type: as');
    w('nofile=x', 'strconv.ParseInt: parsing "x": invalid syntax');
    w('nofile=2048:1024', 'ulimit soft limit must be less than or equal to hard limit: 2048 > 1024');
    w('nofile=-1:1024', 'ulimit soft limit must be less than or equal to hard limit: soft: -1 (unlimited), hard: 1024');
  });
});

describe('security', () => {
  test('--cap-add / --cap-drop as given, checked against the known capabilities', () => {
    const h = run('--cap-add', 'NET_ADMIN', '--cap-add', 'cap_sys_time', '--cap-drop', 'ALL', 'x').request.hostConfig;
    assert.deepEqual(h.CapAdd, ['NET_ADMIN', 'cap_sys_time']);
    assert.deepEqual(h.CapDrop, ['ALL']);
    fails(['--cap-add', 'FLY', 'x'], 'invalid CapAdd: unknown capability: "CAP_FLY"');
    fails(['--cap-drop', 'CAP_NOPE', 'x'], 'invalid CapDrop: unknown capability: "CAP_NOPE"');
  });

  test('--security-opt forms', () => {
    const opts = ['no-new-privileges', 'no-new-privileges:true', 'no-new-privileges=false', 'seccomp=unconfined', 'seccomp=builtin', 'apparmor=docker-default', 'label=disable', 'label:user:USER', 'label=type:svirt_apache_t'];
    assert.deepEqual(run(...opts.flatMap((o) => ['--security-opt', o]), 'x').request.hostConfig.SecurityOpt, opts);
  });

  test('--security-opt seccomp=FILE sends the file\'s compact JSON', () => {
    const p = file('seccomp.json', '{\n  "defaultAction": "SCMP_ACT_ERRNO",\n  "syscalls": [ { "names": ["read", "write"], "action": "SCMP_ACT_ALLOW", "comment": "a b\\"c" } ]\n}\n');
    assert.deepEqual(run('--security-opt', `seccomp=${p}`, 'x').request.hostConfig.SecurityOpt, [
      'seccomp={"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read","write"],"action":"SCMP_ACT_ALLOW","comment":"a b\\"c"}]}',
    ]);
    fails(['--security-opt', `seccomp=${dir}/none.json`, 'x'], `opening seccomp profile (${dir}/none.json) failed: open ${dir}/none.json: no such file or directory`);
    const badJson = file('bad.json', '{ nope');
    fails(['--security-opt', `seccomp=${badJson}`, 'x'], new RegExp(`^compacting json for seccomp profile \\(${badJson}\\) failed: `));
  });

  test('--security-opt errors', () => {
    fails(['--security-opt', 'apparmor', 'x'], 'invalid --security-opt: "apparmor"');
    fails(['--security-opt', 'seccomp=', 'x'], 'invalid --security-opt: "seccomp="');
    fails(['--security-opt', 'no-new-privileges=maybe', 'x'], 'invalid --security-opt 2: "no-new-privileges=maybe"');
    fails(['--security-opt', 'foo=bar', 'x'], 'invalid --security-opt 2: "foo=bar"');
    fails(['--security-opt', 'label=bogus', 'x'], /^bad label option "bogus"/);
    fails(['--security-opt', 'systempaths=unconfined', 'x'], /not supported/, 'unsupported');
  });
});

describe('restart and health', () => {
  test('--restart policies', () => {
    assert.deepEqual(run('--restart', 'always', 'x').request.hostConfig.RestartPolicy, { Name: 'always', MaximumRetryCount: 0 });
    assert.deepEqual(run('--restart=on-failure:3', 'x').request.hostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
    assert.deepEqual(run('--restart', 'on-failure', 'x').request.hostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 0 });
    assert.deepEqual(run('--restart', 'unless-stopped', 'x').request.hostConfig.RestartPolicy, { Name: 'unless-stopped', MaximumRetryCount: 0 });
    assert.deepEqual(run('--restart', 'no', '--rm', 'x').request.hostConfig.RestartPolicy, { Name: 'no', MaximumRetryCount: 0 });
    assert.equal('RestartPolicy' in run('x').request.hostConfig, false);
  });

  test('--restart errors', () => {
    fails(['--restart', 'always', '--rm', 'x'], 'conflicting options: cannot specify both --restart and --rm');
    fails(['--rm', '--restart', 'on-failure:2', 'x'], 'conflicting options: cannot specify both --restart and --rm');
    fails(['--restart', 'sometimes', 'x'], "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'");
    fails(['--restart', 'always:3', 'x'], "invalid restart policy: maximum retry count can only be used with 'on-failure'");
    fails(['--restart', 'no:-1', 'x'], "invalid restart policy: maximum retry count can only be used with 'on-failure' and cannot be negative");
    fails(['--restart', 'on-failure:-1', 'x'], 'invalid restart policy: maximum retry count cannot be negative');
    fails(['--restart', 'on-failure:x', 'x'], 'invalid restart policy format: maximum retry count must be an integer');
    fails(['--restart', ':3', 'x'], 'invalid restart policy format: no policy provided before colon');
  });

  test('--health-* in Go durations → nanoseconds', () => {
    const h = run('--health-cmd', 'curl -f localhost', '--health-interval', '30s', '--health-timeout', '1m30s', '--health-start-period', '500ms', '--health-start-interval', '2s', '--health-retries', '3', 'x').request.config.Healthcheck;
    assert.deepEqual(h, { Test: ['CMD-SHELL', 'curl -f localhost'], Interval: 30e9, Timeout: 90e9, StartPeriod: 5e8, StartInterval: 2e9, Retries: 3 });
    assert.deepEqual(run('--health-interval', '1m', 'x').request.config.Healthcheck, { Interval: 60e9 });
    assert.deepEqual(run('--no-healthcheck', 'x').request.config.Healthcheck, { Test: ['NONE'] });
    assert.equal('Healthcheck' in run('x').request.config, false);
  });

  test('health errors', () => {
    fails(['--no-healthcheck', '--health-cmd', 'true', 'x'], '--no-healthcheck conflicts with --health-* options');
    fails(['--no-healthcheck', '--health-retries', '1', 'x'], '--no-healthcheck conflicts with --health-* options');
    fails(['--health-interval', '-1s', 'x'], '--health-interval cannot be negative');
    fails(['--health-timeout', '-1s', 'x'], '--health-timeout cannot be negative');
    fails(['--health-retries', '-1', 'x'], '--health-retries cannot be negative');
    fails(['--health-start-period', '-1s', 'x'], '--health-start-period cannot be negative');
    fails(['--health-interval', '10', 'x'], 'invalid argument "10" for "--health-interval" flag: time: missing unit in duration "10"');
    fails(['--health-timeout', '5x', 'x'], 'invalid argument "5x" for "--health-timeout" flag: time: unknown unit "x" in duration "5x"');
    fails(['--health-interval', '500us', 'x'], 'Interval in Healthcheck cannot be less than 1ms');
    fails(['--health-start-period', '1ns', 'x'], 'StartPeriod in Healthcheck cannot be less than 1ms');
  });
});

describe('network and ports', () => {
  test('--network / --net: none, host, or a name as given', () => {
    assert.equal(run('--network', 'none', 'x').request.hostConfig.NetworkMode, 'none');
    assert.equal(run('--net=host', 'x').request.hostConfig.NetworkMode, 'host');
    assert.equal(run('--network', 'my-net', 'x').request.hostConfig.NetworkMode, 'my-net');
    assert.equal('NetworkMode' in run('x').request.hostConfig, false);
    fails(['--network', ' ', 'x'], 'no name set for network');
    fails(['--network', 'none', '--net', 'mynet', 'x'], 'conflicting options: cannot attach both user-defined and non-user-defined network-modes');
    fails(['--network', 'a', '--network', 'a', 'x'], 'network "a" is specified multiple times');
    fails(['--network', 'a', '--network', 'b', 'x'], /more than one network/, 'unsupported');
    fails(['--network', 'name=a,alias=b', 'x'], /not supported/, 'unsupported');
  });

  test('-p: bindings, and the container ports exposed', () => {
    const f = run('-p', '8080:80', '-p', '127.0.0.1:5353:53/UDP', '-p', '443', '-p', '8000-8001:9000-9001', '-p', '[::1]:7000:7000', '-p', '9090-9099:90', '-P', 'x');
    assert.deepEqual(f.portBindings, {
      '443/tcp': [{ HostIp: '', HostPort: '' }],
      '53/udp': [{ HostIp: '127.0.0.1', HostPort: '5353' }],
      '7000/tcp': [{ HostIp: '::1', HostPort: '7000' }],
      '80/tcp': [{ HostIp: '', HostPort: '8080' }],
      '9000/tcp': [{ HostIp: '', HostPort: '8000' }],
      '9001/tcp': [{ HostIp: '', HostPort: '8001' }],
      '90/tcp': [{ HostIp: '', HostPort: '9090-9099' }],
    });
    assert.equal(f.publishAll, true);
    assert.deepEqual(Object.keys(f.request.config.ExposedPorts ?? {}), ['443/tcp', '53/udp', '7000/tcp', '80/tcp', '90/tcp', '9000/tcp', '9001/tcp']);
    assert.deepEqual(run('-p', 'published=8080,target=80,protocol=udp', 'x').portBindings, { '80/udp': [{ HostIp: '', HostPort: '8080' }] });
  });

  test('-p errors', () => {
    fails(['-p', '80/foo', 'x'], 'invalid proto: foo');
    fails(['-p', '1.2.3:80:80', 'x'], 'invalid IP address: 1.2.3');
    fails(['-p', 'http', 'x'], 'invalid containerPort: http');
    fails(['-p', '70000', 'x'], 'invalid containerPort: 70000');
    fails(['-p', 'x:80', 'y'], 'invalid hostPort: x');
    fails(['-p', '8000-8002:80-81', 'x'], 'invalid ranges specified for container and host Ports: 80-81 and 8000-8002');
    fails(['-p', '8080:', 'x'], 'no port specified: 8080:<empty>');
    fails(['-p', 'published=8080,target', 'x'], "invalid publish opts format (should be name=value but got 'target')");
    fails(['-p', '0', 'x'], 'invalid port specification: "0/tcp"');
  });

  test('--expose: ports and ranges', () => {
    assert.deepEqual(run('--expose', '80', '--expose', '90-92/udp', 'x').request.config.ExposedPorts, { '80/tcp': {}, '90/udp': {}, '91/udp': {}, '92/udp': {} });
    fails(['--expose', 'http', 'x'], "invalid range format for --expose: invalid start port 'http': invalid syntax");
    fails(['--expose', '90-80', 'x'], 'invalid range format for --expose: invalid port range: 90-80');
    fails(['--expose', '1-70000', 'x'], "invalid range format for --expose: invalid end port '70000': value out of range");
  });

  test('--add-host, --dns, --dns-search, --dns-option', () => {
    const h = run('--add-host', 'db:10.0.0.2', '--add-host', 'v6=[::1]', '--add-host', 'gw:host-gateway', '--dns', '8.8.8.8', '--dns', ' 2001:db8:0::1 ', '--dns-search', 'example.com', '--dns-option', 'ndots:2', '--dns-opt', 'rotate', 'x').request.hostConfig;
    assert.deepEqual(h.ExtraHosts, ['db:10.0.0.2', 'v6:::1', 'gw:host-gateway']);
    assert.deepEqual(h.Dns, ['8.8.8.8', '2001:db8::1']);
    assert.deepEqual(h.DnsSearch, ['example.com']);
    assert.deepEqual(h.DnsOptions, ['ndots:2', 'rotate']);
    fails(['--add-host', 'nohost', 'x'], 'invalid argument "nohost" for "--add-host" flag: bad format for add-host: "nohost"');
    fails(['--add-host', 'db:10.0.0', 'x'], 'invalid argument "db:10.0.0" for "--add-host" flag: invalid IP address in add-host: "10.0.0"');
    fails(['--dns', 'dns.google', 'x'], 'invalid argument "dns.google" for "--dns" flag: IP address is not correctly formatted: dns.google');
    fails(['--dns-search', '-bad-', 'x'], 'invalid argument "-bad-" for "--dns-search" flag: -bad- is not a valid domain');
  });
});

describe('logging, sysctls, groups', () => {
  test('--log-driver, --log-opt', () => {
    assert.deepEqual(run('--log-driver', 'none', 'x').request.hostConfig.LogConfig, { Type: 'none', Config: {} });
    assert.deepEqual(run('--log-opt', 'max-size=10m', '--log-opt', 'max-file=3', 'x').request.hostConfig.LogConfig, { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } });
    assert.equal('LogConfig' in run('x').request.hostConfig, false);
  });

  test('logging errors', () => {
    fails(['--log-driver', 'none', '--log-opt', 'max-size=1m', 'x'], 'invalid logging opts for driver none');
    fails(['--log-opt', 'colour=blue', 'x'], "unknown log opt 'colour' for json-file log driver");
    fails(['--log-opt', 'max-size=big', 'x'], "invalid size: 'big'");
    fails(['--log-opt', 'max-size=0', 'x'], 'max-size must be a positive number');
    fails(['--log-opt', 'max-file=0', 'x'], 'max-file cannot be less than 1');
    fails(['--log-opt', 'max-file=two', 'x'], 'strconv.Atoi: parsing "two": invalid syntax');
    fails(['--log-driver', 'fancy', 'x'], "logger: no log driver named 'fancy' is registered");
    fails(['--log-driver', 'syslog', 'x'], /not supported/, 'unsupported');
    fails(['--log-opt', 'compress=true', 'x'], /not supported/, 'unsupported');
  });

  test('--sysctl, --group-add', () => {
    const h = run('--sysctl', 'net.ipv4.ip_forward=1', '--sysctl', 'kernel.shmmax=1024', '--group-add', 'audio', '--group-add', '1001', 'x').request.hostConfig;
    assert.deepEqual(h.Sysctls, { 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '1024' });
    assert.deepEqual(h.GroupAdd, ['audio', '1001']);
    fails(['--sysctl', 'kernel.hostname=x', 'y'], `invalid argument "kernel.hostname=x" for "--sysctl" flag: sysctl 'kernel.hostname=x' is not allowed`);
    fails(['--sysctl', 'net.core.somaxconn', 'y'], `invalid argument "net.core.somaxconn" for "--sysctl" flag: sysctl 'net.core.somaxconn' is not allowed`);
  });
});

describe('flags Docker has and hako does not implement', () => {
  test('they parse (so the command splits right) but are refused', () => {
    fails(['--device', '/dev/fuse', 'x'], 'flag --device is not supported by hako', 'unsupported');
    fails(['--pid=host', 'x'], 'flag --pid is not supported by hako', 'unsupported');
    fails(['--oom-kill-disable', 'x'], 'flag --oom-kill-disable is not supported by hako', 'unsupported');
    assert.doesNotThrow(() => run('--oom-kill-disable=false', '--memory-swappiness=-1', 'x'));
    assert.doesNotThrow(() => run('--kernel-memory', '10m', '--disable-content-trust', 'x'));
  });
});

test('runHelp lists the options, not the unsupported ones', () => {
  const text = runHelp('run');
  assert.match(text, /^Usage:  hako run \[OPTIONS\] IMAGE \[COMMAND\] \[ARG\.\.\.\]\n/);
  assert.match(text, /\n {2}-e, --env list +Set environment variables\n/);
  assert.match(text, /\n {6}--pull string +Pull image before running \("always", "missing", "never"\) \(default "missing"\)\n/);
  assert.doesNotMatch(text, /--device/);
  assert.doesNotMatch(runHelp('create'), /--detach/);
  assert.match(runHelp('create'), /Pull image before creating/);
});
