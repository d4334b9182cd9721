// hako's benchmarks against Docker, runc and crun, side by side in one run (issue 8).
// Started by bench/run (which installs the peers and owns the temp dir); see
// docs/benchmarks.md. Plain ESM on the project's Node 24: no build step of its own.
//
//   bench/run [--quick] [--runs N] [--density N] [--out DIR] [SCENARIO…]
//   SCENARIO: runtime start pull memory density (default: all)
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bigImage, busybox, pushLayout } from './lib/images.mjs';
import { DOCKER, Dockerd, Registry } from './lib/peers.mjs';
import { cmdline, comm, memory, mountsUnder, pids, ppid, processesMentioning, sh, Stopwatch, which } from './lib/procs.mjs';

const BENCH = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(BENCH, '..');
// The Node that runs the stopwatches and the reference rows: hako's own, from the copy below.
let NODE = process.execPath;
// hako runs from a copy of the checkout's build taken at the start (see snapshotHako): a
// rebuild of dist/ during the run (tsc rewrites files in place) cannot break or change it.
let HAKO = join(REPO, 'bin', 'hako');
let HAKO_RUNTIME = join(REPO, 'bin', 'hako-runtime');
const ALL = ['runtime', 'start', 'pull', 'memory', 'density'];
const ALIASES = { engine: 'start', 'engine-start': 'start', mem: 'memory' };

// ---------------------------------------------------------------------------
// Arguments

const { values: opt, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    density: { type: 'string', default: '50' },
    out: { type: 'string', default: join(BENCH, 'results') },
    work: { type: 'string' },
    'no-snapshot': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opt.help) {
  process.stdout.write(`Usage: bench/run [--quick] [--runs N] [--density N] [--out DIR] [SCENARIO...]

Scenarios (default: all): ${ALL.join(' ')}
  runtime   hako runtime run vs runc run and crun run: a busybox bundle running true
  start     hako run --rm vs docker run --rm (--network none busybox true)
  pull      a 5-layer ~100 MB image from a loopback registry into an empty store:
            hako pull vs docker pull; skopeo copy to an OCI dir as the floor
  memory    RSS of hako's per-container monitor vs containerd-shim-runc-v2;
            what stays running when idle (hako: nothing) vs dockerd + containerd
  density   N (default 50) detached sleep containers started at once

  --quick   few repetitions, to check that everything works
  --runs N  repetitions of each timed scenario (full: runtime/start 20, pull 5, density 5)
  --out DIR where results go (default bench/results: latest.{json,md}, quick.{json,md})
  --no-snapshot  run hako from the checkout itself, not from a copy of its build
                 (bin/, dist/, native/build/) taken when the bench starts
`);
  process.exit(0);
}
const scenarios = positionals.length ? positionals.map((s) => ALIASES[s] ?? s) : ALL;
for (const s of scenarios) {
  if (!ALL.includes(s)) {
    process.stderr.write(`bench: unknown scenario "${s}" (one of: ${ALL.join(' ')})\n`);
    process.exit(2);
  }
}
const quick = opt.quick;
const runsOverride = opt.runs ? Number(opt.runs) : undefined;
const plan = {
  runtime: { warmup: quick ? 1 : 3, runs: runsOverride ?? (quick ? 5 : 20) },
  start: { warmup: quick ? 1 : 2, runs: runsOverride ?? (quick ? 5 : 20) },
  pull: { warmup: quick ? 0 : 1, runs: runsOverride ?? (quick ? 1 : 5) },
  memory: { containers: quick ? 2 : 5 },
  density: { warmup: quick ? 0 : 1, runs: runsOverride ?? (quick ? 1 : 5), n: Number(opt.density) },
};

// ---------------------------------------------------------------------------
// Small helpers

const log = (msg) => process.stderr.write(`bench: ${msg}\n`);
const median = (xs) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const stats = (xs) => ({ n: xs.length, median: median(xs), min: Math.min(...xs), max: Math.max(...xs), samples: xs.map((x) => Math.round(x * 100) / 100) });
const engineTag = (root) => createHash('sha256').update(resolve(root)).digest('hex').slice(0, 12);
const firstLine = (s) => (s ?? '').trim().split('\n')[0] ?? '';
const short = (s, n = 400) => {
  const t = (s ?? '').trim();
  return t.length > n ? `${t.slice(0, n)}…` : t;
};

function hakoIn(root, ...args) {
  return sh(HAKO, ['--data-root', root, ...args], { timeoutMs: 300_000 });
}

/** Every process with an argument that is ROOT or below it (hako's monitors and CLIs of that data root). */
function hakoProcesses(root) {
  return processesMentioning([root]).filter((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').some((a) => a === root || a.startsWith(`${root}/`));
    } catch {
      return false;
    }
  });
}

/** CPU time the whole machine spent (all CPUs, not idle or iowait) so far, in ms, from /proc/stat. */
function machineCpuMs() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = f;
  return ((user + nice + system + irq + softirq + steal) * 1000) / CLK_TCK;
}
const CLK_TCK = Number(sh('getconf', ['CLK_TCK']).stdout.trim()) || 100;

async function waitUntil(pred, timeoutMs, stepMs = 100) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (pred()) return true;
    await sleep(stepMs);
  }
  return pred();
}

