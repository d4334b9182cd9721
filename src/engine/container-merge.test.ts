import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { describe, test } from 'node:test';
import type { ImageRuntimeConfig } from '../image/runtime-config.ts';
import type { ContainerConfig } from './container-config.ts';
import { defaultHostname, healthcheckDisabled, mergeImageConfig } from './container-merge.ts';

const image: ImageRuntimeConfig = {
  Env: ['PATH=/usr/bin:/bin', 'LANG=C', 'APP=1'],
  Entrypoint: ['/entry', '-v'],
  Cmd: ['serve'],
  WorkingDir: '/srv',
  User: 'app',
  Labels: { a: 'image', b: 'image' },
  Volumes: { '/data': {} },
  ExposedPorts: { '80/tcp': {} },
  StopSignal: 'quit',
  Healthcheck: { Test: ['CMD', 'check'], Interval: 30e9, Retries: 3 },
};
const merge = (user: Partial<ContainerConfig>, img: ImageRuntimeConfig = image) => mergeImageConfig(user, img, 'example:1');
const invalidArg = (re: RegExp) => (e: any) => e.code === 'invalid-argument' && re.test(e.message);

describe('Env', () => {
  test("the user's first, then the image's not overridden (Docker's order)", () => {
    assert.deepEqual(merge({ Env: ['LANG=de', 'X=y'] }).Env, ['LANG=de', 'X=y', 'PATH=/usr/bin:/bin', 'APP=1']);
  });
  test("the image's alone", () => assert.deepEqual(merge({}).Env, image.Env));
  test('a bare NAME stays (it unsets the variable at start) and hides the image value', () => {
    assert.deepEqual(merge({ Env: ['APP'] }).Env, ['APP', 'PATH=/usr/bin:/bin', 'LANG=C']);
  });
  test('an empty name is refused', () => assert.throws(() => merge({ Env: ['=x'] }), invalidArg(/-e "=x"/)));
});

describe('Entrypoint and Cmd', () => {
  const argv = (c: ContainerConfig) => [...(c.Entrypoint ?? []), ...(c.Cmd ?? [])];
  test("the image's", () => assert.deepEqual(argv(merge({})), ['/entry', '-v', 'serve']));
  test('a cmd replaces the image Cmd only', () => assert.deepEqual(argv(merge({ Cmd: ['x'] })), ['/entry', '-v', 'x']));
  test('--entrypoint drops the image Cmd', () => {
    const c = merge({ Entrypoint: ['/bin/sh'] });
    assert.deepEqual([c.Entrypoint, c.Cmd], [['/bin/sh'], null]);
  });
  test('--entrypoint with a cmd', () => assert.deepEqual(argv(merge({ Entrypoint: ['/bin/sh'], Cmd: ['-c', 'id'] })), ['/bin/sh', '-c', 'id']));
  test('--entrypoint "" with a cmd: no entrypoint at all', () => {
    const c = merge({ Entrypoint: [''], Cmd: ['ls'] });
    assert.deepEqual([c.Entrypoint, c.Cmd], [null, ['ls']]);
  });
  test('--entrypoint "" alone: no command', () => assert.throws(() => merge({ Entrypoint: [''] }), invalidArg(/no command specified/)));
  test('the API\'s "Entrypoint": [] keeps the image Cmd', () => assert.deepEqual(argv(merge({ Entrypoint: [] })), ['serve']));
  test('an empty Cmd is no Cmd', () => assert.deepEqual(merge({ Cmd: [] }).Cmd, ['serve']));
  test('nothing anywhere: no command', () => assert.throws(() => merge({}, {}), invalidArg(/no command specified/)));
  test("the image's single-string form", () => assert.deepEqual(merge({}, { Cmd: 'sh' as never }).Cmd, ['sh']));
});

describe('the other fields', () => {
  test("WorkingDir: the user's, normalized", () => assert.equal(merge({ WorkingDir: '/a//b/' }).WorkingDir, '/a/b'));
  test('WorkingDir: a relative one is refused, naming -w', () => assert.throws(() => merge({ WorkingDir: 'rel' }), invalidArg(/^-w: the working directory "rel"/)));
  test("WorkingDir: the image's", () => assert.equal(merge({}).WorkingDir, '/srv'));
  test("User: the user's, else the image's", () => {
    assert.equal(merge({ User: '1:1' }).User, '1:1');
    assert.equal(merge({}).User, 'app');
    assert.equal(merge({}, { Cmd: ['x'], User: null }).User, '');
  });
  test("Labels: the image's, then the user's", () => assert.deepEqual(merge({ Labels: { b: 'user', c: 'user' } }).Labels, { a: 'image', b: 'user', c: 'user' }));
  test('Volumes: the union', () => assert.deepEqual(merge({ Volumes: { '/logs/': {} } }).Volumes, { '/data': {}, '/logs': {} }));
  test('Volumes: none is null', () => assert.equal(merge({}, { Cmd: ['x'] }).Volumes, null));
  test('Volumes: a relative one is refused', () => assert.throws(() => merge({ Volumes: { rel: {} } }), invalidArg(/-v "rel"/)));
  test('ExposedPorts: the union, the protocol spelled out', () => {
    assert.deepEqual(merge({ ExposedPorts: { '53/udp': {}, '8080': {} } }).ExposedPorts, { '80/tcp': {}, '53/udp': {}, '8080/tcp': {} });
  });
  test('ExposedPorts: a bad one is refused', () => assert.throws(() => merge({ ExposedPorts: { '99999': {} } }), invalidArg(/--expose "99999"/)));
  test("StopSignal: the image's, canonical; the user's as given", () => {
    assert.equal(merge({}).StopSignal, 'SIGQUIT');
    assert.equal(merge({ StopSignal: '9' }).StopSignal, '9');
    assert.equal(merge({}, { Cmd: ['x'] }).StopSignal, undefined);
  });
  test('StopSignal: a bad one is refused', () => assert.throws(() => merge({ StopSignal: 'SIGNOPE' }), invalidArg(/--stop-signal/)));
  test('Hostname stays empty (the engine sets it from the id)', () => assert.equal(merge({}).Hostname, ''));
  test('Image is the reference as given; the flags default to false', () => {
    const c = merge({ Tty: true });
    assert.equal(c.Image, 'example:1');
    assert.deepEqual([c.Tty, c.OpenStdin, c.AttachStdout], [true, false, false]);
  });
});

describe('Healthcheck', () => {
  test("the image's", () => assert.deepEqual(merge({}).Healthcheck, image.Healthcheck));
  test("the user's fields win, the image's fill the rest", () => {
    assert.deepEqual(merge({ Healthcheck: { Interval: 5e9, Timeout: 2e9 } }).Healthcheck, { Test: ['CMD', 'check'], Interval: 5e9, Timeout: 2e9, Retries: 3 });
  });
  test('["NONE"] is kept and means off', () => {
    const h = merge({ Healthcheck: { Test: ['NONE'] } }).Healthcheck;
    assert.deepEqual(h?.Test, ['NONE']);
    assert.equal(healthcheckDisabled(h), true);
    assert.equal(healthcheckDisabled(merge({}).Healthcheck), false);
  });
  test('none anywhere: none', () => assert.equal(merge({}, { Cmd: ['x'] }).Healthcheck, undefined));
});

describe('defaultHostname', () => {
  test('the short id', () => assert.equal(defaultHostname('0123456789abcdef'.repeat(4)), '0123456789ab'));
  test("the host's name with --network host", () => assert.equal(defaultHostname('0'.repeat(64), 'host'), hostname()));
});
