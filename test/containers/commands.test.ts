import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { busyboxTar, Engine } from '../helpers/engine.ts';
import { HAKO } from '../helpers/bundle.ts';

/**
 * The everyday container commands, end to end against real containers: run -d and the
 * monitor, logs, stop/kill/wait, restart policies, ps, inspect, rename, restart, pause,
 * update, top, stats, attach, exec, cp, diff, commit, export, rm, prune, volumes, rmi.
 */

const eng = new Engine('hako-cmds-');
const scratch = mkdtempSync('/tmp/hako-cmds-host-');
after(() => {
  eng.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

const ID64 = /^[0-9a-f]{64}$/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `run -d ARGS`: the new container's full id. */
function runD(...args: string[]): string {
  const out = eng.ok(['run', '-d', ...args]);
  assert.match(out, /^[0-9a-f]{64}\n$/, `run -d prints the id: ${JSON.stringify(out)}`);
  return eng.track(out);
}

function insp(ref: string, format: string): string {
  return eng.ok(['inspect', '-f', format, ref]).trim();
}

function logs(...args: string[]): { stdout: string; stderr: string } {
  const r = eng.hako(['logs', ...args]);
  assert.equal(r.status, 0, `logs ${args.join(' ')}: ${r.stderr}`);
  return { stdout: r.stdout, stderr: r.stderr };
}

/** Polls FN until it returns something truthy; fails after the deadline. */
async function until<T>(what: string, fn: () => T | undefined | null | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for: ${what}`);
    await sleep(50);
  }
}

const status = (ref: string) => insp(ref, '{{.State.Status}}');

async function waitExited(ref: string): Promise<void> {
  await until(`${ref} exited`, () => status(ref) === 'exited');
}

/** A hako process whose output is watched while it runs. */
class Watched {
  readonly proc: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exit: Promise<number | null>;
  exited = false;

  constructor(args: string[], input?: string) {
    this.proc = spawn(HAKO, ['--data-root', eng.root, ...args], { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    this.proc.stdout!.on('data', (d) => (this.stdout += d));
    this.proc.stderr!.on('data', (d) => (this.stderr += d));
    if (input !== undefined) this.proc.stdin!.end(input);
    this.exit = new Promise((resolve) =>
      this.proc.on('exit', (code, signal) => {
        this.exited = true;
        resolve(signal ? 128 : code);
      }),
    );
  }

  /** Its exit code, or a failure if it does not end by itself in time. */
  async ended(what: string, timeoutMs = 20_000): Promise<number | null> {
    try {
      await until(what, () => this.exited, timeoutMs);
    } catch (e) {
      this.proc.kill('SIGKILL');
      throw e;
    }
    return this.exit;
  }
}

/** Raw bytes in and out (tar streams). */
function hakoBin(args: string[], input?: Buffer) {
  return spawnSync(HAKO, ['--data-root', eng.root, ...args], { input: input ?? Buffer.alloc(0), timeout: 60_000 });
}

function tarList(tar: Buffer | string): string[] {
  const args = typeof tar === 'string' ? ['-tf', tar] : ['-tf', '-'];
  return execFileSync('tar', args, { encoding: 'utf8', ...(typeof tar === 'string' ? {} : { input: tar }) })
    .split('\n')
    .filter(Boolean)
    .map((p) => p.replace(/^\.\//, '').replace(/\/$/, ''));
}

/** The cgroup v1 directory of a controller for a host pid. */
function cgroupDir(pid: number, controller: string): string {
  for (const line of readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n')) {
    const [, ctrls, path] = line.split(':');
    if (ctrls?.split(',').includes(controller)) return join('/sys/fs/cgroup', controller, path!);
  }
  throw new Error(`no ${controller} cgroup for ${pid}`);
}

const logLines = (text: string, word: string) => text.split('\n').filter((l) => l === word).length;

describe('run -d and the monitor', () => {
  test('run -d prints the id and the container keeps running without the CLI', async () => {
    const id = runD('--name', 'det-1', 'busybox', 'sh', '-c', 'echo hello; exec sleep 100');
    // the CLI that started it is gone (spawnSync returned): it still runs
    const ps = eng.ok(['ps', '--no-trunc']);
    const row = ps.split('\n').find((l) => l.startsWith(id));
    assert.ok(row, `ps lists it:\n${ps}`);
    assert.match(row, /\bUp (Less than a second|\d+ seconds?)\b/);
    assert.match(row, /det-1$/);
    await until('hello in logs', () => logs('det-1').stdout === 'hello\n');
    assert.equal(insp(id, '{{.State.Running}}'), 'true');
  });

  test('stdout and stderr come out on their own fds', async () => {
    const id = runD('busybox', 'sh', '-c', 'echo to-out; echo to-err >&2; echo out2');
    await waitExited(id);
    const r = logs(id);
    assert.equal(r.stdout, 'to-out\nout2\n');
    assert.equal(r.stderr, 'to-err\n');
  });

  test('logs --tail, -t, --since', async () => {
    const id = runD('busybox', 'sh', '-c', 'for i in 1 2 3 4 5; do echo line$i; done; while [ ! -f /go ]; do sleep 0.05; done; echo burst2-a; echo burst2-b; exec sleep 100');
    await until('first burst', () => logs(id).stdout.includes('line5'));
    assert.equal(logs('--tail', '2', id).stdout, 'line4\nline5\n');
    assert.equal(logs('-n', '1', id).stdout, 'line5\n');
    const ts = logs('-t', '--tail', '2', id).stdout.split('\n').filter(Boolean);
    assert.equal(ts.length, 2);
    for (const l of ts) assert.match(l, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z line[45]$/);
    await sleep(20);
    const between = new Date().toISOString();
    await sleep(20);
    eng.ok(['exec', id, 'touch', '/go']);
    await until('second burst', () => logs(id).stdout.includes('burst2-b'));
    assert.equal(logs('--since', between, id).stdout, 'burst2-a\nburst2-b\n');
    // unix seconds with a fraction, as Docker accepts too
    const unix = (Date.parse(between) / 1000).toFixed(3);
    assert.equal(logs('--since', unix, id).stdout, 'burst2-a\nburst2-b\n');
    assert.equal(logs('--until', between, id).stdout, 'line1\nline2\nline3\nline4\nline5\n');
  });

  test('logs -f follows new output and ends when the container exits', async () => {
    const id = runD('busybox', 'sh', '-c', 'echo before; while [ ! -f /go ]; do sleep 0.05; done; echo after-out; echo after-err >&2; exec sleep 100');
    await until('before', () => logs(id).stdout === 'before\n');
    const f = new Watched(['logs', '-f', id]);
    await until('logs -f printed what was there', () => f.stdout.includes('before\n'));
    eng.ok(['exec', id, 'touch', '/go']);
    await until('logs -f got the new lines', () => f.stdout.includes('after-out\n') && f.stderr.includes('after-err\n'));
    assert.equal(f.exited, false, 'logs -f still follows a running container');
    eng.ok(['stop', '-t', '1', id]);
    assert.equal(await f.ended('logs -f ends after stop'), 0);
    assert.equal(f.stdout, 'before\nafter-out\n');
    assert.equal(f.stderr, 'after-err\n');
  });

  test('logs -f of an exited container prints the log and ends', async () => {
    const id = runD('busybox', 'echo', 'done-already');
    await waitExited(id);
    const f = new Watched(['logs', '-f', id]);
    assert.equal(await f.ended('logs -f of an exited container'), 0);
    assert.equal(f.stdout, 'done-already\n');
  });

  test('--log-opt max-size=1k max-file=2 rotates', async () => {
    const id = runD('--log-opt', 'max-size=1k', '--log-opt', 'max-file=2', 'busybox', 'sh', '-c', 'i=0; while [ $i -lt 200 ]; do echo "line $i xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"; i=$((i+1)); done');
    await waitExited(id);
    const logPath = insp(id, '{{.LogPath}}');
    assert.equal(logPath, join(eng.root, 'containers', id, `${id}-json.log`));
    const files = readdirSync(dirname(logPath)).filter((f) => f.startsWith(`${id}-json.log`)).sort();
    assert.deepEqual(files, [`${id}-json.log`, `${id}-json.log.1`]);
    for (const f of files) assert.ok(statSync(join(dirname(logPath), f)).size <= 1024 + 200, `${f} stays near max-size`);
    const lines = logs(id).stdout.split('\n').filter(Boolean);
    assert.ok(lines.length > 0 && lines.length < 200, `older lines rotated away (${lines.length} kept)`);
    assert.equal(lines.at(-1), 'line 199 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx');
    // what is kept is a contiguous run ending at the last line
    const first = Number(/^line (\d+)/.exec(lines[0]!)![1]);
    assert.deepEqual(lines, Array.from({ length: 200 - first }, (_, i) => `line ${first + i} xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx`));
  });
});

describe('stop, kill, wait', () => {
  test('stop -t 1 of a container ignoring SIGTERM: SIGKILL after the timeout, 137', async () => {
    const id = runD('busybox', 'sh', '-c', "trap '' TERM; echo ready; while :; do sleep 0.1; done");
    await until('ready', () => logs(id).stdout.includes('ready'));
    const t0 = Date.now();
    eng.ok(['stop', '-t', '1', id]);
    const took = Date.now() - t0;
    assert.ok(took >= 1000, `stop waited the timeout (${took} ms)`);
    assert.ok(took < 5000, `stop did not wait much longer (${took} ms)`);
    assert.equal(insp(id, '{{.State.Status}} {{.State.ExitCode}}'), 'exited 137');
  });

  test('stop of a container that exits on SIGTERM: quick, exit 0', async () => {
    const id = runD('busybox', 'sh', '-c', "trap 'exit 0' TERM; echo ready; while :; do sleep 0.1; done");
    await until('ready', () => logs(id).stdout.includes('ready'));
    const t0 = Date.now();
    assert.equal(eng.ok(['stop', id]), `${id}\n`);
    const took = Date.now() - t0;
    assert.ok(took < 5000, `stopped by SIGTERM, not the 10 s timeout (${took} ms)`);
    assert.equal(insp(id, '{{.State.ExitCode}}'), '0');
    assert.equal(status(id), 'exited');
  });

  test('kill: SIGKILL by default (137); -s USR1 is delivered', async () => {
    const id = runD('--name', 'kill-me', 'busybox', 'sh', '-c', "trap 'echo got-usr1' USR1; echo ready; while :; do sleep 0.1; done");
    await until('ready', () => logs(id).stdout.includes('ready'));
    assert.equal(eng.ok(['kill', '-s', 'USR1', 'kill-me']), 'kill-me\n');
    await until('the trap ran', () => logs(id).stdout.includes('got-usr1'));
    assert.equal(status(id), 'running');
    eng.ok(['kill', 'kill-me']);
    await waitExited(id);
    assert.equal(insp(id, '{{.State.ExitCode}}'), '137');
    const r = eng.hako(['kill', 'kill-me']);
    assert.notEqual(r.status, 0, 'kill of a stopped container fails');
    assert.match(r.stderr, /is not running/);
  });

  test('wait prints the exit code, also when it waits for the exit', async () => {
    const done = runD('busybox', 'sh', '-c', 'exit 4');
    await waitExited(done);
    assert.equal(eng.ok(['wait', done]), '4\n');
    const id = runD('busybox', 'sh', '-c', 'while [ ! -f /go ]; do sleep 0.05; done; exit 3');
    const w = new Watched(['wait', id]);
    await sleep(300);
    assert.equal(w.exited, false, 'wait blocks while the container runs');
    eng.ok(['exec', id, 'touch', '/go']);
    assert.equal(await w.ended('wait returns'), 0);
    assert.equal(w.stdout, '3\n');
  });
});

describe('restart policies', () => {
  test('on-failure:2 restarts exactly twice', async () => {
    const id = runD('--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'echo run; exit 1');
    // logs -f ends once the container is gone for good (no more restarts)
    const f = new Watched(['logs', '-f', id]);
    await f.ended('the monitor gives up', 30_000);
    assert.equal(logLines(f.stdout, 'run'), 3, f.stdout);
    assert.equal(logLines(logs(id).stdout, 'run'), 3);
    assert.equal(insp(id, '{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}'), '2 exited 1');
    const row = eng.ok(['ps', '-a', '--filter', `id=${id}`, '--format', '{{.Status}}']);
    assert.match(row, /^Exited \(1\) /);
  });

  test('always: restarted after its process exits; stop ends it for good', async () => {
    const id = runD('--restart', 'always', 'busybox', 'sh', '-c', 'echo run; sleep 0.3');
    await until('restarted at least once and running', () => {
      const [n, st] = insp(id, '{{.RestartCount}} {{.State.Status}}').split(' ');
      return Number(n) >= 1 && st === 'running';
    });
    assert.ok(logLines(logs(id).stdout, 'run') >= 2);
    eng.ok(['stop', '-t', '1', id]);
    assert.equal(status(id), 'exited');
    const count = insp(id, '{{.RestartCount}}');
    const runs = logLines(logs(id).stdout, 'run');
    await sleep(1500);
    assert.equal(status(id), 'exited', 'it did not come back');
    assert.equal(insp(id, '{{.RestartCount}}'), count);
    assert.equal(logLines(logs(id).stdout, 'run'), runs);
  });

  test('unless-stopped: restarted after its process exits; stop ends it for good', async () => {
    const id = runD('--restart', 'unless-stopped', 'busybox', 'sh', '-c', 'echo run; sleep 0.3; exit 2');
    await until('restarted at least once', () => Number(insp(id, '{{.RestartCount}}')) >= 1);
    assert.equal(insp(id, '{{.HostConfig.RestartPolicy.Name}}'), 'unless-stopped');
    eng.ok(['stop', '-t', '1', id]);
    assert.equal(status(id), 'exited');
    await sleep(1500);
    assert.equal(status(id), 'exited', 'it did not come back');
  });

  test('always: a stop that lands while it waits to restart ends it for good', async () => {
    // it exits at once and again: a stop will often find it "restarting"
    const id = runD('--restart', 'always', 'busybox', 'sh', '-c', 'echo run; exit 0');
    await until('restarted a few times', () => Number(insp(id, '{{.RestartCount}}')) >= 3);
    eng.ok(['stop', '-t', '1', id]);
    await waitExited(id);
    const count = insp(id, '{{.RestartCount}}');
    await sleep(1500);
    assert.equal(status(id), 'exited', 'it did not come back');
    assert.equal(insp(id, '{{.RestartCount}}'), count);
  });
});

describe('ps', () => {
  test('listing, formats and filters', async () => {
    const run1 = runD('--name', 'ps-run1', '--label', 'suite=ps', '--label', 'k=v', 'busybox', 'sleep', '100');
    const ex3 = runD('--name', 'ps-ex3', '--label', 'suite=ps', 'busybox', 'sh', '-c', 'exit 3');
    await waitExited(ex3);
    const run2 = runD('--name', 'ps-run2', '--label', 'suite=ps', 'busybox', 'sleep', '100');

    // default: running ones only; Docker's header
    const plain = eng.ok(['ps']).split('\n').filter(Boolean);
    assert.deepEqual(plain[0]!.split(/\s{2,}/), ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES']);
    const body = plain.slice(1).join('\n');
    assert.match(body, new RegExp(`^${run1.slice(0, 12)}\\s+busybox\\s+"sleep 100"\\s+.*\\s+Up .*\\s+ps-run1$`, 'm'));
    assert.ok(body.includes('ps-run2'));
    assert.ok(!body.includes('ps-ex3'), 'an exited container is not in plain ps');

    const all = eng.ok(['ps', '-a']);
    assert.match(all, /Exited \(3\) .* ago\s+ps-ex3/);

    const quiet = eng.ok(['ps', '-q', '--filter', 'label=suite=ps']).split('\n').filter(Boolean);
    assert.deepEqual(quiet, [run2.slice(0, 12), run1.slice(0, 12)], 'newest first, 12 hex digits');
    assert.deepEqual(eng.ok(['ps', '-aq', '--no-trunc', '--filter', 'label=suite=ps']).split('\n').filter(Boolean), [run2, ex3, run1]);

    assert.equal(eng.ok(['ps', '-q', '-n', '1']), `${run2.slice(0, 12)}\n`);
    assert.equal(eng.ok(['ps', '-q', '-l']), `${run2.slice(0, 12)}\n`);
    assert.equal(eng.ok(['ps', '-q', '-n', '2']), `${run2.slice(0, 12)}\n${ex3.slice(0, 12)}\n`, '-n includes stopped ones');

    const fmt = eng.ok(['ps', '-a', '--filter', 'label=suite=ps', '--format', '{{.ID}} {{.Names}} {{.Status}}']).split('\n').filter(Boolean);
    assert.equal(fmt.length, 3);
    assert.match(fmt[0]!, new RegExp(`^${run2.slice(0, 12)} ps-run2 Up `));
    assert.match(fmt[1]!, new RegExp(`^${ex3.slice(0, 12)} ps-ex3 Exited \\(3\\) .* ago$`));

    const json = eng.ok(['ps', '-a', '--filter', 'label=suite=ps', '--format', 'json']).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, string>);
    assert.equal(json.length, 3);
    assert.equal(json[1]!['Names'], 'ps-ex3');
    assert.equal(json[1]!['State'], 'exited');
    assert.equal(json[1]!['ID'], ex3.slice(0, 12));
    assert.equal(json[2]!['Labels']!.split(',').sort().join(','), 'k=v,suite=ps');
    assert.equal(json[0]!['Image'], 'busybox');
    for (const key of ['Command', 'CreatedAt', 'RunningFor', 'Status', 'Ports', 'Mounts', 'Networks', 'Size']) assert.ok(key in json[0]!, `json has ${key}`);

    assert.equal(eng.ok(['ps', '--filter', 'label=suite=ps', '--format', 'table {{.Names}}']), 'NAMES\nps-run2\nps-run1\n');

    const q = (...f: string[]) => eng.ok(['ps', '-q', '--no-trunc', ...f.flatMap((x) => ['--filter', x])]).split('\n').filter(Boolean);
    assert.deepEqual(q('label=suite=ps', 'status=exited'), [ex3]);
    assert.deepEqual(q('label=suite=ps', 'status=running'), [run2, run1]);
    assert.deepEqual(q('name=ps-run1'), [run1]);
    assert.deepEqual(q('label=k=v'), [run1]);
    assert.deepEqual(q('label=k'), [run1]);
    assert.deepEqual(q('id=' + ex3.slice(0, 10)), [], 'id= alone does not show a stopped one');
    assert.deepEqual(q('id=' + run2.slice(0, 10)), [run2]);
    assert.deepEqual(q('label=suite=ps', 'exited=3'), [ex3]);
    assert.deepEqual(q('label=suite=ps', 'ancestor=busybox'), [run2, run1]);
    assert.deepEqual(q('label=suite=ps', 'ancestor=nosuchimage'), []);
    // Docker: several values of one filter are alternatives
    assert.deepEqual(q('label=suite=ps', 'status=exited', 'status=running'), [run2, ex3, run1]);
    assert.deepEqual(q('name=ps-run1', 'name=ps-run2'), [run2, run1]);

    const bad = eng.hako(['ps', '--filter', 'nosuch=1']);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /invalid filter 'nosuch'/);
    eng.ok(['rm', '-f', run1, run2, ex3]);
  });
});

describe('inspect, rename, restart, pause, update, top, stats', () => {
  test('inspect fields and -f templates', async () => {
    const id = runD('--name', 'insp-1', '-e', 'FOO=bar', '--label', 'lab=one', '--restart', 'on-failure:3', '-v', '/anon', 'busybox', 'sleep', '100');
    const [c] = JSON.parse(eng.ok(['inspect', 'insp-1'])) as Record<string, any>[];
    assert.equal(c!['Id'], id);
    assert.equal(c!['Name'], '/insp-1');
    assert.equal(c!['State'].Status, 'running');
    assert.equal(c!['State'].Running, true);
    assert.ok(c!['State'].Pid > 0);
    assert.ok(existsSync(`/proc/${c!['State'].Pid}`), 'State.Pid is a host pid');
    assert.equal(c!['State'].ExitCode, 0);
    assert.match(c!['State'].StartedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/);
    assert.equal(c!['State'].FinishedAt, '0001-01-01T00:00:00Z');
    assert.deepEqual(c!['Config'].Cmd, ['sleep', '100']);
    assert.ok(c!['Config'].Env.includes('FOO=bar'));
    assert.deepEqual(c!['Config'].Labels, { lab: 'one' });
    assert.equal(c!['Config'].Image, 'busybox');
    assert.match(c!['Image'], /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual(c!['HostConfig'].RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
    assert.equal(c!['Mounts'].length, 1);
    assert.equal(c!['Mounts'][0].Type, 'volume');
    assert.equal(c!['Mounts'][0].Destination, '/anon');
    assert.match(c!['Mounts'][0].Name, ID64);
    assert.equal(c!['LogPath'], join(eng.root, 'containers', id, `${id}-json.log`));
    assert.equal(insp('insp-1', '{{.Name}} {{.State.Running}} {{json .Config.Cmd}}'), '/insp-1 true ["sleep","100"]');
    assert.equal(insp(id.slice(0, 12), '{{.Config.Labels.lab}} {{json .HostConfig.RestartPolicy}}'), 'one {"Name":"on-failure","MaximumRetryCount":3}');

    eng.ok(['stop', '-t', '0', id]);
    const [s] = JSON.parse(eng.ok(['inspect', id])) as Record<string, any>[];
    assert.equal(s!['State'].Status, 'exited');
    assert.equal(s!['State'].Running, false);
    assert.equal(s!['State'].Pid, 0);
    assert.equal(s!['State'].ExitCode, 137);
    assert.match(s!['State'].FinishedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/);
    assert.ok(s!['State'].FinishedAt >= s!['State'].StartedAt);

    // an image still inspects through the same command
    const [img] = JSON.parse(eng.ok(['inspect', 'busybox'])) as Record<string, any>[];
    assert.match(img!['Id'], /^sha256:/);
    assert.deepEqual(img!['RepoTags'], ['busybox:latest']);
    assert.equal(insp('busybox', '{{json .Config.Cmd}}'), '["sh"]');

    const missing = eng.hako(['inspect', 'no-such-thing']);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /No such object: no-such-thing/);
    eng.ok(['rm', '-v', id]);
  });

  test('inspect -f with Go template functions: index, range, if', () => {
    const id = runD('--label', 'lab=one', '-v', '/anon-t', 'busybox', 'sleep', '100');
    try {
      assert.equal(insp(id, '{{index .Config.Labels "lab"}}'), 'one');
      assert.match(insp(id, '{{(index .Mounts 0).Destination}}'), /^\/anon-t$/);
      assert.equal(insp(id, '{{range .Mounts}}{{.Destination}} {{end}}'), '/anon-t');
      assert.equal(insp(id, '{{if .State.Running}}up{{else}}down{{end}}'), 'up');
    } finally {
      eng.ok(['rm', '-f', '-v', id]);
    }
  });

  test('rename', () => {
    const id = runD('--name', 'ren-old', 'busybox', 'sleep', '100');
    runD('--name', 'ren-taken', 'busybox', 'sleep', '100');
    eng.ok(['rename', 'ren-old', 'ren-new']);
    assert.equal(insp(id, '{{.Name}}'), '/ren-new');
    assert.equal(eng.hako(['inspect', '--type', 'container', 'ren-old']).status, 1);
    assert.match(eng.ok(['ps', '--filter', `id=${id}`, '--format', '{{.Names}}']), /^ren-new\n$/);
    const r = eng.hako(['rename', 'ren-new', 'ren-taken']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /Conflict\. The container name "\/ren-taken" is already in use by container/);
    assert.equal(insp(id, '{{.Name}}'), '/ren-new');
    eng.ok(['rm', '-f', 'ren-new', 'ren-taken']);
  });

  test('restart: a new StartedAt, running again', async () => {
    const id = runD('busybox', 'sh', '-c', "trap 'exit 0' TERM; echo up; while :; do sleep 0.1; done");
    await until('up', () => logs(id).stdout.includes('up'));
    const before = insp(id, '{{.State.StartedAt}} {{.State.Pid}}').split(' ');
    assert.equal(eng.ok(['restart', '-t', '2', id]), `${id}\n`);
    const after = insp(id, '{{.State.Status}} {{.State.StartedAt}} {{.State.Pid}}').split(' ');
    assert.equal(after[0], 'running');
    assert.ok(after[1]! > before[0]!, `StartedAt moved on: ${before[0]} → ${after[1]}`);
    assert.notEqual(after[2], before[1]);
    await until('second run logged', () => logLines(logs(id).stdout, 'up') === 2);
    // restart of a stopped container starts it
    eng.ok(['stop', id]);
    eng.ok(['restart', id]);
    assert.equal(status(id), 'running');
    eng.ok(['rm', '-f', id]);
  });

  test('pause and unpause', async () => {
    const id = runD('--name', 'pause-1', 'busybox', 'sleep', '100');
    const pid = Number(insp(id, '{{.State.Pid}}'));
    const freezer = join(cgroupDir(pid, 'freezer'), 'freezer.state');
    assert.equal(readFileSync(freezer, 'utf8').trim(), 'THAWED');
    assert.equal(eng.ok(['pause', 'pause-1']), 'pause-1\n');
    assert.equal(readFileSync(freezer, 'utf8').trim(), 'FROZEN');
    assert.equal(insp(id, '{{.State.Status}} {{.State.Paused}} {{.State.Running}}'), 'paused true true');
    assert.match(eng.ok(['ps', '--filter', `id=${id}`, '--format', '{{.Status}}']), /^Up .* \(Paused\)\n$/);
    assert.deepEqual(eng.ok(['ps', '-q', '--no-trunc', '--filter', 'status=paused']).trim(), id);
    const ex = eng.hako(['exec', id, 'true']);
    assert.notEqual(ex.status, 0);
    assert.match(ex.stderr, /is paused, unpause the container before exec/);
    const again = eng.hako(['pause', id]);
    assert.notEqual(again.status, 0);
    assert.match(again.stderr, /is already paused/);
    assert.equal(eng.ok(['unpause', 'pause-1']), 'pause-1\n');
    assert.equal(readFileSync(freezer, 'utf8').trim(), 'THAWED');
    assert.equal(insp(id, '{{.State.Status}} {{.State.Paused}}'), 'running false');
    assert.match(eng.hako(['unpause', id]).stderr, /is not paused/);
    // a paused container can be stopped
    eng.ok(['pause', id]);
    eng.ok(['stop', '-t', '1', id]);
    assert.equal(status(id), 'exited');
    eng.ok(['rm', id]);
  });

  test('update --memory on a running container, and --restart', async () => {
    const id = runD('-m', '64m', 'busybox', 'sleep', '100');
    const pid = Number(insp(id, '{{.State.Pid}}'));
    const limit = join(cgroupDir(pid, 'memory'), 'memory.limit_in_bytes');
    assert.equal(readFileSync(limit, 'utf8').trim(), String(64 * 1024 * 1024));
    assert.equal(eng.ok(['update', '--memory', '128m', id]), `${id}\n`);
    assert.equal(readFileSync(limit, 'utf8').trim(), String(128 * 1024 * 1024));
    assert.equal(insp(id, '{{.HostConfig.Memory}}'), String(128 * 1024 * 1024));
    eng.ok(['update', '--restart', 'on-failure:5', id]);
    assert.equal(insp(id, '{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}'), 'on-failure:5');
    const none = eng.hako(['update', id]);
    assert.notEqual(none.status, 0);
    assert.match(none.stderr, /you must provide one or more flags/);
    eng.ok(['rm', '-f', id]);
  });

  test('update --restart takes effect on the running container (Docker does)', async () => {
    const id = runD('busybox', 'sh', '-c', 'echo run; while [ ! -f /go ]; do sleep 0.05; done; exit 1');
    try {
      eng.ok(['update', '--restart', 'on-failure:1', id]);
      eng.ok(['exec', id, 'touch', '/go']);
      const f = new Watched(['logs', '-f', id]);
      await f.ended('gone for good');
      assert.equal(insp(id, '{{.RestartCount}}'), '1', 'restarted once under the updated policy');
    } finally {
      eng.ok(['rm', '-f', id]);
    }
  });

  test('top and stats', async () => {
    const id = runD('--name', 'top-1', 'busybox', 'sleep', '4242');
    const top = eng.ok(['top', 'top-1']).split('\n').filter(Boolean);
    assert.match(top[0]!, /\bPID\b/);
    assert.equal(top.length, 2, top.join('\n'));
    assert.match(top[1]!, /sleep 4242/);
    assert.ok(top[1]!.split(/\s+/).includes(insp(id, '{{.State.Pid}}')));
    const stats = eng.ok(['stats', '--no-stream', 'top-1']).split('\n').filter(Boolean);
    assert.deepEqual(stats[0]!.split(/\s{2,}/), ['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'NET I/O', 'BLOCK I/O', 'PIDS']);
    assert.equal(stats.length, 2);
    assert.match(stats[1]!, new RegExp(`^${id.slice(0, 12)}\\s+top-1\\s+\\d+\\.\\d\\d%\\s+[\\d.]+[KMG]?i?B / [\\d.]+[KMG]i?B\\s+\\d+\\.\\d\\d%\\s.*\\s1$`));
    const f = eng.ok(['stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}}', id]);
    assert.equal(f, 'top-1 1\n');
    eng.ok(['stop', '-t', '0', id]);
    const stopped = eng.hako(['top', id]);
    assert.notEqual(stopped.status, 0);
    assert.match(stopped.stderr, /is not running/);
    eng.ok(['rm', id]);
  });
});

describe('attach and exec', () => {
  test('attach receives the output and the exit code', async () => {
    const id = runD('busybox', 'sh', '-c', 'while [ ! -f /go ]; do echo tick; sleep 0.1; done; echo out-end; echo err-end >&2; exit 7');
    const a = new Watched(['attach', id]);
    await until('attached (ticks arrive)', () => a.stdout.includes('tick\n'));
    eng.ok(['exec', id, 'touch', '/go']);
    assert.equal(await a.ended('attach ends with the container'), 7);
    assert.match(a.stdout, /tick\nout-end\n$/);
    assert.equal(a.stderr, 'err-end\n');
    const late = eng.hako(['attach', id]);
    assert.notEqual(late.status, 0);
    assert.match(late.stderr, /You cannot attach to a stopped container, start it first/);
    eng.ok(['rm', id]);
  });

  test('exec: output, exit code, -e, -u, -w, -i, stopped container', () => {
    const id = runD('-e', 'FOO=from-run', 'busybox', 'sleep', '100');
    assert.equal(eng.ok(['exec', id, 'echo', 'hi']), 'hi\n');
    const code = eng.hako(['exec', id, 'sh', '-c', 'echo o; echo e >&2; exit 5']);
    assert.equal(code.status, 5);
    assert.equal(code.stdout, 'o\n');
    assert.equal(code.stderr, 'e\n');
    assert.equal(eng.ok(['exec', id, 'sh', '-c', 'echo $FOO']), 'from-run\n');
    assert.equal(eng.ok(['exec', '-e', 'FOO=over', '-e', 'BAR=new', id, 'sh', '-c', 'echo $FOO $BAR']), 'over new\n');
    assert.equal(eng.ok(['exec', '-u', 'nobody', id, 'id', '-u']), '65534\n');
    assert.equal(eng.ok(['exec', '-u', '1000:1000', id, 'id']).trim(), 'uid=1000(user) gid=1000(user) groups=1000(user)');
    assert.equal(eng.ok(['exec', '-w', '/etc', id, 'pwd']), '/etc\n');
    assert.equal(eng.ok(['exec', '-i', id, 'sh', '-c', 'cat; echo end'], { input: 'piped\nstdin\n' }), 'piped\nstdin\nend\n');
    assert.equal(eng.ok(['exec', id, 'cat'], { input: 'ignored\n' }), '', 'without -i stdin is not passed');
    const missing = eng.hako(['exec', id, 'no-such-command']);
    assert.equal(missing.status, 127);
    eng.ok(['stop', '-t', '0', id]);
    const stopped = eng.hako(['exec', id, 'true']);
    assert.notEqual(stopped.status, 0);
    assert.match(stopped.stderr, new RegExp(`container ${id} is not running`));
    eng.ok(['rm', id]);
  });
});

describe('cp, diff, commit, export', () => {
  test('cp into and out of a running and a stopped container, and tar streams', async () => {
    const host = mkdtempSync(join(scratch, 'cp-'));
    writeFileSync(join(host, 'in.txt'), 'into the container\n');
    const id = runD('busybox', 'sleep', '100');
    eng.ok(['cp', join(host, 'in.txt'), `${id}:/tmp/in.txt`]);
    assert.equal(eng.ok(['exec', id, 'cat', '/tmp/in.txt']), 'into the container\n');
    eng.ok(['exec', id, 'sh', '-c', 'echo made inside > /made']);
    eng.ok(['cp', `${id}:/made`, join(host, 'out.txt')]);
    assert.equal(readFileSync(join(host, 'out.txt'), 'utf8'), 'made inside\n');
    // out as a tar stream
    const out = hakoBin(['cp', `${id}:/etc/passwd`, '-']);
    assert.equal(out.status, 0, out.stderr.toString());
    assert.deepEqual(tarList(out.stdout), ['passwd']);
    // in from a tar stream
    mkdirp(join(host, 'src', 'dir'));
    writeFileSync(join(host, 'src', 'dir', 'a.txt'), 'from tar\n');
    const tarIn = execFileSync('tar', ['-C', join(host, 'src'), '-cf', '-', 'dir']);
    const put = hakoBin(['cp', '-', `${id}:/tmp`], tarIn);
    assert.equal(put.status, 0, put.stderr.toString());
    assert.equal(eng.ok(['exec', id, 'cat', '/tmp/dir/a.txt']), 'from tar\n');

    eng.ok(['stop', '-t', '0', id]);
    eng.ok(['cp', join(host, 'in.txt'), `${id}:/stopped-in.txt`]);
    eng.ok(['cp', `${id}:/made`, join(host, 'from-stopped.txt')]);
    assert.equal(readFileSync(join(host, 'from-stopped.txt'), 'utf8'), 'made inside\n');
    eng.ok(['cp', `${id}:/tmp/dir`, join(host, 'dir-out')]);
    assert.equal(readFileSync(join(host, 'dir-out', 'a.txt'), 'utf8'), 'from tar\n');
    eng.ok(['start', id]);
    assert.equal(eng.ok(['exec', id, 'cat', '/stopped-in.txt']), 'into the container\n');
    const missing = eng.hako(['cp', `${id}:/nope`, join(host, 'x')]);
    assert.notEqual(missing.status, 0);
    assert.match(missing.stderr, /could not find the file \/nope in /i);
    eng.ok(['rm', '-f', id]);
  });

  test('diff, commit (a deleted file stays deleted), export', async () => {
    const id = runD('--name', 'changed', 'busybox', 'sh', '-c', 'echo added-content > /added; rm /bin/ls; echo extra:x:5:5::/:/bin/sh >> /etc/passwd');
    await waitExited(id);
    assert.equal(insp(id, '{{.State.ExitCode}}'), '0');
    assert.equal(eng.ok(['diff', 'changed']), 'A /added\nC /bin\nD /bin/ls\nC /etc\nC /etc/passwd\n');

    const imageId = eng.ok(['commit', '-c', 'CMD ["cat","/added"]', '-m', 'my message', '-a', 'me', 'changed', 'committed:v1']).trim();
    assert.match(imageId, /^sha256:[0-9a-f]{64}$/);
    assert.equal(eng.ok(['run', '--rm', 'committed:v1']), 'added-content\n');
    const ls = eng.hako(['run', '--rm', 'committed:v1', 'ls', '/']);
    assert.equal(ls.status, 127, `ls is gone from the new image: ${ls.status} ${ls.stdout}${ls.stderr}`);
    assert.equal(eng.ok(['run', '--rm', 'committed:v1', 'sh', '-c', 'test -e /bin/ls || echo deleted; test -e /bin/cat && echo cat-kept']), 'deleted\ncat-kept\n');
    assert.match(eng.ok(['run', '--rm', 'committed:v1', 'tail', '-n', '1', '/etc/passwd']), /^extra:x:5:5::\/:\/bin\/sh\n$/);
    assert.equal(insp('committed:v1', '{{.Author}}|{{.Comment}}|{{json .Config.Cmd}}'), 'me|my message|["cat","/added"]');
    const hist = eng.ok(['history', '--no-trunc', 'committed:v1']);
    assert.match(hist.split('\n')[1]!, /my message/);
    // the container's own image is untouched
    assert.equal(eng.ok(['run', '--rm', 'busybox', 'sh', '-c', 'test -e /bin/ls && echo still-there']), 'still-there\n');

    const tar = join(scratch, 'export.tar');
    eng.ok(['export', '-o', tar, 'changed']);
    const names = tarList(tar);
    assert.ok(names.includes('added'), 'the added file is exported');
    assert.ok(names.includes('bin/busybox'));
    assert.ok(names.includes('etc/passwd'));
    assert.ok(!names.includes('bin/ls'), 'the deleted file is not exported');
    assert.ok(!names.some((n) => n.includes('.wh.')), 'no whiteouts in an export');
    const passwd = execFileSync('tar', ['-xOf', tar, 'etc/passwd'], { encoding: 'utf8' });
    assert.match(passwd, /extra:x:5:5/);
    eng.ok(['rm', 'changed']);
  });

  test('diff of an unchanged container is empty', async () => {
    const id = runD('busybox', 'true');
    await waitExited(id);
    assert.equal(eng.ok(['diff', id]), '');
    eng.ok(['rm', id]);
  });

  test("commit's layer holds the container's changes only (not the engine's mount points)", async () => {
    const id = runD('busybox', 'sh', '-c', 'echo new > /added; rm /bin/ls');
    await waitExited(id);
    eng.ok(['commit', id, 'layer-check:1']);
    try {
      const dir = mkdtempSync(join(scratch, 'save-'));
      eng.ok(['save', '-o', join(dir, 'img.tar'), 'layer-check:1']);
      execFileSync('tar', ['-xf', join(dir, 'img.tar'), '-C', dir]);
      const [manifest] = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { Layers: string[] }[];
      const top = manifest!.Layers.at(-1)!;
      assert.deepEqual(tarList(join(dir, top)).sort(), ['added', 'bin', 'bin/.wh.ls']);
    } finally {
      eng.ok(['rm', id]);
      eng.ok(['rmi', 'layer-check:1']);
    }
  });
});

describe('rm, prune, volumes, rmi', () => {
  test('rm: a running container needs -f; rm -v removes anonymous volumes', async () => {
    const id = runD('--name', 'rm-run', '-v', '/anon-data', 'busybox', 'sleep', '100');
    const vol = (JSON.parse(insp(id, '{{json .Mounts}}')) as { Name: string }[])[0]!.Name;
    assert.match(vol, ID64);
    assert.ok(eng.ok(['volume', 'ls', '-q']).split('\n').includes(vol));
    const r = eng.hako(['rm', 'rm-run']);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, 'hako: cannot remove container "/rm-run": container is running: stop the container before removing or force remove\n');
    assert.equal(status(id), 'running');
    eng.ok(['rm', '-f', '-v', 'rm-run']);
    assert.equal(eng.hako(['inspect', '--type', 'container', id]).status, 1);
    assert.ok(!eng.ok(['volume', 'ls', '-q']).split('\n').includes(vol), 'the anonymous volume went with -v');
    assert.ok(!existsSync(join(eng.root, 'containers', id)));

    // without -v the anonymous volume stays (then volume prune takes it)
    const keep = runD('-v', '/anon2', 'busybox', 'true');
    const vol2 = (JSON.parse(insp(keep, '{{json .Mounts}}')) as { Name: string }[])[0]!.Name;
    await waitExited(keep);
    eng.ok(['rm', keep]);
    assert.ok(eng.ok(['volume', 'ls', '-q']).split('\n').includes(vol2));
    assert.match(eng.ok(['volume', 'prune', '-f']), new RegExp(`Deleted Volumes:\\n(.*\\n)*${vol2}\\n`));
    assert.ok(!eng.ok(['volume', 'ls', '-q']).split('\n').includes(vol2));
    // rm -f of a missing one is fine; rm of a missing one is not
    assert.equal(eng.hako(['rm', '-f', 'no-such-container']).status, 0);
    const missing = eng.hako(['rm', 'no-such-container']);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /No such container: no-such-container/);
  });

  test('container prune removes only stopped containers', async () => {
    const running = runD('busybox', 'sleep', '100');
    const stopped = runD('busybox', 'true');
    await waitExited(stopped);
    const out = eng.ok(['container', 'prune', '-f']);
    assert.match(out, new RegExp(`^Deleted Containers:\\n(.*\\n)*${stopped}\\n`));
    assert.ok(!out.includes(running));
    assert.equal(eng.hako(['inspect', '--type', 'container', stopped]).status, 1);
    assert.equal(status(running), 'running');
    eng.ok(['rm', '-f', running]);
  });

  test('volume create, ls, inspect, rm (in use refused), prune', () => {
    assert.equal(eng.ok(['volume', 'create', '--label', 'a=b', 'cmd-vol']), 'cmd-vol\n');
    const ls = eng.ok(['volume', 'ls']).split('\n');
    assert.match(ls[0]!, /^DRIVER\s+VOLUME NAME$/);
    assert.ok(ls.some((l) => /^local\s+cmd-vol$/.test(l)));
    const [v] = JSON.parse(eng.ok(['volume', 'inspect', 'cmd-vol'])) as Record<string, any>[];
    assert.equal(v!['Name'], 'cmd-vol');
    assert.equal(v!['Driver'], 'local');
    assert.deepEqual(v!['Labels'], { a: 'b' });
    assert.equal(v!['Mountpoint'], join(eng.root, 'volumes', 'cmd-vol', '_data'));
    assert.equal(eng.ok(['volume', 'inspect', '-f', '{{.Mountpoint}}', 'cmd-vol']).trim(), v!['Mountpoint']);

    const id = runD('-v', 'cmd-vol:/data', 'busybox', 'sh', '-c', 'echo in-volume > /data/f; exec sleep 100');
    const busy = eng.hako(['volume', 'rm', 'cmd-vol']);
    assert.equal(busy.status, 1);
    assert.match(busy.stderr, /remove cmd-vol: volume is in use - \[[0-9a-f]{64}\]/);
    assert.match(eng.ok(['volume', 'ls', '-q', '--filter', 'dangling=false']), /^cmd-vol$/m);
    eng.ok(['rm', '-f', id]);
    // a named volume outlives rm -v, and a plain prune
    assert.equal(eng.ok(['volume', 'prune', '-f']).includes('cmd-vol'), false);
    assert.equal(readFileSync(join(v!['Mountpoint'], 'f'), 'utf8'), 'in-volume\n');
    assert.equal(eng.ok(['volume', 'rm', 'cmd-vol']), 'cmd-vol\n');
    assert.ok(!existsSync(dirname(v!['Mountpoint'])));
    eng.ok(['volume', 'create', 'cmd-vol2']);
    assert.match(eng.ok(['volume', 'prune', '-a', '-f']), /Deleted Volumes:\n(.*\n)*cmd-vol2\n/);
    const gone = eng.hako(['volume', 'inspect', 'cmd-vol2']);
    assert.equal(gone.status, 1);
    assert.match(gone.stderr, /no such volume/);
  });

  test('rmi of an image a container uses is refused', async () => {
    eng.ok(['import', '-c', 'CMD ["sh"]', '-c', 'LABEL for=rmi', busyboxTar(), 'rmi-img:1']);
    const imgId = insp('rmi-img:1', '{{.Id}}');
    const stopped = runD('rmi-img:1', 'true');
    await waitExited(stopped);
    const r1 = eng.hako(['rmi', 'rmi-img:1']);
    assert.notEqual(r1.status, 0);
    assert.match(r1.stderr, new RegExp(`conflict: unable to remove repository reference "rmi-img:1" \\(must force\\) - container ${stopped.slice(0, 12)} is using its referenced image ${imgId.slice(7, 19)}`));
    eng.ok(['rm', stopped]);
    const running = runD('rmi-img:1', 'sleep', '100');
    const r2 = eng.hako(['rmi', '-f', imgId]);
    assert.notEqual(r2.status, 0);
    assert.match(r2.stderr, new RegExp(`conflict: unable to delete ${imgId.slice(7, 19)} \\(cannot be forced\\) - image is being used by running container ${running.slice(0, 12)}`));
    assert.equal(status(running), 'running');
    eng.ok(['rm', '-f', running]);
    eng.ok(['rmi', 'rmi-img:1']);
  });
});

test('nothing is left on the host once every container is removed', async () => {
  const ids = eng.ok(['ps', '-aq', '--no-trunc']).split('\n').filter(Boolean);
  if (ids.length) eng.ok(['rm', '-f', '-v', ...ids]);
  assert.deepEqual(eng.leftovers(), []);
});

function mkdirp(dir: string): void {
  execFileSync('mkdir', ['-p', dir]);
}