// ---------------------------------------------------------------------------
// State of this run, and its cleanup on every exit path

const work = opt.work ? resolve(opt.work) : mkdtempSync('/tmp/hako-bench-');
mkdirSync(work, { recursive: true });
const tag = work.split('-').pop().replace(/[^A-Za-z0-9]/g, '').slice(-8) || String(process.pid);
const ctx = {
  hakoRoot: join(work, 'hako'),
  hakoRoots: new Set(), // every data root used (the engine's, one per pull)
  runtimeRoots: [], // [binary, root, wrapper]
  dockerd: undefined,
  registry: undefined,
  sw: undefined,
  crunSw: undefined,
  problems: [], // what misbehaved during the run (for the report)
};

let cleaning;
function cleanup() {
  cleaning ??= (async () => {
    const left = [];
    // hako's containers, in every data root this run used.
    for (const root of ctx.hakoRoots) {
      if (!existsSync(join(root, 'metadata.db'))) continue;
      const ids = hakoIn(root, 'ps', '-aq').stdout.split('\n').filter(Boolean);
      if (ids.length) {
        const r = hakoIn(root, 'rm', '-f', ...ids);
        if (r.status !== 0) left.push(`hako rm -f in ${root}: ${short(r.stderr)}`);
      }
    }
    for (const root of ctx.hakoRoots) {
      await waitUntil(() => hakoProcesses(root).length === 0, 10_000);
      for (const p of hakoProcesses(root)) {
        left.push(`hako process left: ${p} ${cmdline(p)}`);
        try {
          process.kill(p, 'SIGKILL');
        } catch {}
      }
    }
    // Runtime scenario containers (a failed or interrupted run).
    for (const [bin, root, wrapper] of ctx.runtimeRoots) {
      if (!existsSync(root)) continue;
      for (const id of readdirSync(root)) {
        const argv = [...wrapper, bin, '--root', root, 'delete', '--force', id];
        sh(argv[0], argv.slice(1));
        left.push(`runtime container left: ${bin} ${id} (deleted)`);
      }
    }
    if (ctx.dockerd) left.push(...(await ctx.dockerd.stop()));
    if (ctx.registry) await ctx.registry.stop();
    await ctx.sw?.stop();
    await ctx.crunSw?.stop();
    for (const p of processesMentioning([work])) {
      if (p === process.pid) continue;
      left.push(`process left: ${p} ${cmdline(p)}`);
      try {
        process.kill(p, 'SIGKILL');
      } catch {}
    }
    for (const m of mountsUnder(work).reverse()) {
      const r = sh('umount', ['-l', m]);
      left.push(`mount left: ${m}${r.status === 0 ? ' (unmounted)' : `: ${r.stderr.trim()}`}`);
    }
    for (const root of ctx.hakoRoots) {
      try {
        rmdirSync(join('/run/hako', `engine-${engineTag(root)}`));
      } catch {}
    }
    rmSync(work, { recursive: true, force: true });
    if (left.length) {
      log('cleanup had to force:');
      for (const l of left) log(`  ${l}`);
      ctx.problems.push(...left.map((l) => `cleanup: ${l}`));
    }
  })();
  return cleaning;
}

let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    if (interrupted) return;
    interrupted = true;
    log(`${sig}: cleaning up`);
    cleanup().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------
// Machine and versions

function machine() {
  const osRelease = existsSync('/etc/os-release') ? (/^PRETTY_NAME="?([^"\n]*)/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? '') : '';
  const unified = existsSync('/sys/fs/cgroup/cgroup.controllers') ? 'v2' : existsSync('/sys/fs/cgroup/unified') ? 'v1 (hybrid, cgroup2 at /sys/fs/cgroup/unified)' : 'v1';
  const git = sh('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD']).stdout.trim();
  const dirty = sh('git', ['-C', REPO, 'status', '--porcelain', '--', 'src', 'native']).stdout.trim().split('\n').filter(Boolean).length;
  const v = (cmd, args) => (which(cmd) || cmd.startsWith('/') ? firstLine(sh(cmd, args).stdout || sh(cmd, args).stderr) : 'missing');
  return {
    date: new Date().toISOString(),
    host: os.hostname(),
    nproc: os.availableParallelism(),
    cpu: os.cpus()[0]?.model ?? '',
    memMiB: Math.round(os.totalmem() / 2 ** 20),
    kernel: os.release(),
    os: osRelease,
    cgroup: unified,
    fs: firstLine(sh('findmnt', ['-no', 'FSTYPE', '-T', work]).stdout) || firstLine(sh('stat', ['-f', '-c', '%T', work]).stdout),
    versions: {
      hako: `${firstLine(sh(HAKO, ['version']).stdout)} (git ${git}${dirty ? `, ${dirty} files changed in src/ native/` : ''})`,
      node: process.version,
      docker: firstLine(sh(DOCKER, ['--version']).stdout),
      containerd: v('containerd', ['--version']),
      runc: v('runc', ['--version']),
      crun: v('crun', ['--version']),
      skopeo: v('skopeo', ['--version']),
      'docker-registry': v('/usr/bin/docker-registry', ['--version']),
    },
  };
}

// ---------------------------------------------------------------------------
// Timing

