import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { baseSpec, Bundle, REPO } from '../helpers/bundle.ts';
import type { Spec } from '../../src/runtime/spec-types.ts';

const bundles: Bundle[] = [];
const detach = (b: Bundle) => {
  const r = b.hako(['run', '--detach', '--bundle', b.dir, b.id]);
  assert.equal(r.status, 0, r.stderr);
};
after(() => bundles.forEach((b) => b.cleanup()));

function bundle(script: string, resources: Record<string, unknown>, mutate: (s: Spec) => void = () => {}): Bundle {
  const spec = baseSpec(script);
  spec.linux!.resources = resources;
  mutate(spec);
  const b = new Bundle(spec);
  bundles.push(b);
  return b;
}

const cg = (b: Bundle, hierarchy: string, file: string) => readFileSync(join('/sys/fs/cgroup', hierarchy, 'hako', b.id, file), 'utf8').trim();
const v1 = (c: string) => existsSync(`/sys/fs/cgroup/${c}/cgroup.procs`) && !existsSync(`/sys/fs/cgroup/${c}/cgroup.controllers`);
const unifiedHas = (c: string) => existsSync('/sys/fs/cgroup/unified/cgroup.controllers') && readFileSync('/sys/fs/cgroup/unified/cgroup.controllers', 'utf8').split(/\s+/).includes(c);

/** On a host with a cgroup2 hierarchy every devices list also becomes the executor's devices-bpf step. */
const hasCgroup2 = readFileSync('/proc/self/mountinfo', 'utf8').includes(' - cgroup2 ');
const nativeBpf = readFileSync(join(REPO, 'native', 'build', 'hako-exec')).includes('devices-bpf');
const devicesRunnable = !hasCgroup2 || nativeBpf;
const devicesSkip = devicesRunnable ? false : 'native/build/hako-exec has no devices-bpf step yet; this host has a cgroup2 hierarchy, so a devices list cannot run';

