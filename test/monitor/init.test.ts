// hako-init (`run --init`), run directly: outside a pid namespace it is a
// subreaper, so orphans come to it as they would to a PID 1.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';

const REPO = join(import.meta.dirname, '..', '..', '..');
const INIT = join(REPO, 'native', 'build', 'hako-init');

const dirs: string[] = [];
const procs: ChildProcess[] = [];
after(() => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function waitFor<T>(what: string, fn: () => T | undefined | null | false, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await delay(10);
  }
}

function start(args: string[]): { proc: ChildProcess; out: () => string; exit: Promise<number | null> } {
  const proc = spawn(INIT, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(proc);
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exit = new Promise<number | null>((res) => proc.on('exit', (code) => res(code)));
  return { proc, out: () => out, exit };
}

/** [state, ppid] from /proc/PID/stat, or undefined once the pid is gone. */
function stat(pid: number): [string, number] | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return [f[0]!, Number(f[1])];
  } catch {
    return undefined;
  }
}

describe('hako-init', () => {
  test('exit code propagation: the code, and 128+N for a signal', () => {
    assert.equal(spawnSync(INIT, ['/bin/sh', '-c', 'exit 3']).status, 3);
    assert.equal(spawnSync(INIT, ['--', '/bin/sh', '-c', 'exit 0']).status, 0);
    assert.equal(spawnSync(INIT, ['--', '/bin/sh', '-c', 'kill -9 $$']).status, 137);
  });

  test('missing program: 127 with a message; not executable: 126; none given: 2', () => {
    const r = spawnSync(INIT, ['/nonexistent/prog'], { encoding: 'utf8' });
    assert.equal(r.status, 127);
    assert.match(r.stderr, /^hako-init: exec \/nonexistent\/prog: No such file or directory$/m);
    const r2 = spawnSync(INIT, ['--', 'no-such-command-anywhere'], { encoding: 'utf8' });
    assert.equal(r2.status, 127);
    const dir = mkdtempSync('/tmp/hki-');
    dirs.push(dir);
    writeFileSync(join(dir, 'plain'), 'not a program\n', { mode: 0o644 });
    const r3 = spawnSync(INIT, [join(dir, 'plain')], { encoding: 'utf8' });
    assert.equal(r3.status, 126, r3.stderr);
    for (const args of [[], ['--']]) {
      const r4 = spawnSync(INIT, args, { encoding: 'utf8' });
      assert.equal(r4.status, 2);
      assert.match(r4.stderr, /hako-init: no program given/);
    }
  });

  test('signal forwarding: SIGTERM (and SIGUSR1) to init reach the child', async () => {
    const script = 'trap "echo usr1" USR1; trap "echo term; exit 7" TERM; echo ready; while :; do sleep 0.02; done';
    const r = start(['/bin/sh', '-c', script]);
    await waitFor('ready', () => r.out().includes('ready'));
    r.proc.kill('SIGUSR1');
    await waitFor('usr1', () => r.out().includes('usr1'));
    r.proc.kill('SIGTERM');
    assert.equal(await r.exit, 7);
    assert.equal(r.out(), 'ready\nusr1\nterm\n');
  });

  test('zombie reaping: an orphaned grandchild is reaped by init', async () => {
    const dir = mkdtempSync('/tmp/hki-');
    dirs.push(dir);
    // the middle shell exits at once: its background child is orphaned, comes to
    // init, and exits later while init's own child still runs
    const script = `sh -c 'sleep 0.3 & echo $! > ${dir}/gc'; while [ ! -e ${dir}/go ]; do sleep 0.02; done`;
    const r = start(['/bin/sh', '-c', script]);
    const gc = Number(await waitFor('gc', () => existsSync(join(dir, 'gc')) && readFileSync(join(dir, 'gc'), 'utf8').trim()));
    const s = await waitFor('the grandchild under init', () => stat(gc) ?? ['gone', 0]);
    if (s[0] !== 'gone') assert.equal(s[1], r.proc.pid, 'reparented to init');
    await waitFor('the grandchild reaped (not a zombie)', () => stat(gc) === undefined);
    assert.equal(r.proc.exitCode, null, 'init still runs');
    writeFileSync(join(dir, 'go'), '');
    assert.equal(await r.exit, 0);
  });

  test('memory: a small RSS', async (t) => {
    const r = start(['/bin/sh', '-c', 'echo ready; exec sleep 30']);
    await waitFor('ready', () => r.out().includes('ready'));
    const status = readFileSync(`/proc/${r.proc.pid}/status`, 'utf8');
    const rss = Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]);
    const pss = Number(/Pss:\s+(\d+) kB/.exec(readFileSync(`/proc/${r.proc.pid}/smaps_rollup`, 'utf8'))![1]);
    t.diagnostic(`hako-init VmRSS ${rss} kB, Pss ${pss} kB`);
    assert.ok(rss < 1024, `VmRSS ${rss} kB`);
    r.proc.kill('SIGTERM');
    assert.equal(await r.exit, 143);
  });
});