/**
 * Runs each of CMDS (name, argv, sw, env, before(i), after(i, res)) WARMUP + RUNS times,
 * interleaved (round-robin, the order rotated every round so none is always first).
 * Returns { name: stats } over the non-warmup rounds; failures go to ctx.problems.
 */
async function interleave(scenario, cmds, { warmup, runs }) {
  const samples = Object.fromEntries(cmds.map((c) => [c.name, []]));
  const cpu = Object.fromEntries(cmds.map((c) => [c.name, []]));
  const failures = Object.fromEntries(cmds.map((c) => [c.name, 0]));
  for (let i = 0; i < warmup + runs; i++) {
    const order = cmds.map((_, k) => cmds[(k + i) % cmds.length]);
    for (const c of order) {
      if (failures[c.name] >= 3) continue;
      await c.before?.(i);
      const argv = c.argv(i);
      const cpu0 = machineCpuMs();
      const res = await (c.sw ?? ctx.sw).run(argv[0], argv.slice(1), { env: c.env, timeoutMs: c.timeoutMs });
      const cpuMs = machineCpuMs() - cpu0;
      const ok = res.status === 0 && (c.check?.(res, i) ?? true);
      await c.after?.(i, res);
      if (!ok) {
        failures[c.name]++;
        const msg = `${scenario}: ${c.name} failed (exit ${res.status ?? res.signal}${res.error ? `, ${res.error}` : ''}): ${argv.join(' ')}\n    ${short(res.stderr || res.stdout).replaceAll('\n', '\n    ')}`;
        log(msg);
        ctx.problems.push(msg);
        continue;
      }
      if (i >= warmup) {
        samples[c.name].push(res.ms);
        cpu[c.name].push(cpuMs);
      }
    }
    process.stderr.write(`\rbench: ${scenario}: round ${i + 1}/${warmup + runs}${i < warmup ? ' (warm-up)' : ''}   `);
  }
  process.stderr.write('\n');
  // cpuMs: CPU time the whole machine used while the command ran (its daemons included).
  return Object.fromEntries(Object.entries(samples).map(([k, xs]) => [k, { ...stats(xs), cpuMs: median(cpu[k]), failures: failures[k] }]));
}

// ---------------------------------------------------------------------------
// Scenarios. Each returns rows: { scenario, hako, peer, peerName, unit, target, info }

const rows = [];
const details = {};

async function scenarioRuntime(images) {
  const bundle = join(work, 'bundle');
  mkdirSync(bundle, { recursive: true });
  cpSync(images.rootfs, join(bundle, 'rootfs'), { recursive: true, verbatimSymlinks: true });
  sh('runc', ['spec', '--bundle', bundle], { check: true });
  const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
  config.process.terminal = false;
  config.process.args = ['true'];
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(config, null, 2));
  const nsList = config.linux.namespaces.map((n) => n.type).join(',');

  // crun 1.8 refuses every create on a hybrid host whose cgroup2 holds controllers
  // (here: hugetlb); as scripts/conformance does, its stopwatch runs in a private
  // mount namespace with /sys/fs/cgroup/unified unmounted. The host is not touched.
  let crunNote = '';
  const unifiedControllers = existsSync('/sys/fs/cgroup/unified/cgroup.controllers') ? readFileSync('/sys/fs/cgroup/unified/cgroup.controllers', 'utf8').trim() : '';
  let crunWrap = [];
  if (unifiedControllers) {
    crunWrap = ['unshare', '-m', 'sh', '-c', 'umount /sys/fs/cgroup/unified 2>/dev/null || umount -l /sys/fs/cgroup/unified; exec "$@"', 'sh'];
    crunNote = `crun runs in a private mount namespace with /sys/fs/cgroup/unified unmounted (its cgroup2 holds "${unifiedControllers}"; crun 1.8 refuses hybrid hosts otherwise)`;
    ctx.crunSw = new Stopwatch(NODE, join(BENCH, 'lib', 'timer.mjs'), crunWrap, work);
  }
  const root = (name) => {
    const r = join(work, 'rt', name);
    mkdirSync(r, { recursive: true });
    return r;
  };
  const id = (name, i) => `hb${tag}-${name}-${i}`;
  const roots = { hako: root('hako'), 'hako-runtime': root('hako-runtime'), runc: root('runc'), crun: root('crun') };
  ctx.runtimeRoots.push([HAKO_RUNTIME, roots.hako, []], [HAKO_RUNTIME, roots['hako-runtime'], []], ['runc', roots.runc, []], ['crun', roots.crun, crunWrap]);
  const cmds = [
    { name: 'hako', argv: (i) => [HAKO, 'runtime', '--root', roots.hako, 'run', '--bundle', bundle, id('hako', i)] },
    { name: 'hako-runtime', argv: (i) => [HAKO_RUNTIME, '--root', roots['hako-runtime'], 'run', '--bundle', bundle, id('hakort', i)] },
    { name: 'runc', argv: (i) => ['runc', '--root', roots.runc, 'run', '--bundle', bundle, id('runc', i)] },
    { name: 'crun', argv: (i) => ['crun', '--root', roots.crun, 'run', '--bundle', bundle, id('crun', i)], sw: ctx.crunSw },
    // References: what any Node CLI pays, and the stopwatch's own spawn cost.
    { name: 'node -e ""', argv: () => [NODE, '-e', ''] },
    { name: 'node spawnSync(true)', argv: () => [NODE, '-e', 'require("node:child_process").spawnSync("true")'] },
    { name: 'spawn /bin/true', argv: () => ['/bin/true'] },
  ];
  const r = await interleave('runtime', cmds, plan.runtime);
  details.runtime = { bundle: { namespaces: nsList, readonlyRoot: config.root.readonly, args: config.process.args }, note: crunNote, stats: r };
  rows.push({ scenario: '1. runtime: `runtime run` busybox `true`', hako: r.hako, peer: r.runc, peerName: 'runc', unit: 'ms', target: 1.0 });
  rows.push({ scenario: '   same, vs crun', hako: r.hako, peer: r.crun, peerName: 'crun', unit: 'ms', info: true });
  rows.push({ scenario: '   `hako-runtime run` (direct entry) vs runc', hako: r['hako-runtime'], peer: r.runc, peerName: 'runc', unit: 'ms', info: true });
  rows.push({ scenario: '   ref: `node -e ""` vs runc', hako: r['node -e ""'], peer: r.runc, peerName: 'runc', unit: 'ms', info: true });
  rows.push({ scenario: '   ref: `node -e spawnSync("true")` vs runc', hako: r['node spawnSync(true)'], peer: r.runc, peerName: 'runc', unit: 'ms', info: true });
  rows.push({ scenario: '   ref: spawn `/bin/true` (stopwatch floor)', hako: r['spawn /bin/true'], peer: r.runc, peerName: 'runc', unit: 'ms', info: true });
}

