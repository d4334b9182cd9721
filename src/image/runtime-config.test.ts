import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { SpecProcess } from '../runtime/spec-types.ts';
import type { ContainerConfig } from './manifest.ts';
import { DEFAULT_PATH, type ImageRuntimeConfig, type RunOverrides, runtimeProcessFor } from './runtime-config.ts';
import { containerConfigFor, parsePortSpec, parseStopSignal } from './container-settings.ts';
import { applyConfigChanges } from './config-changes.ts';

const rootfs = mkdtempSync(join(tmpdir(), 'hako-runtime-config-'));
after(() => rmSync(rootfs, { recursive: true, force: true }));
mkdirSync(join(rootfs, 'etc'));
writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n');
writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\napp:x:1000:\nwheel:x:10:app\n');

const proc = (image: ImageRuntimeConfig, o: RunOverrides = {}) => runtimeProcessFor(image, o, rootfs);
const args = (image: ImageRuntimeConfig, o: RunOverrides = {}) => proc(image, o).args;
const env = (image: ImageRuntimeConfig, o: RunOverrides = {}) => proc({ Cmd: ['sh'], ...image }, o).env;

describe('args: Entrypoint and Cmd, as Docker composes them', () => {
  const image = { Entrypoint: ['/entry', '-v'], Cmd: ['serve'] };
  test('entrypoint + cmd', () => assert.deepEqual(args(image), ['/entry', '-v', 'serve']));
  test('a cmd given at run replaces the image Cmd only', () => assert.deepEqual(args(image, { cmd: ['x', 'y'] }), ['/entry', '-v', 'x', 'y']));
  test('an empty cmd is no cmd', () => assert.deepEqual(args(image, { cmd: [] }), ['/entry', '-v', 'serve']));
  test('--entrypoint replaces the Entrypoint and clears the image Cmd', () => assert.deepEqual(args(image, { entrypoint: ['/bin/sh'] }), ['/bin/sh']));
  test('--entrypoint with a cmd', () => assert.deepEqual(args(image, { entrypoint: ['/bin/sh'], cmd: ['-c', 'id'] }), ['/bin/sh', '-c', 'id']));
  test('--entrypoint "" with a cmd: the cmd alone', () => assert.deepEqual(args(image, { entrypoint: [''], cmd: ['ls'] }), ['ls']));
  test('--entrypoint "" alone clears both: no command', () => {
    assert.throws(() => args(image, { entrypoint: [''] }), (e: any) => e.code === 'invalid-argument' && /^no command specified/.test(e.message));
  });
  test('the API\'s "Entrypoint": [] clears the entrypoint but keeps the image Cmd', () => assert.deepEqual(args(image, { entrypoint: [] }), ['serve']));
  test('Cmd only', () => assert.deepEqual(args({ Cmd: ['sh'] }), ['sh']));
  test('Docker\'s single-string form and nulls', () => assert.deepEqual(args({ Entrypoint: null, Cmd: 'sh' as never }), ['sh']));
  test('nothing at all: no command specified', () => assert.throws(() => args({}), /no command specified/));
  test('a Cmd that is not a list of strings names the field', () => assert.throws(() => args({ Cmd: [1] as never }), /image config: Cmd must be a list of strings/));
});

describe('env', () => {
  test('PATH default when the image has none; HOME of root', () => {
    assert.deepEqual(env({}), [`PATH=${DEFAULT_PATH}`, 'HOME=/root']);
  });
  test('the image\'s PATH replaces the default', () => assert.deepEqual(env({ Env: ['PATH=/x'] }), ['PATH=/x', 'HOME=/root']));
  test('-e replaces the same key, adds new ones, and a bare KEY unsets', () => {
    const e = env({ Env: ['A=1', 'B=2', 'C=3'] }, { env: ['B=two', 'D=4', 'C'] });
    assert.deepEqual(e, [`PATH=${DEFAULT_PATH}`, 'A=1', 'B=two', 'D=4', 'HOME=/root']);
  });
  test('values keep their = signs', () => assert.ok(env({ Env: ['A=x=y'] }).includes('A=x=y')));
  test('HOSTNAME and, with a tty, TERM', () => {
    assert.deepEqual(env({}, { hostname: 'abc123', tty: true }), [`PATH=${DEFAULT_PATH}`, 'HOSTNAME=abc123', 'TERM=xterm', 'HOME=/root']);
  });
  test('HOME from the user\'s passwd entry, / for a uid without one', () => {
    assert.ok(env({ User: 'app' }).includes('HOME=/home/app'));
    assert.ok(env({}, { user: '4242' }).includes('HOME=/'));
  });
  test('HOME already set is kept (an empty one is not, as runc)', () => {
    assert.ok(env({ Env: ['HOME=/data'] }).includes('HOME=/data'));
    assert.ok(env({}, { env: ['HOME=/mine'] }).includes('HOME=/mine'));
    assert.ok(env({ Env: ['HOME='] }).includes('HOME=/root'));
  });
  test('bad entries', () => {
    assert.throws(() => env({ Env: ['NOEQUALS'] }), /image config: Env\[0\] "NOEQUALS" is not of the form NAME=VALUE/);
    assert.throws(() => env({}, { env: ['=x'] }), (e: any) => e.code === 'invalid-argument' && /"=x": the name is empty/.test(e.message));
  });
});

