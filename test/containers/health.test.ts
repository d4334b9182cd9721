import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Engine } from '../helpers/engine.ts';

/** Health checks, run by the monitor's tick: starting → unhealthy after Retries failures → healthy once the probe passes. */
describe('health checks', () => {
  let e: Engine;
  before(() => (e = new Engine('hako-health-')));
  after(() => e.cleanup());

  const health = (id: string) => JSON.parse(e.ok(['inspect', '-f', '{{json .State.Health}}', id])) as { Status: string; FailingStreak: number; Log: { ExitCode: number; Output: string }[] };

  async function until(what: string, fn: () => boolean, ms = 15_000): Promise<void> {
    const end = Date.now() + ms;
    while (!fn()) {
      if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  test('--health-cmd: unhealthy while the probe fails, healthy once it passes, shown by ps', async () => {
    const id = e.track(
      e.ok(['run', '-d', '--health-cmd', 'test -f /tmp/ok && echo fine', '--health-interval', '1s', '--health-retries', '2', 'busybox', 'sh', '-c', 'sleep 300']),
    );
    assert.match(e.ok(['ps', '--format', '{{.Status}}', '-f', `id=${id}`]), /\(health: starting\)/);
    await until('unhealthy', () => health(id).Status === 'unhealthy');
    assert.ok(health(id).FailingStreak >= 2);
    e.ok(['exec', id, 'touch', '/tmp/ok']);
    await until('healthy', () => health(id).Status === 'healthy');
    const h = health(id);
    assert.equal(h.FailingStreak, 0);
    assert.equal(h.Log.at(-1)!.ExitCode, 0);
    assert.equal(h.Log.at(-1)!.Output, 'fine\n');
    assert.ok(h.Log.length <= 5);
    assert.match(e.ok(['ps', '--format', '{{.Status}}', '-f', `id=${id}`]), /\(healthy\)/);
    e.ok(['rm', '-f', id]);
  });

  test('--no-healthcheck: no Health at all', () => {
    const id = e.track(e.ok(['run', '-d', '--no-healthcheck', 'busybox', 'sleep', '300']));
    assert.equal(e.ok(['inspect', '-f', '{{json .State.Health}}', id]).trim(), 'null');
    e.ok(['rm', '-f', id]);
  });
});