async function scenarioStart() {
  const d = ctx.dockerd;
  const cmds = [
    { name: 'hako', argv: () => [HAKO, '--data-root', ctx.hakoRoot, 'run', '--rm', '--network', 'none', 'busybox', 'true'] },
    { name: 'docker', argv: () => [DOCKER, 'run', '--rm', '--network', 'none', 'busybox', 'true'], env: d.env },
  ];
  const r = await interleave('start', cmds, plan.start);
  const leftH = hakoIn(ctx.hakoRoot, 'ps', '-aq').stdout.trim();
  const leftD = d.docker(['ps', '-aq']).stdout.trim();
  if (leftH) ctx.problems.push(`start: hako run --rm left containers: ${leftH.replaceAll('\n', ' ')}`);
  if (leftD) ctx.problems.push(`start: docker run --rm left containers: ${leftD.replaceAll('\n', ' ')}`);
  details.start = { stats: r };
  rows.push({ scenario: '2. engine start: `run --rm --network none busybox true`', hako: r.hako, peer: r.docker, peerName: 'docker', unit: 'ms', target: 0.25 });
}

async function scenarioPull(big) {
  const d = ctx.dockerd;
  const ref = `${ctx.registry.host}/bench/big:latest`;
  const pullDir = join(work, 'pull');
  mkdirSync(pullDir, { recursive: true });
  const hakoRootOf = (i) => join(pullDir, `hako-${i}`);
  const skopeoDir = (i) => join(pullDir, `skopeo-${i}`);
  const removeHakoRoot = (i) => {
    const root = hakoRootOf(i);
    for (const m of mountsUnder(root).reverse()) sh('umount', ['-l', m]);
    rmSync(root, { recursive: true, force: true });
    try {
      rmdirSync(join('/run/hako', `engine-${engineTag(root)}`));
    } catch {}
  };
  let checkedHako = false;
  let checkedDocker = false;
  const cmds = [
    {
      name: 'hako',
      before: (i) => {
        ctx.hakoRoots.add(hakoRootOf(i));
        sh('sync', []);
      },
      argv: (i) => [HAKO, '--data-root', hakoRootOf(i), 'pull', ref],
      check: (res, i) => {
        if (checkedHako) return true;
        checkedHako = true;
        const r = hakoIn(hakoRootOf(i), 'image', 'inspect', ref);
        if (r.status !== 0) ctx.problems.push(`pull: after hako pull, hako image inspect ${ref} failed: ${short(r.stderr)}`);
        return r.status === 0;
      },
      after: (i) => {
        removeHakoRoot(i);
        ctx.hakoRoots.delete(hakoRootOf(i));
      },
    },
    {
      name: 'docker',
      env: d.env,
      before: () => {
        d.docker(['rmi', '-f', ref]);
        d.docker(['image', 'prune', '-f']);
        sh('sync', []);
      },
      argv: () => [DOCKER, 'pull', ref],
      check: (res) => {
        // Every run must download every layer: nothing may be left from the previous one.
        if (/Already exists/.test(res.stdout)) {
          ctx.problems.push(`pull: docker pull reused layers (the store was not empty): ${short(res.stdout, 300)}`);
          return false;
        }
        if (checkedDocker) return true;
        checkedDocker = true;
        return d.docker(['image', 'inspect', ref]).status === 0;
      },
      after: () => {
        d.docker(['rmi', '-f', ref]);
        d.docker(['image', 'prune', '-f']);
      },
    },
    {
      name: 'skopeo',
      before: (i) => {
        rmSync(skopeoDir(i), { recursive: true, force: true });
        sh('sync', []);
      },
      argv: (i) => ['skopeo', 'copy', '--quiet', '--src-tls-verify=false', `docker://${ref}`, `oci:${skopeoDir(i)}:latest`],
      after: (i) => rmSync(skopeoDir(i), { recursive: true, force: true }),
    },
  ];
  for (const c of cmds) c.timeoutMs = 600_000;
  const r = await interleave('pull', cmds, plan.pull);
  details.pull = { ref, layers: big.layers, compressedBytes: big.compressedBytes, stats: r };
  const mb = (big.compressedBytes / 1e6).toFixed(0);
  rows.push({ scenario: `3. pull: ${big.layers} layers, ${mb} MB gzip, empty store`, hako: r.hako, peer: r.docker, peerName: 'docker', unit: 'ms', target: 0.4 });
  rows.push({ scenario: '   same, vs the floor `skopeo copy` → OCI dir', hako: r.hako, peer: r.skopeo, peerName: 'skopeo', unit: 'ms', info: true });
}

