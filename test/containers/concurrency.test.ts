import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Engine } from '../helpers/engine.ts';

/**
 * Many hako processes at once: 20 `run -d` from 20 separate CLI processes all run, `ps`
 * lists exactly them; then `rm -f` of all and `rmi` of every image leave nothing of hako
 * on the host: no mount, cgroup, monitor process, runtime state or directory.
 */
describe('concurrency and cleanup', () => {
  let e: Engine;
  before(() => (e = new Engine('hako-conc-')));
  after(() => e.cleanup());

  test('20 containers started at once from 20 processes all run; ps lists exactly them', async () => {
    const runs = await Promise.all(Array.from({ length: 20 }, (_, i) => e.spawn(['run', '-d', '--name', `c${i}`, '--label', 'batch=1', 'busybox', 'sleep', '300'])));
    for (const [i, r] of runs.entries()) assert.equal(r.status, 0, `run ${i}: ${r.stderr}`);
    const ids = runs.map((r) => e.track(r.stdout));
    assert.equal(new Set(ids).size, 20);
    for (const id of ids) assert.match(id, /^[0-9a-f]{64}$/);
    const listed = e.ok(['ps', '-q', '--no-trunc']).split('\n').filter(Boolean).sort();
    assert.deepEqual(listed, [...ids].sort());
    const names = e.ok(['ps', '--format', '{{.Names}} {{.State}}']).split('\n').filter(Boolean).sort();
    assert.deepEqual(names, Array.from({ length: 20 }, (_, i) => `c${i} running`).sort());
    // and their processes are really there: one `sleep 300` per container, each in its own cgroup
    for (const id of ids.slice(0, 3)) {
      assert.match(e.ok(['top', id]), /sleep 300/);
    }
  });

  test('a name taken by a concurrent create is refused, never duplicated', async () => {
    const runs = await Promise.all(Array.from({ length: 6 }, () => e.spawn(['create', '--name', 'same', 'busybox', 'true'])));
    const won = runs.filter((r) => r.status === 0);
    assert.equal(won.length, 1, runs.map((r) => r.stderr).join(''));
    e.track(won[0]!.stdout);
    for (const r of runs.filter((x) => x.status !== 0)) assert.match(r.stderr, /Conflict\. The container name "\/same" is already in use/);
  });

  test('rm of every container and rmi of every image leave nothing behind', async () => {
    const withVolume = e.track(e.ok(['run', '-d', '-v', '/data', '--tmpfs', '/scratch', 'busybox', 'sleep', '300']));
    const exited = e.track(e.ok(['run', '-d', 'busybox', 'true']));
    assert.ok(withVolume && exited);
    const all = e.ok(['ps', '-aq', '--no-trunc']).split('\n').filter(Boolean);
    assert.ok(all.length >= 23);
    const removals = await Promise.all(all.map((id) => e.spawn(['rm', '-f', '-v', id])));
    for (const r of removals) assert.equal(r.status, 0, r.stderr);
    assert.equal(e.ok(['ps', '-aq']), '');
    for (const img of e.ok(['images', '-q']).split('\n').filter(Boolean)) e.ok(['rmi', '-f', img]);
    assert.equal(e.ok(['images', '-q']), '');
    assert.equal(e.ok(['volume', 'ls', '-q']), '');
    assert.deepEqual(e.leftovers(), []);
  });
});