describe('cwd', () => {
  const cwd = (image: ImageRuntimeConfig, o: RunOverrides = {}) => proc({ Cmd: ['sh'], ...image }, o).cwd;
  test('/ by default', () => assert.equal(cwd({}), '/'));
  test('the image WorkingDir', () => assert.equal(cwd({ WorkingDir: '/srv/app/' }), '/srv/app'));
  test('a relative WorkingDir is taken from /', () => assert.equal(cwd({ WorkingDir: 'app/../www' }), '/www'));
  test('-w wins, cleaned', () => assert.equal(cwd({ WorkingDir: '/srv' }, { workdir: '/a//b/../c' }), '/a/c'));
  test('-w must be absolute', () => {
    assert.throws(() => cwd({}, { workdir: 'rel' }), /the working directory "rel" is invalid, it needs to be an absolute path/);
  });
});

describe('user', () => {
  const user = (image: ImageRuntimeConfig, o: RunOverrides = {}) => proc({ Cmd: ['sh'], ...image }, o).user;
  test('root by default', () => assert.deepEqual(user({}), { uid: 0, gid: 0, additionalGids: [0] }));
  test('the image User, resolved in the rootfs', () => assert.deepEqual(user({ User: 'app' }), { uid: 1000, gid: 1000, additionalGids: [1000, 10] }));
  test('-u wins over the image User', () => assert.deepEqual(user({ User: 'app' }, { user: '0:10' }), { uid: 0, gid: 10, additionalGids: [10] }));
  test('--group-add', () => assert.deepEqual(user({}, { groupAdd: ['app', '77'] }).additionalGids, [0, 1000, 77]));
  test('an unknown user', () => assert.throws(() => user({ User: 'nobody2' }), /unable to find user nobody2: no matching entries in passwd file/));
  test('the result fits an OCI process', () => {
    const p: Partial<SpecProcess> = proc({ Cmd: ['sh'] }, { tty: true });
    assert.equal(p.terminal, true);
  });
});