async function scenarioMemory() {
  const d = ctx.dockerd;
  const k = plan.memory.containers;
  const hakoIds = [];
  const dockerIds = [];
  for (let i = 0; i < k; i++) {
    const h = hakoIn(ctx.hakoRoot, 'run', '-d', '--network', 'none', '--name', `hb-mem-${i}`, 'busybox', 'sleep', '1000');
    if (h.status !== 0) throw new Error(`hako run -d failed: ${short(h.stderr)}`);
    hakoIds.push(h.stdout.trim().split('\n').pop());
    const r = d.docker(['run', '-d', '--network', 'none', '--name', `hb-mem-${i}`, 'busybox', 'sleep', '1000']);
    if (r.status !== 0) throw new Error(`docker run -d failed: ${short(r.stderr)}`);
    dockerIds.push(r.stdout.trim().split('\n').pop());
  }
  await sleep(2000); // steady state
  const measure = (pid, wantComm) => {
    const parent = ppid(pid);
    const c = comm(parent);
    if (!c.startsWith(wantComm)) throw new Error(`the parent of container pid ${pid} is ${parent} (${c}), not ${wantComm}`);
    return { pid: parent, comm: c, ...memory(parent) };
  };
  const mon = hakoIds.map((id) => measure(Number(hakoIn(ctx.hakoRoot, 'inspect', '-f', '{{.State.Pid}}', id).stdout.trim()), 'hako-monitor'));
  const shim = dockerIds.map((id) => measure(Number(d.docker(['inspect', '-f', '{{.State.Pid}}', id]).stdout.trim()), 'containerd-shim'));
  // While they run: the daemons' footprint with K containers.
  const daemonsBusy = [d.pid, d.containerdPid()].map((p) => memory(p));
  const r1 = hakoIn(ctx.hakoRoot, 'rm', '-f', ...hakoIds);
  if (r1.status !== 0) ctx.problems.push(`memory: hako rm -f failed: ${short(r1.stderr)}`);
  d.docker(['rm', '-f', ...dockerIds]);
  await waitUntil(() => hakoProcesses(ctx.hakoRoot).length === 0, 10_000);
  await sleep(3000); // idle
  const idleHako = hakoProcesses(ctx.hakoRoot).map((p) => ({ pid: p, comm: comm(p), ...memory(p) }));
  const anyHako = pids().filter((p) => comm(p).startsWith('hako')).map((p) => `${p} ${comm(p)}: ${cmdline(p).slice(0, 120)}`);
  const daemons = [
    { name: 'dockerd', pid: d.pid, ...memory(d.pid) },
    { name: 'containerd', pid: d.containerdPid(), ...memory(d.containerdPid()) },
  ];
  const sum = (xs, f) => xs.reduce((n, x) => n + (x[f] || 0), 0);
  details.memory = {
    monitors: mon,
    shims: shim,
    daemonsWithContainers: daemonsBusy,
    idle: { hako: idleHako, otherHakoProcessesOnHost: anyHako, docker: daemons },
  };
  const kib = (xs) => stats(xs);
  rows.push({ scenario: '4. memory: per-container monitor RSS (VmRSS)', hako: kib(mon.map((m) => m.rssKiB)), peer: kib(shim.map((m) => m.rssKiB)), peerName: 'containerd-shim-runc-v2', unit: 'KiB', target: 0.1 });
  rows.push({ scenario: '   same, Pss (smaps_rollup)', hako: kib(mon.map((m) => m.pssKiB)), peer: kib(shim.map((m) => m.pssKiB)), peerName: 'containerd-shim-runc-v2', unit: 'KiB', info: true });
  rows.push({
    scenario: '   idle: what stays running (RSS)',
    hako: kib([sum(idleHako, 'rssKiB')]),
    peer: kib([sum(daemons, 'rssKiB')]),
    peerName: 'dockerd + containerd',
    unit: 'KiB',
    target: 0,
    note: `hako: ${idleHako.length} processes; docker: dockerd ${daemons[0].rssKiB} KiB + containerd ${daemons[1].rssKiB} KiB`,
  });
}

