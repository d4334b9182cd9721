import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, test } from 'node:test';
import { baseSpec, Bundle } from '../helpers/bundle.ts';

const bundles: Bundle[] = [];
const detach = (b: Bundle) => {
  const r = b.hako(['run', '--detach', '--bundle', b.dir, b.id]);
  assert.equal(r.status, 0, r.stderr);
};
after(() => bundles.forEach((b) => b.cleanup()));

/** The container appends a byte every 20 ms: the file's size is the counter (never seen half-written). */
const counter = (b: Bundle) => statSync(join(b.rootfs, 'count'), { throwIfNoEntry: false })?.size ?? 0;

describe('pause / resume', () => {
  test('pause freezes the container (a counter stops, state says paused); resume thaws it', async () => {
    const b = new Bundle(baseSpec('while true; do echo -n x >> /count; sleep 0.02; done'));
    bundles.push(b);
    detach(b);
    await sleep(200);
    assert.ok(counter(b) > 0);

    const p = b.hako(['pause', b.id]);
    assert.equal(p.status, 0, p.stderr);
    assert.equal(b.state().status, 'paused');
    const frozenAt = counter(b);
    await sleep(300);
    assert.equal(counter(b), frozenAt, 'the counter does not move while paused');

    const again = b.hako(['pause', b.id]);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /^hako: container not running$/m);

    const r = b.hako(['resume', b.id]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(b.state().status, 'running');
    await sleep(300);
    assert.ok(counter(b) > frozenAt, 'the counter moves again');

    const notPaused = b.hako(['resume', b.id]);
    assert.equal(notPaused.status, 1);
    assert.match(notPaused.stderr, /^hako: container not paused$/m);
    assert.equal(b.hako(['delete', '--force', b.id]).status, 0);
  });

  test('a paused container can be deleted with --force', () => {
    const b = new Bundle(baseSpec('sleep 30'));
    bundles.push(b);
    detach(b);
    assert.equal(b.hako(['pause', b.id]).status, 0);
    const del = b.hako(['delete', b.id]);
    assert.match(del.stderr, /not stopped: paused/);
    assert.equal(b.hako(['delete', '--force', b.id]).status, 0);
    assert.deepEqual(b.leftovers(), []);
  });

  test('pausing a stopped container fails as runc does', async () => {
    const b = new Bundle(baseSpec('true'));
    bundles.push(b);
    detach(b);
    for (let i = 0; i < 200 && b.state().status !== 'stopped'; i++) await sleep(10);
    const r = b.hako(['pause', b.id]);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, 'hako: container not running\n');
    const nope = b.hako(['pause', 'no-such-container']);
    assert.match(nope.stderr, /does not exist/);
  });
});
