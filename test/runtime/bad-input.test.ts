import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { baseSpec, Bundle } from '../helpers/bundle.ts';
import type { Spec } from '../../src/runtime/spec-types.ts';

const bundles: Bundle[] = [];
after(() => bundles.forEach((b) => b.cleanup()));
const fresh = (spec: Spec = baseSpec()) => {
  const b = new Bundle(spec);
  bundles.push(b);
  return b;
};

/** create must fail with MESSAGE and leave no state, cgroup or mount behind. */
function refused(b: Bundle, message: RegExp, id = b.id) {
  const r = b.hako(['create', '--bundle', b.dir, id]);
  assert.equal(r.status, 1, r.stdout);
  assert.match(r.stderr, message);
  assert.equal(r.stderr.trim().split('\n').length, 1, `one clear line: ${r.stderr}`);
  assert.deepEqual(b.leftovers(), []);
}

describe('bad input gets a clear error and leaves nothing behind', () => {
  test('missing config.json', () => {
    const b = fresh();
    rmSync(join(b.dir, 'config.json'));
    refused(b, /^hako: .*config\.json: no such file/);
  });

  test('config.json that is not JSON', () => {
    const b = fresh();
    writeFileSync(join(b.dir, 'config.json'), '{"ociVersion": "1.2.0",');
    refused(b, /^hako: .*config\.json: invalid JSON/);
  });

  test('unsupported ociVersion', () => {
    const spec = baseSpec();
    spec.ociVersion = '2.0.0';
    refused(fresh(spec), /^hako: config\.json: unsupported ociVersion "2\.0\.0"/);
  });

  test('unknown namespace type', () => {
    const spec = baseSpec();
    spec.linux!.namespaces!.push({ type: 'bogus' as 'pid' });
    refused(fresh(spec), /^hako: config\.json: linux\.namespaces\[5\]: unknown namespace type "bogus"/);
  });

  test('a missing rootfs', () => {
    const spec = baseSpec();
    spec.root!.path = 'no-such-rootfs';
    refused(fresh(spec), /^hako: rootfs .*no-such-rootfs does not exist/);
  });

  test('a bind mount whose source does not exist', () => {
    const spec = baseSpec();
    spec.mounts!.push({ destination: '/x', type: 'bind', source: '/no/such/source', options: ['bind'] });
    refused(fresh(spec), /^hako: config\.json: mounts\[6\] \(\/x\): bind source \/no\/such\/source does not exist/);
  });

  test('a mount the kernel refuses: the failing syscall and errno reach the user', () => {
    const spec = baseSpec();
    spec.mounts!.push({ destination: '/x', type: 'nosuchfs', source: 'none' });
    refused(fresh(spec), /^hako: mount .*\/x.*: No such device$/m);
  });

  test('an invalid container id', () => {
    const b = fresh();
    refused(b, /^hako: invalid container id "\.\.\/escape"/, '../escape');
  });

  test('a duplicate container id, and the first container is untouched', () => {
    const b = fresh(baseSpec('sleep 30'));
    assert.equal(b.hako(['create', '-b', b.dir, b.id]).status, 0);
    const r = b.hako(['create', '-b', b.dir, b.id]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`^hako: container with id "${b.id}" already exists`));
    assert.equal(b.state().status, 'created');
    assert.equal(b.hako(['delete', b.id]).status, 0);
    assert.deepEqual(b.leftovers(), []);
  });

  test('start of a container that is not created', () => {
    const b = fresh(baseSpec('true'));
    assert.equal(b.hako(['create', '-b', b.dir, b.id]).status, 0);
    assert.equal(b.hako(['start', b.id]).status, 0);
    for (let i = 0; i < 200 && b.state().status !== 'stopped'; i++) spawnSync('sleep', ['0.01']);
    const r = b.hako(['start', b.id]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^hako: cannot start a container that has stopped$/m);
    assert.equal(b.hako(['delete', b.id]).status, 0);
    const missing = b.hako(['start', 'never-created']);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /container "never-created" does not exist/);
  });

  test('unknown flags and missing arguments', () => {
    const b = fresh();
    const r1 = b.hako(['create', '--no-such-flag', 'x']);
    assert.equal(r1.status, 1);
    assert.match(r1.stderr, /Unknown option '--no-such-flag'/);
    const r2 = b.hako(['start']);
    assert.equal(r2.status, 1);
    assert.match(r2.stderr, /"start" requires exactly 1 argument/);
  });
});