describe('container settings from the image', () => {
  test('ports (sorted, ranges expanded, duplicates dropped), volumes, labels, stop signal, healthcheck', () => {
    const hc = { Test: ['CMD', 'true'], Interval: 30e9, Retries: 3 };
    const c = containerConfigFor({
      ExposedPorts: { '80/tcp': {}, '53/udp': {}, '8080': {}, '9000-9002/TCP': {}, '80': {}, '80/udp': {} },
      Volumes: { '/data': {}, '/var/lib/x/': {}, '/data/': {} },
      Labels: { a: 'b' },
      StopSignal: 'SIGQUIT',
      Healthcheck: hc,
    });
    assert.deepEqual(c.exposedPorts, [
      { port: 53, proto: 'udp' },
      { port: 80, proto: 'tcp' },
      { port: 80, proto: 'udp' },
      { port: 8080, proto: 'tcp' },
      { port: 9000, proto: 'tcp' },
      { port: 9001, proto: 'tcp' },
      { port: 9002, proto: 'tcp' },
    ]);
    assert.deepEqual(c.volumes, ['/data', '/var/lib/x']);
    assert.deepEqual(c.labels, { a: 'b' });
    assert.equal(c.stopSignal, 'SIGQUIT');
    assert.deepEqual(c.healthcheck, hc);
  });
  test('empty and null: defaults', () => {
    assert.deepEqual(containerConfigFor({ ExposedPorts: null, Volumes: null, Labels: null }), {
      exposedPorts: [],
      volumes: [],
      labels: {},
      stopSignal: 'SIGTERM',
    });
  });
  test('bad ports name the key', () => {
    for (const key of ['80/foo', '0/tcp', '70000', 'http', '9002-9000', '1-2-3']) {
      assert.throws(() => containerConfigFor({ ExposedPorts: { [key]: {} } }), (e: any) => e.code === 'invalid-config' && e.message.includes(`ExposedPorts ${JSON.stringify(key)}`), key);
    }
    assert.deepEqual(parsePortSpec('53/sctp'), [{ port: 53, proto: 'sctp' }]);
  });
  test('bad volumes', () => {
    assert.throws(() => containerConfigFor({ Volumes: { data: {} } }), /Volumes "data": a volume is an absolute path/);
    assert.throws(() => containerConfigFor({ Volumes: { '/': {} } }), /cannot be the root directory/);
    assert.throws(() => containerConfigFor({ Volumes: ['/x'] as never }), /Volumes must be an object/);
  });
  test('bad labels and healthcheck', () => {
    assert.throws(() => containerConfigFor({ Labels: { a: 1 } as never }), /Labels "a" must be a string/);
    assert.throws(() => containerConfigFor({ Healthcheck: { Test: 'x' } as never }), /Healthcheck\.Test must be a list of strings/);
  });
  test('stop signals: names, numbers, real-time; canonical names', () => {
    for (const [given, name] of [
      ['SIGKILL', 'SIGKILL'],
      ['kill', 'SIGKILL'],
      ['9', 'SIGKILL'],
      ['SIGIOT', 'SIGABRT'],
      ['RTMIN+3', 'SIGRTMIN+3'],
      ['sigrtmax-1', 'SIGRTMAX-1'],
      ['34', 'SIGRTMIN'],
      ['64', 'SIGRTMAX'],
    ]) {
      assert.equal(containerConfigFor({ StopSignal: given }).stopSignal, name, given);
    }
    assert.deepEqual(parseStopSignal('SIGTERM'), { name: 'SIGTERM', number: 15 });
    for (const bad of ['SIGFOO', '0', '32', '65', 'RTMIN+40', ' 9']) {
      assert.throws(() => containerConfigFor({ StopSignal: bad }), /image config: StopSignal: invalid signal/, bad);
    }
  });
});

