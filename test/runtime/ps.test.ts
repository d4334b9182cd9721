import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { baseSpec, Bundle } from '../helpers/bundle.ts';

const bundles: Bundle[] = [];
const detach = (b: Bundle) => {
  const r = b.hako(['run', '--detach', '--bundle', b.dir, b.id]);
  assert.equal(r.status, 0, r.stderr);
};
after(() => bundles.forEach((b) => b.cleanup()));

describe('ps', () => {
  test('lists the processes in the container cgroup: ps -ef rows by default, pids with --format json', () => {
    const b = new Bundle(baseSpec('sleep 31 & sleep 32; true'));
    bundles.push(b);
    detach(b);
    const init = b.state().pid;

    const json = b.hako(['ps', '--format', 'json', b.id]);
    assert.equal(json.status, 0, json.stderr);
    const pids: number[] = JSON.parse(json.stdout);
    assert.equal(pids.length, 3, 'sh and two sleeps');
    assert.ok(pids.includes(init));

    const table = b.hako(['ps', b.id]);
    assert.equal(table.status, 0, table.stderr);
    const [header, ...rows] = table.stdout.trimEnd().split('\n');
    assert.match(header!, /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/);
    assert.equal(rows.length, 3);
    assert.ok(rows.some((r) => / sleep 31$/.test(r)));
    assert.ok(rows.some((r) => / sleep 32$/.test(r)));
    assert.ok(!rows.some((r) => /node|hako/.test(r)), 'nothing from the host');

    // Anything after the id goes to ps.
    const custom = b.hako(['ps', b.id, '-o', 'pid,comm']);
    assert.equal(custom.status, 0, custom.stderr);
    assert.deepEqual(custom.stdout.trimEnd().split('\n').slice(1).map((l) => l.trim().split(/\s+/)[1]).sort(), ['sh', 'sleep', 'sleep']);

    assert.match(b.hako(['ps', '--format', 'yaml', b.id]).stderr, /invalid format "yaml"/);
    assert.equal(b.hako(['delete', '--force', b.id]).status, 0);
    assert.match(b.hako(['ps', b.id]).stderr, /does not exist/);
  });
});
