// Where hako's start-up time goes (docs/benchmarks.md, "What bounds it"): the floors any
// Node CLI pays, and a timeline of `hako runtime run` and `hako run --rm` (bootstrap,
// module loading, native helpers, exit) from a preloaded hook (lib/timeline-hook.mjs).
// Runs the checkout's build; no daemons. Started by bench/profile.
//
//   bench/profile [--runs N]
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { busybox } from './lib/images.mjs';
import { mountsUnder, sh, Stopwatch } from './lib/procs.mjs';

const BENCH = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(BENCH, '..');
const NODE = process.execPath;
const HAKO = join(REPO, 'bin', 'hako');
const HAKO_RUNTIME = join(REPO, 'bin', 'hako-runtime');
const HOOK = join(BENCH, 'lib', 'timeline-hook.mjs');

const { values: opt } = parseArgs({ options: { runs: { type: 'string', default: '20' }, work: { type: 'string' } } });
const runs = Number(opt.runs);
const work = opt.work ? resolve(opt.work) : mkdtempSync('/tmp/hako-profile-');
mkdirSync(work, { recursive: true });
const log = (m) => process.stderr.write(`profile: ${m}\n`);
const median = (xs) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '—');

const hakoRoot = join(work, 'hako');
const rt = { hako: join(work, 'rt-hako'), runc: join(work, 'rt-runc') };
let sw;

async function cleanup() {
  await sw?.stop();
  if (existsSync(join(hakoRoot, 'metadata.db'))) {
    const ids = sh(HAKO, ['--data-root', hakoRoot, 'ps', '-aq']).stdout.split('\n').filter(Boolean);
    if (ids.length) sh(HAKO, ['--data-root', hakoRoot, 'rm', '-f', ...ids]);
  }
  for (const [name, root] of Object.entries(rt)) {
    if (!existsSync(root)) continue;
    for (const id of readdirSync(root)) sh(name === 'runc' ? 'runc' : HAKO_RUNTIME, ['--root', root, 'delete', '--force', id]);
  }
  for (const m of mountsUnder(work).reverse()) sh('umount', ['-l', m]);
  // hako's runtime state for this data root (/run/hako/engine-<sha256(root)[:12]>), empty by now.
  try {
    rmdirSync(join('/run/hako', `engine-${createHash('sha256').update(hakoRoot).digest('hex').slice(0, 12)}`));
  } catch {}
  rmSync(work, { recursive: true, force: true });
}
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => cleanup().finally(() => process.exit(130)));