async function scenarioDensity() {
  const d = ctx.dockerd;
  const n = plan.density.n;
  const results = { hako: [], docker: [] };
  const failures = { hako: 0, docker: 0 };
  const { warmup, runs } = plan.density;
  const rounds = [];
  for (let round = 0; round < warmup + runs; round++) {
    const order = round % 2 ? ['docker', 'hako'] : ['hako', 'docker'];
    for (const who of order) {
      if (failures[who] >= 2) continue;
      const names = Array.from({ length: n }, (_, i) => `hb-d${round}-${i}`);
      const list = names.map((name) =>
        who === 'hako'
          ? [HAKO, ['--data-root', ctx.hakoRoot, 'run', '-d', '--network', 'none', '--name', name, 'busybox', 'sleep', '1000']]
          : [DOCKER, ['run', '-d', '--network', 'none', '--name', name, 'busybox', 'sleep', '1000'], { env: d.env }],
      );
      sh('sync', []);
      const cpu0 = machineCpuMs();
      const res = await ctx.sw.parallel(list, 600_000);
      const cpuMs = machineCpuMs() - cpu0;
      const bad = res.each.filter((e) => e.status !== 0);
      const ps = who === 'hako' ? hakoIn(ctx.hakoRoot, 'ps', '-q') : d.docker(['ps', '-q']);
      const running = ps.stdout.split('\n').filter(Boolean).length;
      if (bad.length || running !== n || ps.status !== 0) {
        failures[who]++;
        const psErr = ps.status !== 0 ? ` (\`ps -q\` failed, exit ${ps.status}: ${short(ps.stderr, 300)})` : '';
        const msg = `density: ${who}: ${bad.length} of ${n} \`run -d\` failed, ${running} running afterwards${psErr}${bad.length ? `; first error (exit ${bad[0].status ?? bad[0].signal}): ${short(bad[0].stderr, 600)}` : ''}`;
        log(msg);
        ctx.problems.push(msg);
      } else if (round >= warmup) {
        results[who].push(res.ms);
      }
      // When each CLI returned (ms after the start): shows whether they ran side by side or queued.
      const ends = res.each.map((e) => e.ms).sort((a, b) => a - b);
      rounds.push({ round, who, warmup: round < warmup, cpuMs, first: ends[0], p25: ends[Math.floor(n / 4)], median: median(ends), p75: ends[Math.floor((3 * n) / 4)], last: ends[n - 1] });
      // Remove them all (not timed), and let the host settle.
      if (who === 'hako') {
        const ids = hakoIn(ctx.hakoRoot, 'ps', '-aq').stdout.split('\n').filter(Boolean);
        if (ids.length) {
          const r = hakoIn(ctx.hakoRoot, 'rm', '-f', ...ids);
          if (r.status !== 0) ctx.problems.push(`density: hako rm -f of ${ids.length} containers failed: ${short(r.stderr)}`);
        }
        await waitUntil(() => hakoProcesses(ctx.hakoRoot).length === 0, 20_000);
      } else {
        const ids = d.docker(['ps', '-aq']).stdout.split('\n').filter(Boolean);
        if (ids.length) d.docker(['rm', '-f', ...ids], { timeoutMs: 300_000 });
      }
      await sleep(1000);
    }
    process.stderr.write(`\rbench: density: round ${round + 1}/${warmup + runs}${round < warmup ? ' (warm-up)' : ''}   `);
  }
  process.stderr.write('\n');
  const cpuOf = (who) => median(rounds.filter((r) => r.who === who && !r.warmup).map((r) => r.cpuMs));
  details.density = { n, rounds, stats: { hako: { ...stats(results.hako), cpuMs: cpuOf('hako'), failures: failures.hako }, docker: { ...stats(results.docker), cpuMs: cpuOf('docker'), failures: failures.docker } } };
  rows.push({ scenario: `5. density: ${n} \`run -d\` at once, until all run`, hako: details.density.stats.hako, peer: details.density.stats.docker, peerName: 'docker', unit: 'ms', target: 0.3 });
}

// ---------------------------------------------------------------------------
// Report

function fmt(v, unit) {
  if (v === undefined || !Number.isFinite(v)) return '—';
  if (unit === 'ms') return v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(1)} ms`;
  if (unit === 'KiB') return v >= 10240 ? `${(v / 1024).toFixed(1)} MiB` : `${Math.round(v)} KiB`;
  return String(v);
}

function evaluate(row) {
  const h = row.hako?.median;
  const p = row.peer?.median;
  const ratio = Number.isFinite(h) && Number.isFinite(p) && p > 0 ? h / p : NaN;
  let met = '';
  if (!row.info) {
    if (!Number.isFinite(ratio)) met = 'n/a';
    else if (row.target === 0) met = h === 0 ? 'yes' : 'no';
    else met = ratio <= row.target ? 'yes' : 'no';
  }
  return { ...row, ratio, met };
}

function table(evaluated) {
  const head = ['scenario', 'hako (median)', 'peer (median)', 'hako/peer', 'target', 'met?'];
  const body = evaluated.map((r) => [
    r.scenario,
    fmt(r.hako?.median, r.unit),
    `${fmt(r.peer?.median, r.unit)} ${r.peerName}`,
    Number.isFinite(r.ratio) ? `${r.ratio.toFixed(r.ratio < 0.1 ? 3 : 2)}×` : '—',
    r.info ? '' : r.target === 0 ? '0 (nothing)' : `≤ ${r.target}×`,
    r.met,
  ]);
  return { head, body };
}

function textTable({ head, body }) {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

function mdTable({ head, body }) {
  const esc = (s) => s.replaceAll('|', '\\|');
  return [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`, ...body.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}