describe('linux.resources (cgroup v1 here)', { skip: !v1('memory') && 'not a cgroup v1/hybrid host' }, () => {
  test('a pids limit stops a fork loop: "can\'t fork" and never more than the limit', () => {
    // Only builtins after the loop: any fork there would fail too.
    const b = bundle('(for i in $(seq 50); do sleep 10 & done) 2>/tmp/err; n=0; for p in /proc/[0-9]*; do n=$((n+1)); done; echo count=$n; while read l; do echo "$l"; done </tmp/err', { pids: { limit: 10 } });
    const r = b.run();
    const n = Number(/count=(\d+)/.exec(r.stdout)?.[1]);
    assert.ok(n > 1 && n <= 10, `processes in the container: ${n}\n${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /can't fork|Resource temporarily unavailable/);
  });

  test('memory, cpu, cpuset, pids and blkio values land in the v1 files', () => {
    // Weights need an I/O scheduler with them (BFQ or CFQ); with none, a weight is a clear error.
    const weights = ['blkio.bfq.weight', 'blkio.weight'].some((f) => existsSync(join('/sys/fs/cgroup/blkio', f)));
    if (!weights) console.log('# no blkio weight file on this host (no BFQ/CFQ scheduler): blkio weight is checked as an error');
    const b = bundle('sleep 30', {
      memory: { limit: 64 << 20, reservation: 32 << 20, swappiness: 10 },
      cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0', mems: '0' },
      pids: { limit: 42 },
      ...(weights ? { blockIO: { weight: 500 } } : {}),
    });
    detach(b);
    assert.equal(cg(b, 'memory', 'memory.limit_in_bytes'), String(64 << 20));
    assert.equal(cg(b, 'memory', 'memory.soft_limit_in_bytes'), String(32 << 20));
    assert.equal(cg(b, 'memory', 'memory.swappiness'), '10');
    assert.equal(cg(b, 'cpu', 'cpu.shares'), '512');
    assert.equal(cg(b, 'cpu', 'cpu.cfs_quota_us'), '50000');
    assert.equal(cg(b, 'cpu', 'cpu.cfs_period_us'), '100000');
    assert.equal(cg(b, 'cpuset', 'cpuset.cpus'), '0');
    assert.equal(cg(b, 'pids', 'pids.max'), '42');
    if (weights) {
      // BFQ's weight file when the kernel has it (it prints "default 500"), else CFQ's.
      const bfq = existsSync(join('/sys/fs/cgroup/blkio/hako', b.id, 'blkio.bfq.weight'));
      assert.match(cg(b, 'blkio', bfq ? 'blkio.bfq.weight' : 'blkio.weight'), /^(default )?500$/);
    }
    assert.equal(b.hako(['delete', '--force', b.id]).status, 0);
    assert.deepEqual(b.leftovers(), []);
    if (!weights) {
      const w = bundle('true', { blockIO: { weight: 500 } });
      const r = w.hako(['run', '--bundle', w.dir, w.id]);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /linux\.resources\.blockIO\.weight: not supported on this host/);
      assert.deepEqual(w.leftovers(), []);
    }
  });

  test('hugepage limits go to whichever hierarchy has hugetlb (cgroup2 on this hybrid host)', { skip: !unifiedHas('hugetlb') && !v1('hugetlb') && 'no hugetlb controller' }, () => {
    const b = bundle('sleep 30', { hugepageLimits: [{ pageSize: '2MB', limit: 4 << 21 }] });
    const r = b.hako(['run', '--detach', '--bundle', b.dir, b.id]);
    assert.equal(r.status, 0, r.stderr);
    if (v1('hugetlb')) assert.equal(cg(b, 'hugetlb', 'hugetlb.2MB.limit_in_bytes'), String(4 << 21));
    else assert.equal(cg(b, 'unified', 'hugetlb.2MB.max'), String(4 << 21));
    b.hako(['delete', '--force', b.id]);
  });

  test('bad values fail the create, naming the field, and leave nothing behind', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ memory: { limit: -5 } }, /^hako: linux\.resources\.memory\.limit: must be >= -1 \(-1: unlimited\) \(got -5\)$/m],
      [{ memory: { limt: 5 } }, /^hako: linux\.resources\.memory\.limt: unknown field/m],
      [{ cpu: { shares: 'x' } }, /^hako: linux\.resources\.cpu\.shares: must be an integer/m],
      [{ cpu: { cpus: 'all' } }, /^hako: linux\.resources\.cpu\.cpus: must be a list/m],
      [{ pids: { limit: -7 } }, /^hako: linux\.resources\.pids\.limit: must be >= -1/m],
      [{ devices: [{ allow: true, access: 'rwx' }] }, /^hako: linux\.resources\.devices\[0\]\.access: must combine r, w and m/m],
      [{ blockIO: { weight: 5 } }, /^hako: linux\.resources\.blockIO\.weight: must be between 10 and 1000/m],
      [{ unified: { 'memory.max': '1M' } }, /^hako: linux\.resources\.unified(\.memory\.max: the memory controller is on cgroup v1 on this host|: needs cgroup v2)/m],
      [{ cpu: { shares: 1 } }, /^hako: linux\.resources\.cpu\.shares: 1 is out of the kernel's range/m],
    ];
    for (const [resources, re] of cases) {
      const b = bundle('true', resources);
      const r = b.run();
      assert.equal(r.status, 1, JSON.stringify(resources));
      assert.match(r.stderr, re);
      assert.deepEqual(b.leftovers(), []);
    }
  });

  test('the devices allowlist (v1 devices.allow/deny) denies what it does not allow', { skip: devicesSkip }, () => {
    const lp = { path: '/dev/lp', type: 'b' as const, major: 7, minor: 0, fileMode: 0o600 };
    const script = 'head -c 1 /dev/lp && echo lp-ok; head -c 3 /dev/zero | wc -c; echo x > /dev/null && echo null-ok';
    const withDevices = (rules: Record<string, unknown>[]) => bundle(script, { devices: rules }, (s) => (s.linux!.devices = [lp]));

    // Deny all: only runc's defaults (null, zero, … and mknod of anything) remain.
    let r = withDevices([{ allow: false, access: 'rwm' }]).run();
    assert.match(r.stderr, /head: \/dev\/lp: Operation not permitted/);
    assert.doesNotMatch(r.stdout, /lp-ok/);
    assert.match(r.stdout, /^3\nnull-ok\n$/m);

    // Allow all, then deny one device: the last matching rule wins.
    r = withDevices([{ allow: true, access: 'rwm' }, { allow: false, type: 'b', major: 7, minor: 0, access: 'rw' }]).run();
    assert.match(r.stderr, /head: \/dev\/lp: Operation not permitted/);
    assert.match(r.stdout, /null-ok/);

    // Deny all, then allow it for reading.
    r = withDevices([{ allow: false, access: 'rwm' }, { allow: true, type: 'b', major: 7, minor: 0, access: 'r' }]).run();
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /lp-ok/);
  });

  test('the same rules hold on the cgroup2 hierarchy alone (devices-bpf)', { skip: !hasCgroup2 ? 'no cgroup2 hierarchy' : !nativeBpf && devicesSkip }, async () => {
    // A hybrid host applies both the v1 list and the eBPF program. Opening the v1 list up
    // from the host (devices.allow "a") leaves the program as the only guard.
    const script = 'while [ ! -e /go ]; do sleep 0.05; done; head -c 1 /dev/lp 2>/lp-err && echo ok >/lp-ok; echo x >/dev/null && echo ok >/null-ok; touch /done; sleep 30';
    const b = bundle(script, { devices: [{ allow: false, access: 'rwm' }] }, (s) => {
      s.linux!.devices = [{ path: '/dev/lp', type: 'b', major: 7, minor: 0, fileMode: 0o600 }];
    });
    const r = b.hako(['run', '--detach', '--bundle', b.dir, b.id]);
    assert.equal(r.status, 0, r.stderr);
    if (v1('devices')) {
      writeFileSync(join('/sys/fs/cgroup/devices/hako', b.id, 'devices.allow'), 'a');
      assert.equal(cg(b, 'devices', 'devices.list'), 'a *:* rwm');
    }
    writeFileSync(join(b.rootfs, 'go'), '');
    for (let i = 0; i < 200 && !existsSync(join(b.rootfs, 'done')); i++) await sleep(25);
    assert.match(readFileSync(join(b.rootfs, 'lp-err'), 'utf8'), /Operation not permitted/);
    assert.ok(!existsSync(join(b.rootfs, 'lp-ok')));
    assert.ok(existsSync(join(b.rootfs, 'null-ok')));
    b.hako(['delete', '--force', b.id]);
  });
});

const pureV2 = existsSync('/sys/fs/cgroup/cgroup.controllers');

describe('linux.resources on a pure cgroup v2 host', { skip: !pureV2 && 'this kernel boots cgroup v1/hybrid, so no real pure-v2 run here; the v2 writes are checked against a fake cgroup2 tree (src/runtime/cgroups/v2.test.ts)' }, () => {
  test('limits land in the v2 files, converted as runc does', () => {
    const b = bundle('sleep 30', { memory: { limit: 64 << 20, swap: 96 << 20 }, cpu: { shares: 1024, quota: 50000, period: 100000 }, pids: { limit: 42 } });
    const r = b.hako(['run', '--detach', '--bundle', b.dir, b.id]);
    assert.equal(r.status, 0, r.stderr);
    const f = (file: string) => readFileSync(join('/sys/fs/cgroup/hako', b.id, file), 'utf8').trim();
    assert.equal(f('memory.max'), String(64 << 20));
    if (existsSync(join('/sys/fs/cgroup/hako', b.id, 'memory.swap.max'))) assert.equal(f('memory.swap.max'), String(32 << 20));
    assert.equal(f('cpu.weight'), '100');
    assert.equal(f('cpu.max'), '50000 100000');
    assert.equal(f('pids.max'), '42');
    b.hako(['delete', '--force', b.id]);
  });

  test('the devices-bpf program denies what the rules do not allow', () => {
    const b = bundle('head -c 1 /dev/lp; echo x > /dev/null && echo null-ok', { devices: [{ allow: false, access: 'rwm' }] }, (s) => {
      s.linux!.devices = [{ path: '/dev/lp', type: 'b', major: 7, minor: 0, fileMode: 0o600 }];
    });
    const r = b.run();
    assert.match(r.stderr, /Operation not permitted/);
    assert.match(r.stdout, /null-ok/);
  });
});