describe('--change', () => {
  const base: ImageRuntimeConfig = { Entrypoint: ['/e'], Cmd: ['c'], Env: ['PATH=/bin', 'A=1'], WorkingDir: '/srv' };
  const change = (...c: string[]) => applyConfigChanges(base, c);

  test('CMD in JSON and shell form', () => {
    assert.deepEqual(change('CMD ["a", "b c"]').Cmd, ['a', 'b c']);
    assert.deepEqual(change('CMD a b  $A').Cmd, ['/bin/sh', '-c', 'a b  $A']);
    assert.deepEqual(change('CMD []').Cmd, []);
    assert.deepEqual(change('cmd [a,b]').Cmd, ['/bin/sh', '-c', '[a,b]'], 'not JSON: the shell form, as Docker');
    assert.deepEqual(applyConfigChanges({ Shell: ['/bin/bash', '-ec'] }, ['CMD x']).Cmd, ['/bin/bash', '-ec', 'x']);
  });
  test('ENTRYPOINT resets Cmd unless a CMD came before it', () => {
    const e = change('ENTRYPOINT ["/x"]');
    assert.deepEqual([e.Entrypoint, e.Cmd], [['/x'], undefined]);
    const both = change('CMD ["y"]', 'ENTRYPOINT /x');
    assert.deepEqual([both.Entrypoint, both.Cmd], [['/bin/sh', '-c', '/x'], ['y']]);
    const after = change('ENTRYPOINT ["/x"]', 'CMD ["y"]');
    assert.deepEqual([after.Entrypoint, after.Cmd], [['/x'], ['y']]);
  });
  test('ENV: pairs, quotes, the legacy form, variables from before the instruction', () => {
    assert.deepEqual(change('ENV A=2 B="two words" C=\'$A\' D=$A E=${A}x').Env, ['PATH=/bin', 'A=2', 'B=two words', 'C=$A', 'D=1', 'E=1x']);
    assert.deepEqual(change('ENV G hello   world').Env, ['PATH=/bin', 'A=1', 'G=hello   world']);
    assert.deepEqual(change('ENV PATH=$PATH:/usr/bin', 'ENV X=$PATH').Env, ['PATH=/bin:/usr/bin', 'A=1', 'X=/bin:/usr/bin']);
    assert.deepEqual(change('ENV U=${NOPE:-dflt} V=${A:+set} W=${NOPE:+set} X=a\\ b').Env?.slice(2), ['U=dflt', 'V=set', 'W=', 'X=a b']);
    assert.throws(() => change('ENV A=${NOPE:?required}'), /NOPE: required/);
    assert.throws(() => change('ENV A=${A/x/y}'), /unsupported substitution/);
    assert.throws(() => change('ENV A="open'), /unterminated quote/);
    assert.throws(() => change('ENV'), /ENV needs at least one argument/);
    assert.throws(() => change('ENV A=1 B'), /"B" is not of the form NAME=VALUE/);
  });
  test('LABEL, EXPOSE, VOLUME, USER, WORKDIR, STOPSIGNAL', () => {
    const c = applyConfigChanges({ Labels: { old: '1' }, ExposedPorts: { '22/tcp': {} }, WorkingDir: '/srv', Env: ['D=/data'] }, [
      'LABEL "com.example.name"="my app" version=1.0',
      'EXPOSE 80 53/udp 8000-8001',
      'VOLUME ["/a", "$D"]',
      'VOLUME /b /c',
      'USER app:staff',
      'WORKDIR www',
      'STOPSIGNAL SIGQUIT',
    ]);
    assert.deepEqual(c.Labels, { old: '1', 'com.example.name': 'my app', version: '1.0' });
    assert.deepEqual(Object.keys(c.ExposedPorts!), ['22/tcp', '80/tcp', '53/udp', '8000/tcp', '8001/tcp']);
    assert.deepEqual(Object.keys(c.Volumes!), ['/a', '/data', '/b', '/c']);
    assert.equal(c.User, 'app:staff');
    assert.equal(c.WorkingDir, '/srv/www');
    assert.equal(c.StopSignal, 'SIGQUIT');
    assert.equal(applyConfigChanges({}, ['WORKDIR rel']).WorkingDir, '/rel');
  });
  test('values are validated', () => {
    assert.throws(() => change('EXPOSE 99999'), /--change "EXPOSE 99999": ports are 1 to 65535/);
    assert.throws(() => change('VOLUME rel'), /a volume is an absolute path/);
    assert.throws(() => change('STOPSIGNAL SIGNOPE'), /invalid signal "SIGNOPE"/);
    assert.throws(() => change('CMD ["a", 1]'), /a JSON array must hold only strings/);
    assert.throws(() => change('USER'), /USER needs exactly one argument/);
  });
  test('continuation lines and comments, as a Dockerfile', () => {
    assert.deepEqual(change('# a comment\nENV X=1 \\\n  Y=2').Env, ['PATH=/bin', 'A=1', 'X=1', 'Y=2']);
  });
  test('other instructions are refused', () => {
    assert.throws(() => change('RUN rm -rf /'), (e: any) => e.code === 'invalid-argument' && /RUN is not a valid change command \(valid: CMD, ENTRYPOINT/.test(e.message));
    assert.throws(() => change('FROM x'), /FROM is not a valid change command/);
    assert.throws(() => change('HEALTHCHECK NONE'), (e: any) => e.code === 'unsupported');
    assert.throws(() => change('ONBUILD RUN x'), (e: any) => e.code === 'unsupported');
  });
  test('a parsed image config (manifest.ts) goes in and comes out as one', () => {
    const parsed: ContainerConfig = { Cmd: ['x'], Healthcheck: { Test: null } };
    const changed: ContainerConfig = applyConfigChanges(parsed, ['CMD y']);
    assert.deepEqual(changed.Cmd, ['/bin/sh', '-c', 'y']);
    assert.equal(containerConfigFor(parsed).stopSignal, 'SIGTERM');
  });
  test('the input config is not modified', () => {
    const before = structuredClone(base);
    change('ENV A=9', 'ENTRYPOINT x', 'LABEL a=b');
    assert.deepEqual(base, before);
  });
});