try {
  log(`work dir ${work}; ${runs} runs each`);
  const images = busybox(REPO, join(work, 'images'));
  const bundle = join(work, 'bundle');
  mkdirSync(bundle);
  cpSync(images.rootfs, join(bundle, 'rootfs'), { recursive: true, verbatimSymlinks: true });
  sh('runc', ['spec', '--bundle', bundle], { check: true });
  const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
  config.process.terminal = false;
  config.process.args = ['true'];
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(config, null, 2));
  sh(HAKO, ['--data-root', hakoRoot, 'import', '-c', 'CMD ["sh"]', images.tar, 'busybox'], { check: true });
  for (const r of Object.values(rt)) mkdirSync(r, { recursive: true });
  sw = new Stopwatch(NODE, join(BENCH, 'lib', 'timer.mjs'), [], work);

  // 1. Wall-clock medians, interleaved.
  const imp = (what) => [NODE, '--input-type=module', '-e', what];
  let n = 0;
  const cmds = {
    'spawn /bin/true (stopwatch floor)': () => ['/bin/true'],
    'node -e ""': () => [NODE, '-e', ''],
    'node -e spawnSync("true")': () => [NODE, '-e', 'require("node:child_process").spawnSync("true")'],
    'node: import node:http': () => imp('await import("node:http")'),
    'node: import node:https': () => imp('await import("node:https")'),
    'node: import node:sqlite': () => imp('await import("node:sqlite")'),
    'hako version (wrapper + main.js)': () => [HAKO, 'version'],
    'hako runtime run': () => [HAKO, 'runtime', '--root', rt.hako, 'run', '--bundle', bundle, `p${n++}`],
    'runc run': () => ['runc', '--root', rt.runc, 'run', '--bundle', bundle, `p${n++}`],
    'hako run --rm --network none busybox true': () => [HAKO, '--data-root', hakoRoot, 'run', '--rm', '--network', 'none', 'busybox', 'true'],
  };
  const wall = Object.fromEntries(Object.keys(cmds).map((k) => [k, []]));
  for (let i = 0; i < runs + 2; i++) {
    for (const [name, argv] of Object.entries(cmds)) {
      const a = argv();
      const r = await sw.run(a[0], a.slice(1));
      if (r.status !== 0) throw new Error(`${a.join(' ')}: exit ${r.status}: ${r.stderr}`);
      if (i >= 2) wall[name].push(r.ms);
    }
    process.stderr.write(`\rprofile: wall clock, round ${i + 1}/${runs + 2}  `);
  }
  process.stderr.write('\n');

  // 2. Timelines from the hook, one JSON line per run.
  const timeline = async (argvOf) => {
    const lines = [];
    for (let i = 0; i < runs + 1; i++) {
      const outFile = join(work, `timeline-${i}.json`);
      const a = argvOf();
      const r = await sw.run(a[0], a.slice(1), { env: { ...process.env, NODE_OPTIONS: `--import ${HOOK}`, HAKO_TIMELINE_OUT: outFile } });
      if (r.status !== 0) throw new Error(`${a.join(' ')}: exit ${r.status}: ${r.stderr}`);
      if (i >= 1) lines.push(JSON.parse(readFileSync(outFile, 'utf8').split('\n')[0]));
      rmSync(outFile, { force: true });
    }
    const at = (l, re) => l.marks.find(([w]) => re.test(w))?.[1];
    const names = [...new Set(lines.flatMap((l) => l.marks.map(([w]) => w)))];
    return {
      bootstrap: median(lines.map((l) => l.bootstrap)),
      modules: median(lines.map((l) => l.modules)),
      modulesFirst: median(lines.map((l) => l.modulesFirst)),
      modulesLast: median(lines.map((l) => l.modulesLast)),
      fsyncs: median(lines.map((l) => l.fsyncs)),
      fsyncMs: median(lines.map((l) => l.fsyncMs)),
      marks: names.map((w) => [w, median(lines.map((l) => at(l, new RegExp(`^${w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`))))]),
    };
  };
  log('timeline of hako runtime run');
  const tlRuntime = await timeline(() => [HAKO, 'runtime', '--root', rt.hako, 'run', '--bundle', bundle, `t${n++}`]);
  log('timeline of hako run --rm');
  const tlRun = await timeline(() => [HAKO, '--data-root', hakoRoot, 'run', '--rm', '--network', 'none', 'busybox', 'true']);

  // Report.
  const lines = ['', 'Wall clock, median of ' + runs + ' (ms):', ''];
  for (const [k, xs] of Object.entries(wall)) lines.push(`  ${f1(median(xs)).padStart(7)}  ${k}`);
  const show = (title, tl) => {
    lines.push('', `${title}: timeline, medians (ms since the process started; the hook itself adds ~3-5 ms before "preload"):`, '');
    lines.push(`  ${f1(tl.bootstrap).padStart(7)}  Node bootstrap complete`);
    lines.push(`  ${f1(tl.modulesFirst).padStart(7)}  first of hako's ES modules loaded`);
    lines.push(`  ${f1(tl.modulesLast).padStart(7)}  last of ${tl.modules} modules loaded (${f1(tl.modulesLast - tl.modulesFirst)} ms of module loading, Node built-ins they import included)`);
    for (const [w, t] of tl.marks) if (w !== 'preload') lines.push(`  ${f1(t).padStart(7)}  ${w}`);
    lines.push(`           ${tl.fsyncs} fsync calls, ${f1(tl.fsyncMs)} ms`);
  };
  show('hako runtime run', tlRuntime);
  show('hako run --rm', tlRun);
  process.stdout.write(`${lines.join('\n')}\n`);
  await cleanup();
} catch (e) {
  log(`failed: ${e.stack ?? e.message}`);
  await cleanup();
  process.exit(1);
}