function markdown(m, evaluated) {
  const t = table(evaluated);
  const lines = [
    `# hako bench results (${quick ? 'quick' : 'full'} run)`,
    '',
    `${m.date} on ${m.host}: ${m.nproc} CPUs (${m.cpu}), ${(m.memMiB / 1024).toFixed(1)} GiB RAM, Linux ${m.kernel}, ${m.os}, cgroup ${m.cgroup}, work dir on ${m.fs}. Load average (1/5/15 min) at the start ${m.loadavg.start.join(' ')}, at the end ${m.loadavg.end?.join(' ')}.`,
    '',
    ...Object.entries(m.versions).map(([k, v]) => `- ${k}: ${v}`),
    '',
    `Repetitions: runtime ${plan.runtime.runs} (+${plan.runtime.warmup} warm-up), start ${plan.start.runs} (+${plan.start.warmup}), pull ${plan.pull.runs} (+${plan.pull.warmup}), memory ${plan.memory.containers} containers each, density ${plan.density.runs} (+${plan.density.warmup}) × ${plan.density.n}. Scenarios: ${scenarios.join(', ')}.`,
    '',
    mdTable(t),
    '',
    'Spread (min … max, n):',
    '',
    ...evaluated.filter((r) => r.hako && r.peer).map((r) => {
      const cpu = (x) => (Number.isFinite(x?.cpuMs) && r.unit === 'ms' ? `, machine CPU ${fmt(x.cpuMs, 'ms')}` : '');
      return `- ${r.scenario.trim()}: hako ${fmt(r.hako.min, r.unit)} … ${fmt(r.hako.max, r.unit)} (n=${r.hako.n}${cpu(r.hako)}); ${r.peerName} ${fmt(r.peer.min, r.unit)} … ${fmt(r.peer.max, r.unit)} (n=${r.peer.n}${cpu(r.peer)})${r.note ? `; ${r.note}` : ''}`;
    }),
    '',
    'Machine CPU: the CPU time all CPUs spent (user + system, from /proc/stat) while the command ran, its daemons included (dockerd, containerd, shims for Docker); other load on the machine counts too.',
  ];
  if (details.density) {
    const d = details.density;
    const line = (who) => {
      const rs = d.rounds.filter((r) => r.who === who && !r.warmup);
      const m = (f) => fmt(median(rs.map((r) => r[f])), 'ms');
      return `${who}: first CLI back after ${m('first')}, half after ${m('median')}, last after ${m('last')}; machine CPU ${m('cpuMs')}`;
    };
    lines.push('', `Density, when the ${d.n} CLIs returned (medians over the rounds): ${line('hako')}; ${line('docker')}.`);
  }
  if (details.runtime?.note) lines.push('', `Note: ${details.runtime.note}.`);
  if (ctx.problems.length) lines.push('', 'Problems during the run:', '', ...ctx.problems.map((p) => `- ${p.replaceAll('\n', ' ')}`));
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------------------
// hako's build, copied

/** The hako commands every module group needs to load; an error means a broken build. */
function smokeTest(hako) {
  const root = join(work, 'smoke');
  const checks = [
    [hako, ['version']],
    [hako, ['--data-root', root, 'images']],
    [hako, ['--data-root', root, 'ps', '-a']],
    [hako, ['runtime', '--root', join(root, 'rt'), 'list']],
  ];
  try {
    for (const [cmd, args] of checks) {
      const r = sh(cmd, args);
      if (r.status !== 0) return `${cmd} ${args.join(' ')}: exit ${r.status}: ${short(r.stderr, 800)}`;
    }
    return undefined;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/**
 * WORK/hako-home: bin/, dist/src/, native/build/ and package.json copied, node_modules
 * hard-linked. hako finds everything relative to its dist/ (paths.ts), so this copy is a
 * complete install. Retried while a concurrent build leaves the copy inconsistent.
 */
async function snapshotHako() {
  const home = join(work, 'hako-home');
  for (let attempt = 1; ; attempt++) {
    rmSync(home, { recursive: true, force: true });
    mkdirSync(join(home, 'dist'), { recursive: true });
    mkdirSync(join(home, 'native'), { recursive: true });
    cpSync(join(REPO, 'bin'), join(home, 'bin'), { recursive: true });
    cpSync(join(REPO, 'dist', 'src'), join(home, 'dist', 'src'), { recursive: true });
    cpSync(join(REPO, 'native', 'build'), join(home, 'native', 'build'), { recursive: true, filter: (src) => !src.includes('/obj') });
    cpSync(join(REPO, 'package.json'), join(home, 'package.json'));
    // node_modules (Node itself, tar-stream) as hard links: an `npm ci` in the checkout
    // during the run replaces its files, not ours. A symlink where links cannot be made.
    if (sh('cp', ['-al', join(REPO, 'node_modules'), join(home, 'node_modules')]).status !== 0) {
      rmSync(join(home, 'node_modules'), { recursive: true, force: true });
      symlinkSync(join(REPO, 'node_modules'), join(home, 'node_modules'));
    }
    const broken = smokeTest(join(home, 'bin', 'hako'));
    if (!broken) return home;
    if (attempt >= 5) throw new Error(`hako's build does not work (a build in progress?): ${broken}`);
    log(`the copy of hako's build does not work yet (attempt ${attempt}), retrying in 5 s: ${firstLine(broken)}`);
    await sleep(5000);
  }
}

// ---------------------------------------------------------------------------
// Main

let exitCode = 0;
try {
  for (const [what, path] of [['the build (run ./setup)', join(REPO, 'dist', 'src', 'cli', 'main.js')], ['the native build (run ./setup)', join(REPO, 'native', 'build', 'hako-monitor')]]) {
    if (!existsSync(path)) throw new Error(`${path} is missing: ${what}`);
  }
  if (!opt['no-snapshot']) {
    const home = await snapshotHako();
    HAKO = join(home, 'bin', 'hako');
    HAKO_RUNTIME = join(home, 'bin', 'hako-runtime');
    NODE = join(home, 'node_modules', '.bin', 'node');
  } else {
    const broken = smokeTest(HAKO);
    if (broken) throw new Error(`hako's build does not work (a build in progress?): ${broken}`);
  }
  const m = machine();
  m.hakoHome = dirname(dirname(HAKO));
  m.loadavg = { start: os.loadavg().map((x) => Math.round(x * 100) / 100) };
  if (m.loadavg.start[0] > m.nproc) log(`warning: load average ${m.loadavg.start[0]} on ${m.nproc} CPUs: something else is running, timings will be noisy`);
  log(`work dir ${work}; ${m.nproc} CPUs, ${m.memMiB} MiB, Linux ${m.kernel}; ${m.versions.hako}`);
  ctx.sw = new Stopwatch(NODE, join(BENCH, 'lib', 'timer.mjs'), [], work);

  const needDocker = scenarios.some((s) => ['start', 'pull', 'memory', 'density'].includes(s));
  const needBusyboxImage = scenarios.some((s) => ['start', 'memory', 'density'].includes(s));
  log('building busybox rootfs (scripts/busybox-rootfs)');
  const images = busybox(REPO, join(work, 'images'));
  ctx.hakoRoots.add(ctx.hakoRoot);
  if (needDocker) {
    log('starting a private dockerd');
    ctx.dockerd = new Dockerd(join(work, 'docker'), tag);
    await ctx.dockerd.start();
  }
  if (needBusyboxImage) {
    log('importing busybox into hako and docker');
    sh(HAKO, ['--data-root', ctx.hakoRoot, 'import', '-c', 'CMD ["sh"]', images.tar, 'busybox'], { check: true });
    sh(DOCKER, ['import', '-c', 'CMD ["sh"]', images.tar, 'busybox'], { check: true, env: ctx.dockerd.env });
  }
  let big;
  if (scenarios.includes('pull')) {
    log('starting docker-registry on 127.0.0.1');
    ctx.registry = new Registry(join(work, 'registry'));
    await ctx.registry.start();
    log('generating the 5-layer image (pseudo-random data) and pushing it with skopeo');
    big = bigImage(join(work, 'images', 'big'));
    pushLayout(big.layout, `${ctx.registry.host}/bench/big:latest`);
    rmSync(big.layout, { recursive: true, force: true });
  }
  const run = { runtime: () => scenarioRuntime(images), start: scenarioStart, pull: () => scenarioPull(big), memory: scenarioMemory, density: scenarioDensity };
  for (const s of scenarios) {
    if (interrupted) break;
    log(`scenario ${s} (load average ${os.loadavg()[0].toFixed(2)})`);
    try {
      await run[s]();
    } catch (e) {
      if (interrupted) break;
      const msg = `${s}: aborted: ${e.message}`;
      log(msg);
      ctx.problems.push(msg);
      exitCode = 1;
    }
  }
  if (!interrupted) {
    m.loadavg.end = os.loadavg().map((x) => Math.round(x * 100) / 100);
    await cleanup();
    const evaluated = rows.map(evaluate);
    const t = table(evaluated);
    process.stdout.write(`\n${textTable(t)}\n`);
    if (details.runtime?.note) process.stdout.write(`\nnote: ${details.runtime.note}\n`);
    if (ctx.problems.length) process.stdout.write(`\nproblems during the run:\n${ctx.problems.map((p) => `  - ${p}`).join('\n')}\n`);
    const name = quick ? 'quick' : scenarios.length === ALL.length ? 'latest' : 'partial';
    mkdirSync(opt.out, { recursive: true });
    const json = { machine: m, mode: quick ? 'quick' : 'full', scenarios, plan, rows: evaluated, details, problems: ctx.problems };
    writeFileSync(join(opt.out, `${name}.json`), `${JSON.stringify(json, null, 2)}\n`);
    writeFileSync(join(opt.out, `${name}.md`), markdown(m, evaluated));
    process.stdout.write(`\nresults: ${join(opt.out, `${name}.md`)} and .json\n`);
    if (ctx.problems.length) exitCode = exitCode || 1;
  }
} catch (e) {
  log(`failed: ${e.stack ?? e.message}`);
  exitCode = 1;
} finally {
  await cleanup();
}
if (!interrupted) process.exit(exitCode);
