import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { HakoError } from '../../common/errors.ts';
import { applyResources, cgroupParentSteps, collectStats, freezerOf, isFrozen, oomKillCount, updateResources, type Hierarchy } from './index.ts';
import { DEFAULT_DEVICE_RULES } from './devices.ts';
import { sharesToWeight } from './v2/cpu.ts';

/**
 * cgroup v2 against a fake tree: this kernel boots hybrid (its cgroup2 holds no
 * memory/cpu/io/pids), so a real pure-v2 run is not possible here. The files are plain
 * files; the tests check what hako writes into them.
 */
const tmp = mkdtempSync(join(tmpdir(), 'hako-cg2-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;

const CONTAINER_FILES: Record<string, string> = {
  'cgroup.procs': '',
  'cgroup.freeze': '0',
  'cgroup.events': 'populated 1\nfrozen 0',
  'cgroup.subtree_control': '',
  'cpu.weight': '100',
  'cpu.max': 'max 100000',
  'cpu.max.burst': '0',
  'cpu.idle': '0',
  'cpu.stat': 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 7\nnr_throttled 2\nthrottled_usec 30',
  'cpuset.cpus': '',
  'cpuset.mems': '',
  'cpuset.cpus.effective': '0-3',
  'cpuset.mems.effective': '0',
  'memory.max': 'max',
  'memory.low': '0',
  'memory.high': 'max',
  'memory.swap.max': 'max',
  'memory.swap.current': '4096',
  'memory.current': '8192',
  'memory.peak': '16384',
  'memory.stat': 'anon 4096\nfile 4096',
  'memory.events': 'low 0\nhigh 0\nmax 5\noom 1\noom_kill 3',
  'pids.max': 'max',
  'pids.current': '4',
  'io.weight': 'default 100',
  'io.max': '',
  'io.stat': '8:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0',
  'hugetlb.2MB.max': 'max',
  'hugetlb.2MB.current': '0',
  'hugetlb.1GB.max': 'max',
  'rdma.max': '',
};

/** A cgroup2 mount offering `controllers`, with /hako/cN ready; returns the hierarchy and dir. */
function fakeV2(controllers = 'cpuset cpu io memory hugetlb pids rdma') {
  const root = join(tmp, `v2-${++n}`);
  const dir = join(root, 'hako', `c${n}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(root, 'cgroup.controllers'), controllers);
  writeFileSync(join(root, 'cgroup.subtree_control'), '');
  writeFileSync(join(root, 'hako', 'cgroup.subtree_control'), '');
  for (const [f, v] of Object.entries(CONTAINER_FILES)) writeFileSync(join(dir, f), v);
  const hs: Hierarchy[] = [{ controllers: ['unified'], version: 2, mountPoint: root }];
  return { hs, root, dir, placement: { path: `/hako/c${n}`, dirs: [dir] } };
}

const read = (dir: string, f: string) => readFileSync(join(dir, f), 'utf8');
const fails = (fn: () => void, re: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof HakoError && e.code === 'invalid-config' && re.test(e.message));

describe('cgroup v2 (fake tree)', () => {
  test('applyResources writes every v2 file, converting v1-style values as runc does', () => {
    const { hs, root, dir, placement } = fakeV2();
    applyResources(placement, {
      memory: { limit: 100 << 20, reservation: 50 << 20, swap: 150 << 20 },
      cpu: { shares: 1024, quota: 50000, period: 100000, burst: 1000, cpus: '0-1', mems: '0', idle: 1 },
      pids: { limit: 10 },
      blockIO: { weight: 500, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }] },
      hugepageLimits: [{ pageSize: '2MB', limit: 4 << 21 }],
      rdma: { mlx5_0: { hcaHandles: 3 } },
      unified: { 'memory.high': '90000000' },
    }, hs);
    assert.equal(read(dir, 'memory.max'), String(100 << 20));
    assert.equal(read(dir, 'memory.low'), String(50 << 20));
    assert.equal(read(dir, 'memory.swap.max'), String(50 << 20), 'v2 swap is memory+swap minus memory');
    assert.equal(read(dir, 'cpu.weight'), '100', 'shares 1024 → weight 100');
    assert.equal(read(dir, 'cpu.max'), '50000 100000');
    assert.equal(read(dir, 'cpu.max.burst'), '1000');
    assert.equal(read(dir, 'cpu.idle'), '1');
    assert.equal(read(dir, 'cpuset.cpus'), '0-1');
    assert.equal(read(dir, 'cpuset.mems'), '0');
    assert.equal(read(dir, 'pids.max'), '10');
    assert.equal(read(dir, 'io.weight'), '4950', 'blkio 500 → io.weight 1 + 490·9999/990');
    assert.equal(read(dir, 'io.max'), '8:0 rbps=1048576');
    assert.equal(read(dir, 'hugetlb.2MB.max'), String(4 << 21));
    assert.equal(read(dir, 'rdma.max'), 'mlx5_0 hca_handle=3 hca_object=max');
    assert.equal(read(dir, 'memory.high'), '90000000');
    // Controllers enabled from the root down to the container's parent, not in the container.
    const all = '+cpuset +cpu +io +memory +hugetlb +pids +rdma';
    assert.equal(read(root, 'cgroup.subtree_control'), all);
    assert.equal(read(join(root, 'hako'), 'cgroup.subtree_control'), all);
    assert.equal(read(dir, 'cgroup.subtree_control'), '');
  });

  test('unlimited values become "max"; unlimited memory with swap unset means unlimited swap', () => {
    const { hs, dir, placement } = fakeV2();
    writeFileSync(join(dir, 'memory.swap.max'), '0');
    applyResources(placement, { memory: { limit: -1 }, pids: { limit: -1 }, blockIO: { throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 0 }] } }, hs);
    assert.equal(read(dir, 'memory.max'), 'max');
    assert.equal(read(dir, 'memory.swap.max'), 'max');
    assert.equal(read(dir, 'pids.max'), 'max');
    assert.equal(read(dir, 'io.max'), '8:16 wiops=max');
  });

  test('cpu shares → weight: the range ends and the defaults meet', () => {
    assert.deepEqual([0, 2, 1024, 262144, 1_000_000].map(sharesToWeight), [0, 1, 100, 10000, 10000]);
    assert.equal(sharesToWeight(512), 59, 'ceil(10^((81+1125)/612 - 7/34))');
  });

  test('update keeps the half of cpu.max it is not given, and converts swap against the current memory.max', () => {
    const { hs, dir, placement } = fakeV2();
    writeFileSync(join(dir, 'cpu.max'), '20000 100000');
    updateResources(placement, { cpu: { period: 50000 } }, hs);
    assert.equal(read(dir, 'cpu.max'), '20000 50000');
    updateResources(placement, { cpu: { quota: 10000 } }, hs);
    assert.equal(read(dir, 'cpu.max'), '10000 50000');
    writeFileSync(join(dir, 'memory.max'), String(64 << 20));
    updateResources(placement, { memory: { swap: 96 << 20 } }, hs);
    assert.equal(read(dir, 'memory.swap.max'), String(32 << 20));
    writeFileSync(join(dir, 'memory.max'), 'max');
    fails(() => updateResources(placement, { memory: { swap: 96 << 20 } }, hs), /^linux\.resources\.memory\.swap: a swap limit needs a memory limit$/);
    fails(() => updateResources(placement, { devices: [] }, hs), /^linux\.resources\.devices: cannot be changed/);
  });

  test('v1-only knobs are refused on v2, naming the field', () => {
    const { hs, placement } = fakeV2();
    fails(() => applyResources(placement, { memory: { swappiness: 60 } }, hs), /^linux\.resources\.memory\.swappiness: cgroup v2 has no per-cgroup swappiness/);
    fails(() => applyResources(placement, { memory: { disableOOMKiller: true } }, hs), /^linux\.resources\.memory\.disableOOMKiller:/);
    fails(() => applyResources(placement, { cpu: { realtimeRuntime: 1000 } }, hs), /^linux\.resources\.cpu\.realtimeRuntime: cgroup v2 has no realtime/);
    fails(() => applyResources(placement, { blockIO: { leafWeight: 100 } }, hs), /^linux\.resources\.blockIO\.leafWeight:/);
    fails(() => applyResources(placement, { network: { classID: 1 } }, hs), /^linux\.resources\.network\.classID: needs the net_cls cgroup controller.*no cgroup v2 equivalent/);
    fails(() => applyResources(placement, { memory: { swap: 10, limit: 20 } }, hs), /^linux\.resources\.memory\.swap: memory\+swap \(10\) must be >= the memory limit \(20\)$/);
  });

  test('a controller the root does not offer is an error naming the field; others need not enable', () => {
    const { hs, root, placement } = fakeV2('cpu memory');
    fails(() => applyResources(placement, { pids: { limit: 5 } }, hs), /^linux\.resources\.pids\.limit: needs the pids cgroup controller, which this host does not have$/);
    fails(() => applyResources(placement, { unified: { 'io.max': '8:0 rbps=1' } }, hs), /^linux\.resources\.unified\.io\.max: the io controller is not available/);
    fails(() => applyResources(placement, { hugepageLimits: [{ pageSize: '3MB', limit: 1 }] }, hs), /^linux\.resources\.hugepageLimits: needs the hugetlb/);
    applyResources(placement, undefined, hs);
    assert.equal(read(root, 'cgroup.subtree_control'), '+cpu +memory');
  });

  test('a missing interface file (an old kernel) is reported with the field and the path', () => {
    const { hs, dir, placement } = fakeV2();
    rmSync(join(dir, 'cpu.max.burst'));
    fails(() => applyResources(placement, { cpu: { burst: 5 } }, hs), new RegExp(`^linux\\.resources\\.cpu\\.burst: not supported on this host \\(no ${dir}/cpu\\.max\\.burst\\)$`));
  });

  test('devices: the executor step with the rules, five fields each, runc defaults appended', () => {
    const { hs, dir, placement } = fakeV2();
    const steps = cgroupParentSteps(placement, { devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' }] }, hs);
    assert.equal(steps.length, 1);
    const [name, at, ...fields] = steps[0]!;
    assert.equal(name, 'devices-bpf');
    assert.equal(at, dir);
    assert.deepEqual(fields.slice(0, 10), ['0', 'a', '-1', '-1', 'rwm', '1', 'c', '10', '229', 'rw']);
    assert.equal(fields.length, 5 * (2 + DEFAULT_DEVICE_RULES.length));
    assert.deepEqual(fields.slice(10, 20), ['1', 'c', '-1', '-1', 'm', '1', 'b', '-1', '-1', 'm']);
    assert.ok(fields.join(' ').includes('1 c 136 -1 rwm'), '/dev/pts');
    assert.deepEqual(cgroupParentSteps(placement, { memory: { limit: 1 << 20 } }, hs), []);
    assert.deepEqual(cgroupParentSteps(placement, undefined, []), []);
  });

  test('freezer: cgroup.freeze, confirmed by cgroup.events', () => {
    const { dir, placement } = fakeV2();
    const f = freezerOf(placement)!;
    assert.equal(f.dir, dir);
    writeFileSync(join(dir, 'cgroup.events'), 'populated 1\nfrozen 1');
    f.impl.freeze(f.dir);
    assert.equal(read(dir, 'cgroup.freeze'), '1');
    assert.ok(isFrozen(placement));
    writeFileSync(join(dir, 'cgroup.events'), 'populated 1\nfrozen 0');
    f.impl.thaw(f.dir);
    assert.equal(read(dir, 'cgroup.freeze'), '0');
    assert.ok(!isFrozen(placement));
  });

  test('stats and the OOM kill counter from the v2 files', () => {
    const { hs, placement } = fakeV2();
    const s = collectStats(placement, hs) as Record<string, any>;
    assert.deepEqual(s['cpu'], { usage: { total: 1_500_000, kernel: 500_000, user: 1_000_000 }, throttling: { periods: 7, throttled_periods: 2, throttled_time: 30_000 } });
    assert.deepEqual(s['cpuset'], { cpus: [0, 1, 2, 3], mems: [0] });
    assert.equal(s['memory'].usage.usage, 8192);
    assert.equal(s['memory'].usage.max, 16384);
    assert.equal(s['memory'].usage.failcnt, 5);
    assert.equal(JSON.stringify(s['memory'].usage.limit), '18446744073709551615', 'max is printed as 2^64-1, exactly');
    assert.equal(s['memory'].swap.usage, 8192 + 4096);
    assert.deepEqual(s['memory'].raw, { anon: 4096, file: 4096 });
    assert.deepEqual(s['pids'], { current: 4, limit: 0 });
    assert.deepEqual(s['blkio'].ioServiceBytesRecursive, [
      { major: 8, minor: 0, op: 'Read', value: 100 },
      { major: 8, minor: 0, op: 'Write', value: 200 },
    ]);
    assert.deepEqual(s['hugetlb']['2MB'], { usage: 0, failcnt: 0 });
    assert.equal(oomKillCount(placement, hs), 3);
  });
});

describe('hybrid (fake tree): each controller where the host has it', () => {
  test('v1 memory, cgroup2 hugetlb; unified keys only for cgroup2 controllers', () => {
    const { hs, root, dir, placement } = fakeV2('hugetlb');
    const memRoot = join(root, '..', `v1mem-${n}`);
    const memDir = join(memRoot, 'hako', `c${n}`);
    mkdirSync(memDir, { recursive: true });
    for (const f of ['memory.limit_in_bytes', 'memory.memsw.limit_in_bytes', 'memory.soft_limit_in_bytes', 'memory.oom_control']) writeFileSync(join(memDir, f), '9223372036854771712');
    writeFileSync(join(memDir, 'memory.oom_control'), 'oom_kill_disable 0\nunder_oom 0\noom_kill 2');
    const hybrid: Hierarchy[] = [{ controllers: ['memory'], version: 1, mountPoint: memRoot }, ...hs];
    const p = { path: placement.path, dirs: [memDir, dir] };
    applyResources(p, { memory: { limit: 32 << 20, swap: 64 << 20, disableOOMKiller: true }, hugepageLimits: [{ pageSize: '1GB', limit: 1 << 30 }] }, hybrid);
    assert.equal(read(memDir, 'memory.limit_in_bytes'), String(32 << 20));
    assert.equal(read(memDir, 'memory.memsw.limit_in_bytes'), String(64 << 20));
    assert.equal(read(memDir, 'memory.oom_control'), '1');
    assert.equal(read(dir, 'hugetlb.1GB.max'), String(1 << 30));
    assert.equal(read(dir, 'memory.max'), 'max', 'memory is v1 on this host: cgroup2 files untouched');
    assert.equal(read(root, 'cgroup.subtree_control'), '+hugetlb');
    fails(() => applyResources(p, { unified: { 'memory.high': '1' } }, hybrid), /^linux\.resources\.unified\.memory\.high: the memory controller is on cgroup v1 on this host/);
    fails(() => applyResources(p, { unified: { 'memory.high': '1' } }, [hybrid[0]!]), /^linux\.resources\.unified: needs cgroup v2; this host has cgroup v1 only$/);
    writeFileSync(join(memDir, 'memory.oom_control'), 'oom_kill_disable 0\nunder_oom 0\noom_kill 2');
    assert.equal(oomKillCount(p, hybrid), 2);
  });
});
