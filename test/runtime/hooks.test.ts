import assert from 'node:assert/strict';
import { readFileSync, readlinkSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { baseSpec, Bundle } from '../helpers/bundle.ts';
import type { SpecHook } from '../../src/runtime/spec-types.ts';

const bundles: Bundle[] = [];
after(() => bundles.forEach((b) => b.cleanup()));

/** A hook that appends "PHASE <its stdin> <extra>" to LOG. */
const hostHook = (phase: string, log: string, extra = ''): SpecHook => ({
  path: '/bin/sh',
  args: ['sh', '-c', `echo "${phase} $(cat) ${extra}" >> ${log}`],
});

describe('hooks', () => {
  test('each hook runs at its point, in its namespace, with the state on stdin', () => {
    const spec = baseSpec('echo running > /hooklog/main');
    const b = new Bundle(spec);
    bundles.push(b);
    const logDir = join(b.dir, 'hooklog');
    mkdirSync(logDir);
    const log = join(logDir, 'log');
    spec.mounts!.push({ destination: '/hooklog', type: 'bind', source: logDir, options: ['bind'] });
    spec.hostname = 'hooked';
    spec.hooks = {
      prestart: [hostHook('prestart', log)],
      createRuntime: [hostHook('createRuntime', log)],
      createContainer: [hostHook('createContainer', log, '$(readlink /proc/self/ns/mnt)')],
      // startContainer's path resolves inside the container: busybox sh, the bound log dir.
      startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'echo "startContainer $(cat) $(hostname) $(cat /hooklog/main 2>/dev/null || echo not-yet)" >> /hooklog/log'] }],
      poststart: [hostHook('poststart', log)],
      poststop: [hostHook('poststop', log)],
    };
    spec.annotations = { 'org.hako.test': 'hooks' };
    b.write(spec);
    assert.equal(b.hako(['create', '-b', b.dir, b.id]).status, 0);
    const pid = b.state().pid;
    const afterCreate = readFileSync(log, 'utf8').trim().split('\n');
    assert.deepEqual(afterCreate.map((l) => l.split(' ')[0]), ['prestart', 'createRuntime', 'createContainer']);
    const s = b.hako(['start', b.id]);
    assert.equal(s.status, 0, s.stderr);
    for (let i = 0; i < 300 && b.state().status !== 'stopped'; i++) spawnSync('sleep', ['0.01']);
    assert.equal(b.hako(['delete', b.id]).status, 0);

    const lines = readFileSync(log, 'utf8').trim().split('\n');
    const phases = lines.map((l) => l.split(' ')[0]!);
    assert.deepEqual(phases.slice(0, 3), ['prestart', 'createRuntime', 'createContainer']);
    // startContainer runs in the init after the exec fifo is released, poststart in `start`
    // after it released it: like runc, the two race.
    assert.deepEqual(phases.slice(3, 5).sort(), ['poststart', 'startContainer']);
    assert.equal(phases[5], 'poststop');
    const stateOf = (line: string) => JSON.parse(line.slice(line.indexOf('{'), line.lastIndexOf('}') + 1));
    // prestart sees "created" (its legacy meaning, as crun); createRuntime/createContainer "creating".
    const expected: Record<string, string> = { prestart: 'created', createRuntime: 'creating', createContainer: 'creating', startContainer: 'created', poststart: 'running', poststop: 'stopped' };
    lines.forEach((line, i) => {
      const st = stateOf(line);
      assert.equal(st.status, expected[phases[i]!], line);
      assert.equal(st.id, b.id);
      assert.equal(st.bundle, b.dir);
      assert.deepEqual(st.annotations, { 'org.hako.test': 'hooks' });
      if (phases[i] !== 'poststop') assert.equal(st.pid, pid, line);
    });
    // createContainer ran in the container's mount namespace, startContainer inside the
    // container (its hostname) before the program ran.
    assert.notEqual(lines[2]!.split(' ').pop(), readlinkSync('/proc/self/ns/mnt'));
    assert.match(lines[phases.indexOf('startContainer')]!, / hooked not-yet$/);
  });

  test('a hook over its timeout fails create and leaves nothing behind', () => {
    const spec = baseSpec('true');
    spec.hooks = { createRuntime: [{ path: '/bin/sleep', args: ['sleep', '10'], timeout: 1 }] };
    const b = new Bundle(spec);
    bundles.push(b);
    const t0 = Date.now();
    const r = b.hako(['create', '-b', b.dir, b.id]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /hako: createRuntime hook #0 \(\/bin\/sleep\): timed out after 1 s/);
    assert.ok(Date.now() - t0 < 8000);
    assert.deepEqual(b.leftovers(), []);
  });

  test('a failing createContainer hook fails create with its exit status', () => {
    const spec = baseSpec('true');
    spec.hooks = { createContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'exit 7'] }] };
    const b = new Bundle(spec);
    bundles.push(b);
    const r = b.hako(['create', '-b', b.dir, b.id]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /hako: .*hook.*\/bin\/sh.*exit status 7/);
    assert.deepEqual(b.leftovers(), []);
  });

  test('a createContainer hook over its timeout is killed', () => {
    const spec = baseSpec('true');
    spec.hooks = { createContainer: [{ path: '/bin/sleep', args: ['sleep', '10'], timeout: 1 }] };
    const b = new Bundle(spec);
    bundles.push(b);
    const r = b.hako(['create', '-b', b.dir, b.id]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /timed out after 1 s/);
    assert.deepEqual(b.leftovers(), []);
  });
});
