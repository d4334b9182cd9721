import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, test } from 'node:test';
import { baseSpec, Bundle, HAKO } from '../helpers/bundle.ts';

const bundles: Bundle[] = [];
const detach = (b: Bundle) => {
  const r = b.hako(['run', '--detach', '--bundle', b.dir, b.id]);
  assert.equal(r.status, 0, r.stderr);
};
after(() => bundles.forEach((b) => b.cleanup()));

async function until(what: string, cond: () => boolean, ms = 20_000): Promise<void> {
  for (const end = Date.now() + ms; !cond(); await sleep(20)) if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
}

describe('events', () => {
  test('a memory hog over linux.resources.memory.limit is OOM-killed and events reports {"type":"oom"}', async () => {
    // The hog waits for /go, so that events has read the OOM counter before it starts.
    const spec = baseSpec('while [ ! -e /go ]; do sleep 0.05; done; head -c 100m /dev/zero | tail; echo "tail: $?" > /result; sleep 30');
    spec.linux!.resources = { memory: { limit: 16 << 20 } };
    const b = new Bundle(spec);
    bundles.push(b);
    detach(b);

    const ev = spawn(HAKO, ['runtime', '--root', b.stateRoot, 'events', '--interval', '200ms', b.id], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    ev.stdout.setEncoding('utf8').on('data', (d: string) => (text += d));
    ev.stderr.setEncoding('utf8').on('data', (d: string) => (text += d));
    const lines = () => text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { type: string; id: string; data?: Record<string, any> });
    try {
      await until('a first stats event', () => lines().some((e) => e.type === 'stats'));
      const stats = lines().find((e) => e.type === 'stats')!;
      assert.equal(stats.id, b.id);
      assert.equal(stats.data!['memory'].usage.limit, 16 << 20);
      writeFileSync(join(b.rootfs, 'go'), '');
      await until('the oom event', () => lines().some((e) => e.type === 'oom'));
      assert.deepEqual(lines().find((e) => e.type === 'oom'), { type: 'oom', id: b.id });
      await until('the hog to end', () => existsSync(join(b.rootfs, 'result')));
      assert.equal(readFileSync(join(b.rootfs, 'result'), 'utf8'), 'tail: 137\n', 'tail died of SIGKILL');
    } finally {
      ev.kill();
    }
    // events ends by itself once the container is gone.
    const ev2 = spawn(HAKO, ['runtime', '--root', b.stateRoot, 'events', b.id], { stdio: 'ignore' });
    const exited = new Promise<number | null>((res) => ev2.on('exit', res));
    await sleep(300);
    assert.equal(b.hako(['kill', b.id, 'KILL']).status, 0);
    assert.equal(await Promise.race([exited, sleep(5000).then(() => 'still running')]), 0);
    assert.equal(b.hako(['delete', b.id]).status, 0);
  });

  test('events --stats prints one stats object with cpu, memory and pids numbers', () => {
    const spec = baseSpec('sleep 30');
    spec.linux!.resources = { pids: { limit: 50 }, memory: { limit: 64 << 20 } };
    const b = new Bundle(spec);
    bundles.push(b);
    detach(b);
    const r = b.hako(['events', '--stats', b.id]);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 1);
    const e = JSON.parse(lines[0]!);
    assert.equal(e.type, 'stats');
    assert.equal(e.id, b.id);
    assert.ok(e.data.cpu.usage.total > 0, 'cpu time used');
    assert.ok(e.data.memory.usage.usage > 0, 'memory in use');
    assert.equal(e.data.memory.usage.limit, 64 << 20);
    assert.ok(e.data.pids.current >= 1);
    assert.equal(e.data.pids.limit, 50);
    assert.ok(Array.isArray(e.data.blkio.ioServiceBytesRecursive));
    assert.equal(b.hako(['delete', '--force', b.id]).status, 0);

    const gone = b.hako(['events', '--stats', b.id]);
    assert.equal(gone.status, 1);
    assert.match(gone.stderr, /does not exist/);
    assert.match(b.hako(['events', '--interval', 'soon', b.id]).stderr, /invalid --interval "soon"/);
  });
});
