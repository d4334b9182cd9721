import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { baseSpec, Bundle } from '../helpers/bundle.ts';

const bundles: Bundle[] = [];
const detach = (b: Bundle) => {
  const r = b.hako(['run', '--detach', '--bundle', b.dir, b.id]);
  assert.equal(r.status, 0, r.stderr);
};
after(() => bundles.forEach((b) => b.cleanup()));

const v1 = existsSync('/sys/fs/cgroup/memory/memory.limit_in_bytes') && existsSync('/sys/fs/cgroup/pids/cgroup.procs');
const cg = (b: Bundle, hierarchy: string, file: string) => readFileSync(join('/sys/fs/cgroup', hierarchy, 'hako', b.id, file), 'utf8').trim();
const record = (b: Bundle) => JSON.parse(readFileSync(join(b.stateRoot, b.id, 'state.json'), 'utf8'));

describe('update', { skip: !v1 && 'the live-cgroup checks read v1 files; v2 writes are unit-tested in src/runtime/cgroups' }, () => {
  test('flags change the live cgroup and the container record', () => {
    const spec = baseSpec('sleep 30');
    spec.linux!.resources = { memory: { limit: 64 << 20 }, pids: { limit: 100 } };
    const b = new Bundle(spec);
    bundles.push(b);
    detach(b);
    assert.equal(cg(b, 'memory', 'memory.limit_in_bytes'), String(64 << 20));

    const r = b.hako(['update', '--memory', '32m', '--memory-swap', '-1', '--pids-limit', '20', '--cpu-shares', '256', '--cpu-quota', '20000', '--cpu-period', '100000', '--cpuset-cpus', '0', b.id]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(cg(b, 'memory', 'memory.limit_in_bytes'), String(32 << 20));
    assert.equal(cg(b, 'pids', 'pids.max'), '20');
    assert.equal(cg(b, 'cpu', 'cpu.shares'), '256');
    assert.equal(cg(b, 'cpu', 'cpu.cfs_quota_us'), '20000');
    assert.equal(cg(b, 'cpuset', 'cpuset.cpus'), '0');
    const res = record(b).spec.linux.resources;
    assert.deepEqual(res.memory, { limit: 32 << 20, swap: -1 });
    assert.deepEqual(res.pids, { limit: 20 });
    assert.deepEqual(res.cpu, { shares: 256, quota: 20000, period: 100000, cpus: '0' });

    // Only what is given changes: the pids limit stays.
    assert.equal(b.hako(['update', '--memory', '1g', b.id]).status, 0);
    assert.equal(cg(b, 'memory', 'memory.limit_in_bytes'), String(1 << 30));
    assert.equal(cg(b, 'pids', 'pids.max'), '20');

    // memory+swap up and down: the kernel refuses limit > memory+swap at any moment, so
    // hako must pick the order (swap first when raising, limit first when lowering).
    for (const [mem, swap] of [['256m', '512m'], ['16m', '32m'], ['1g', '2g']] as const) {
      const u = b.hako(['update', '--memory', mem, '--memory-swap', swap, b.id]);
      assert.equal(u.status, 0, u.stderr);
      assert.equal(cg(b, 'memory', 'memory.memsw.limit_in_bytes'), String(Number(swap.slice(0, -1)) * (swap.endsWith('g') ? 1 << 30 : 1 << 20)));
    }
    assert.equal(b.hako(['update', '--memory-swap', '-1', b.id]).status, 0);

    const stats = JSON.parse(b.hako(['events', '--stats', b.id]).stdout);
    assert.equal(stats.data.memory.usage.limit, 1 << 30);
    assert.equal(stats.data.pids.limit, 20);
    assert.equal(b.hako(['delete', '--force', b.id]).status, 0);
  });

  test('--resources takes a LinuxResources JSON file, or "-" for standard input', () => {
    const b = new Bundle(baseSpec('sleep 30'));
    bundles.push(b);
    detach(b);
    const file = join(b.dir, 'res.json');
    writeFileSync(file, JSON.stringify({ memory: { limit: 100 << 20, reservation: 50 << 20 }, pids: { limit: 33 } }));
    assert.equal(b.hako(['update', '-r', file, b.id]).status, 0);
    assert.equal(cg(b, 'memory', 'memory.limit_in_bytes'), String(100 << 20));
    assert.equal(cg(b, 'memory', 'memory.soft_limit_in_bytes'), String(50 << 20));
    assert.equal(cg(b, 'pids', 'pids.max'), '33');

    const r = b.hako(['update', '--resources', '-', b.id], { input: '{"pids": {"limit": 44}}' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(cg(b, 'pids', 'pids.max'), '44');
    assert.deepEqual(record(b).spec.linux.resources.pids, { limit: 44 });
    assert.equal(b.hako(['delete', '--force', b.id]).status, 0);
  });

  test('bad input names the flag or field and changes nothing', () => {
    const spec = baseSpec('sleep 30');
    spec.linux!.resources = { pids: { limit: 100 } };
    const b = new Bundle(spec);
    bundles.push(b);
    detach(b);
    const cases: [string[], RegExp, string?][] = [
      [['--memory', '12zb'], /^hako: update: --memory: invalid size "12zb"/m],
      [['--pids-limit', 'many'], /^hako: update: --pids-limit: invalid number "many"/m],
      [['--pids-limit', '-3'], /^hako: linux\.resources\.pids\.limit: must be >= -1/m],
      [['-r', '-'], /^hako: linux\.resources\.memory\.bogus: unknown field/m, '{"memory": {"bogus": 1}}'],
      [['-r', '-'], /^hako: linux\.resources\.devices: cannot be changed on a running container/m, '{"devices": []}'],
      [['-r', '-'], /^hako: update: standard input: /m, 'not json'],
      [[], /^hako: update: nothing to update/m],
    ];
    for (const [args, re, input] of cases) {
      const r = b.hako(['update', ...args, b.id], input === undefined ? {} : { input });
      assert.equal(r.status, 1, args.join(' '));
      assert.match(r.stderr, re);
    }
    assert.equal(cg(b, 'pids', 'pids.max'), '100');
    assert.deepEqual(record(b).spec.linux.resources, { pids: { limit: 100 } });
    assert.equal(b.hako(['delete', '--force', b.id]).status, 0);
    const stopped = b.hako(['update', '--pids-limit', '5', b.id]);
    assert.match(stopped.stderr, /does not exist/);
  });
});
