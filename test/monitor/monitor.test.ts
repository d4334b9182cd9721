// hako-monitor (native/MONITOR.md) driven as a real binary, standalone: without
// --announce, PROGRAM is itself the container.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess, type StdioOptions } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';

const REPO = join(import.meta.dirname, '..', '..', '..');
const BUILD = join(REPO, 'native', 'build');
const MONITOR = join(BUILD, 'hako-monitor');
const SENDTTY = join(BUILD, 'test-sendpty');
const INIT = join(BUILD, 'hako-init');
const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/;

const dirs: string[] = [];
const procs: ChildProcess[] = [];
after(() => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Short paths: attach.sock must fit in sun_path. */
function tmp(): string {
  const d = mkdtempSync('/tmp/hkm-');
  dirs.push(d);
  return d;
}

async function waitFor<T>(what: string, fn: () => T | undefined | null | false, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await delay(10);
  }
}

function sh(script: string): string[] {
  return ['/bin/sh', '-c', script];
}

/** A monitor process; with `channel`, its fd 4 is a socket to us (Node's 'pipe'). */
class Monitor {
  readonly proc: ChildProcess;
  readonly dir: string;
  readonly exited: Promise<number | null>;
  readonly lines: string[] = [];
  stderr = '';
  private partial = '';

  constructor(dir: string, args: string[], program: string[], opts: { channel?: boolean } = {}) {
    this.dir = dir;
    const stdio: StdioOptions = opts.channel ? ['ignore', 'ignore', 'pipe', 'ignore', 'pipe'] : ['ignore', 'ignore', 'pipe'];
    this.proc = spawn(MONITOR, ['--dir', dir, ...args, '--', ...program], { stdio });
    procs.push(this.proc);
    this.proc.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((res) => this.proc.on('exit', (code) => res(code)));
    if (opts.channel) {
      this.chan.on('data', (d: Buffer) => {
        const parts = (this.partial + d.toString()).split('\n');
        this.partial = parts.pop()!;
        this.lines.push(...parts);
      });
      this.chan.on('error', () => {});
    }
  }

  get chan(): Socket {
    return this.proc.stdio[4] as Socket;
  }

  send(line: string): void {
    this.chan.write(line + '\n');
  }

  line(re: RegExp, what = String(re)): Promise<string> {
    return waitFor(`control line ${what} (got ${JSON.stringify(this.lines)})`, () => this.lines.find((l) => re.test(l)));
  }

  state(): Record<string, string> {
    return readState(this.dir);
  }

  waitState(what: string, pred: (s: Record<string, string>) => boolean): Promise<Record<string, string>> {
    return waitFor(`state: ${what}`, () => {
      const s = this.state();
      return pred(s) ? s : undefined;
    });
  }

  async exit(ms = 15_000): Promise<number | null> {
    const r = await Promise.race([this.exited, delay(ms).then(() => 'timeout' as const)]);
    assert.notEqual(r, 'timeout', `the monitor did not exit; stderr: ${this.stderr}`);
    return r as number | null;
  }

  log(name = 'log.json'): { log: string; stream: string; time: string }[] {
    const p = join(this.dir, name);
    if (!existsSync(p)) return [];
    // only whole lines: the monitor may be in the middle of writing the last one
    const text = readFileSync(p, 'utf8');
    return text
      .slice(0, text.lastIndexOf('\n') + 1)
      .split('\n')
      .filter((l) => l)
      .map((l) => JSON.parse(l));
  }
}

function readState(dir: string): Record<string, string> {
  const p = join(dir, 'monitor.state');
  if (!existsSync(p)) return {};
  const out: Record<string, string> = {};
  for (const l of readFileSync(p, 'utf8').split('\n')) {
    const i = l.indexOf('=');
    if (i > 0) out[l.slice(0, i)] = l.slice(i + 1);
  }
  return out;
}

type Frame = { type: number; data: Buffer };

/** An attach client: stdcopy frames both ways. */
class Client {
  readonly sock: Socket;
  readonly frames: Frame[] = [];
  readonly closed: Promise<void>;
  private buf = Buffer.alloc(0);

  private constructor(sock: Socket) {
    this.sock = sock;
    this.closed = new Promise((res) => sock.on('close', () => res()));
    sock.on('error', () => {});
    sock.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      while (this.buf.length >= 8) {
        const size = this.buf.readUInt32BE(4);
        if (this.buf.length < 8 + size) break;
        this.frames.push({ type: this.buf[0]!, data: this.buf.subarray(8, 8 + size) });
        this.buf = this.buf.subarray(8 + size);
      }
    });
  }

  static async open(dir: string): Promise<Client> {
    const path = join(dir, 'attach.sock');
    await waitFor('attach.sock', () => existsSync(path));
    const sock = connect(path);
    await new Promise<void>((res, rej) => {
      sock.once('connect', res);
      sock.once('error', rej);
    });
    return new Client(sock);
  }

  send(type: number, payload: string | Buffer): void {
    const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
    const hdr = Buffer.alloc(8);
    hdr[0] = type;
    hdr.writeUInt32BE(data.length, 4);
    this.sock.write(Buffer.concat([hdr, data]));
  }

  text(type: number): string {
    return Buffer.concat(this.frames.filter((f) => f.type === type).map((f) => f.data)).toString();
  }

  exitFrame(): Promise<string> {
    return waitFor('the exit frame', () => this.frames.find((f) => f.type === 4)?.data.toString());
  }
}

function writeScript(dir: string, name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return p;
}

/** A launcher as MONITOR.md wants it: starts the container (here `sh -c CMD`) in the
 * background, announces it on fd 4 and exits 0. The container first waits until
 * the launcher is gone, so that it is the monitor's (a subreaper's) to reap. */
function launcher(dir: string, cmd: string): string {
  return writeScript(
    dir,
    'launch.sh',
    `sh -c 'while kill -0 '$$' 2>/dev/null; do sleep 0.01; done; ${cmd}' &\necho "pid $!" >&4\necho started >&4\nexit 0`,
  );
}

describe('hako-monitor: json-file log', () => {
  test('Docker line format, streams, time, escaping, 16 KiB cut and the partial last line', async () => {
    const dir = tmp();
    const script = [
      `printf 'hi\\n'`,
      `printf 'err\\n' >&2`,
      `printf 'q"b\\\\s\\ttab\\001\\033\\r\\b\\f\\n'`,
      `printf '\\303\\251 \\377 \\355\\240\\200 \\342\\202\\254\\n'`,
      `head -c 20000 /dev/zero | tr '\\0' a; echo`,
      `printf 'partial'`,
    ].join('; ');
    const m = new Monitor(dir, ['--log', 'log.json'], sh(script));
    assert.equal(await m.exit(), 0, m.stderr);
    const raw = readFileSync(join(dir, 'log.json'));
    const lines = raw.toString('latin1').split('\n').filter((l) => l);
    assert.equal(lines.length, 7, raw.toString());
    for (const l of lines) assert.match(l, /^\{"log":".*","stream":"(stdout|stderr)","time":"[^"]+"\}$/);

    const out = lines.filter((l) => l.includes('"stream":"stdout"'));
    const err = lines.filter((l) => l.includes('"stream":"stderr"'));
    assert.equal(err.length, 1);
    assert.match(err[0]!, /^\{"log":"err\\n","stream":"stderr","time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z"\}$/);
    assert.ok(out[0]!.startsWith('{"log":"hi\\n","stream":"stdout","time":"'), out[0]);
    assert.ok(out[1]!.startsWith(String.raw`{"log":"q\"b\\s\ttab\u0001\u001b\r\b\f\n",`), out[1]);
    // valid UTF-8 stays as bytes (é, €); 0xff and an encoded surrogate become U+FFFD per byte
    const utf8 = Buffer.from(out[2]!, 'latin1').toString('utf8');
    assert.ok(utf8.startsWith(String.raw`{"log":"é \ufffd \ufffd\ufffd\ufffd €\n",`), utf8);
    // 20000 bytes without a newline: cut at 16 KiB, the rest ends with the line
    const parsed = m.log();
    const as = parsed.filter((e) => e.log.startsWith('aaa'));
    assert.deepEqual(as.map((e) => e.log.length), [16384, 20000 - 16384 + 1]);
    assert.ok(as[1]!.log.endsWith('a\n'));
    // the partial last line is flushed when the container exits
    assert.equal(parsed.at(-1)!.log, 'partial');
    assert.equal(parsed.at(-1)!.stream, 'stdout');
    const now = Date.now();
    for (const e of parsed) {
      assert.match(e.time, TIME);
      assert.ok(Math.abs(Date.parse(e.time) - now) < 60_000, e.time);
    }
  });

  test('rotation: --log-max-size and --log-max-file 3 keep 3 files, none over the limit', async () => {
    const dir = tmp();
    const m = new Monitor(
      dir,
      ['--log', 'log.json', '--log-max-size', '1000', '--log-max-file', '3'],
      sh('i=0; while [ $i -lt 100 ]; do echo "line $i"; i=$((i+1)); done'),
    );
    assert.equal(await m.exit(), 0, m.stderr);
    const files = readdirSync(dir).filter((f) => f.startsWith('log.json')).sort();
    assert.deepEqual(files, ['log.json', 'log.json.1', 'log.json.2']);
    for (const f of files) assert.ok(statSync(join(dir, f)).size <= 1000, `${f}: ${statSync(join(dir, f)).size}`);
    assert.ok(statSync(join(dir, 'log.json.1')).size > 900, 'a rotated file is full');
    // oldest to newest, the kept lines are consecutive and end with the last one
    const kept = ['log.json.2', 'log.json.1', 'log.json'].flatMap((f) => m.log(f).map((e) => e.log));
    const first = Number(kept[0]!.split(' ')[1]);
    assert.deepEqual(kept, Array.from({ length: 100 - first }, (_, k) => `line ${first + k}\n`));
  });

  test('rotation with one file truncates it; a line longer than max-size is written whole', async () => {
    const dir = tmp();
    const m = new Monitor(
      dir,
      ['--log', 'log.json', '--log-max-size', '300'],
      sh('echo one; echo two; echo three; head -c 500 /dev/zero | tr "\\0" b; echo; echo four'),
    );
    assert.equal(await m.exit(), 0, m.stderr);
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('log.json')), ['log.json']);
    assert.deepEqual(m.log().map((e) => e.log), ['four\n']);
    const m2 = new Monitor(tmp(), ['--log', 'log.json', '--log-max-size', '300'], sh('head -c 500 /dev/zero | tr "\\0" b; echo'));
    assert.equal(await m2.exit(), 0);
    assert.equal(m2.log()[0]!.log.length, 501);
    assert.ok(statSync(join(m2.dir, 'log.json')).size > 300);
  });
});

describe('hako-monitor: state file and control channel', () => {
  test('standalone: fields, `monitor`/`launched`/`exit` lines, exit_code 3', async () => {
    const dir = tmp();
    const m = new Monitor(dir, ['--log', 'log.json'], sh(`while [ ! -e ${dir}/go ]; do sleep 0.01; done; echo hi; exit 3`), {
      channel: true,
    });
    const monLine = await m.line(/^monitor /);
    const launched = await m.line(/^launched /);
    assert.equal(monLine, `monitor ${m.proc.pid}`);
    const pid = Number(launched.split(' ')[1]);
    const s = await m.waitState('running', (s) => s.status === 'running');
    const stat = readFileSync(`/proc/${m.proc.pid}/stat`, 'utf8');
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    assert.deepEqual(Object.keys(s), ['monitor_pid', 'monitor_start', 'status', 'pid', 'started_at', 'finished_at', 'exit_code', 'restart_count', 'error']);
    assert.equal(s.monitor_pid, String(m.proc.pid));
    assert.equal(s.monitor_start, start);
    assert.equal(s.pid, String(pid));
    assert.match(s.started_at!, TIME);
    assert.equal(s.finished_at, '');
    writeFileSync(join(dir, 'go'), '');
    assert.equal(await m.line(/^exit /), 'exit 3');
    assert.equal(await m.exit(), 0);
    const f = m.state();
    assert.equal(f.status, 'exited');
    assert.equal(f.exit_code, '3');
    assert.equal(f.pid, '0');
    assert.equal(f.restart_count, '0');
    assert.equal(f.error, '');
    assert.match(f.finished_at!, TIME);
    assert.ok(f.finished_at! >= f.started_at!);
    assert.deepEqual(m.log().map((e) => e.log), ['hi\n']);
    assert.ok(!existsSync(join(dir, 'attach.sock')), 'attach.sock is removed at the end');
  });

  test('--announce: created → pid → started/running → launcher exits → SIGKILL: exited 137', async () => {
    const dir = tmp();
    const m = new Monitor(
      dir,
      ['--announce'],
      sh(`sleep 60 & echo $! > ${dir}/child.pid; while [ ! -e ${dir}/go ]; do sleep 0.01; done; exit 0`),
      { channel: true },
    );
    const launcherPid = Number((await m.line(/^launched /)).split(' ')[1]);
    const s0 = await m.waitState('created', (s) => s.status === 'created');
    assert.equal(s0.pid, '0');
    const child = Number(await waitFor('child.pid', () => existsSync(join(dir, 'child.pid')) && readFileSync(join(dir, 'child.pid'), 'utf8').trim()));
    m.send(`pid ${child}`);
    const s1 = await m.waitState('pid', (s) => s.pid === String(child));
    assert.equal(s1.status, 'created');
    assert.equal(s1.started_at, '');
    m.send('started');
    const s2 = await m.waitState('running', (s) => s.status === 'running');
    assert.match(s2.started_at!, TIME);
    writeFileSync(join(dir, 'go'), '');
    await waitFor('the launcher to be reaped', () => !existsSync(`/proc/${launcherPid}`));
    assert.equal(m.state().status, 'running');
    // the container is now the monitor's child (subreaper): it reaps it
    await waitFor('reparenting', () => readFileSync(`/proc/${child}/stat`, 'utf8').split(') ')[1]!.split(' ')[1] === String(m.proc.pid));
    process.kill(child, 'SIGKILL');
    assert.equal(await m.line(/^exit /), 'exit 137');
    assert.equal(await m.exit(), 0);
    const f = m.state();
    assert.equal(f.status, 'exited');
    assert.equal(f.exit_code, '137');
    assert.equal(f.pid, '0');
    assert.ok(!existsSync(`/proc/${child}`), 'reaped, not a zombie');
  });

  test('`fail MESSAGE` records failed and exits at once', async () => {
    const dir = tmp();
    const m = new Monitor(dir, ['--announce'], sh('exec sleep 30'), { channel: true });
    const launcherPid = Number((await m.line(/^launched /)).split(' ')[1]);
    m.send('fail the runtime said no');
    assert.equal(await m.exit(), 0);
    const s = m.state();
    assert.equal(s.status, 'failed');
    assert.equal(s.error, 'the runtime said no');
    process.kill(launcherPid, 'SIGKILL');
  });

  test('a launcher exiting non-zero, or 0 without announcing, is a failed launch', async () => {
    const m = new Monitor(tmp(), ['--announce'], sh('exit 3'), { channel: true });
    assert.equal(await m.exit(), 0);
    assert.equal(m.state().status, 'failed');
    assert.equal(m.state().error, 'launcher exited with status 3');

    const m2 = new Monitor(tmp(), ['--announce'], sh('exit 0'), { channel: true });
    await m2.line(/^launched /);
    m2.chan.end(); // EOF from the CLI without a pid
    assert.equal(await m2.exit(), 0);
    assert.equal(m2.state().status, 'failed');
    assert.equal(m2.state().error, 'launcher exited before announcing the container');

    const m3 = new Monitor(tmp(), [], ['/nonexistent/prog']);
    assert.equal(await m3.exit(), 0);
    assert.equal(m3.state().status, 'failed');
    assert.match(m3.state().error!, /^exec \/nonexistent\/prog: No such file or directory$/);
  });

  test('the container may exit before its `pid` line is read', async () => {
    const dir = tmp();
    // the container exits once its launcher is gone: the monitor (subreaper) reaps
    // it before the test sends any `pid` line
    const m = new Monitor(
      dir,
      ['--announce'],
      sh(`sh -c 'while kill -0 '$$' 2>/dev/null; do sleep 0.01; done; exit 7' & echo $! > ${dir}/child.pid; exit 0`),
      { channel: true },
    );
    const launcherPid = Number((await m.line(/^launched /)).split(' ')[1]);
    const child = Number(await waitFor('child.pid', () => existsSync(join(dir, 'child.pid')) && readFileSync(join(dir, 'child.pid'), 'utf8').trim()));
    await waitFor('launcher and container reaped', () => !existsSync(`/proc/${launcherPid}`) && !existsSync(`/proc/${child}`));
    assert.equal(m.state().status, 'created');
    m.send(`pid ${child}`);
    assert.equal(await m.line(/^exit /), 'exit 7');
    assert.equal(await m.exit(), 0);
    assert.equal(m.state().exit_code, '7');
  });
});

describe('hako-monitor: restarts and cleanup', () => {
  test('--restart on-failure:2 with --relaunch: exactly 2 restarts, final exit recorded', async () => {
    const dir = tmp();
    const relaunch = launcher(dir, 'echo run; exit 1');
    const m = new Monitor(dir, ['--log', 'log.json', '--restart', 'on-failure:2', '--relaunch', relaunch], sh('echo run; exit 1'), {
      channel: true,
    });
    assert.equal(await m.exit(20_000), 0, m.stderr);
    const s = m.state();
    assert.equal(s.status, 'exited');
    assert.equal(s.exit_code, '1');
    assert.equal(s.restart_count, '2');
    assert.deepEqual(m.lines.filter((l) => l.startsWith('exit ')), ['exit 1', 'exit 1', 'exit 1']);
    assert.deepEqual(m.log().map((e) => e.log), ['run\n', 'run\n', 'run\n']);
  });

  test('the `stopped` file prevents a restart with `always`', async () => {
    const dir = tmp();
    const relaunch = launcher(dir, 'exit 1');
    const m = new Monitor(dir, ['--restart', 'always', '--relaunch', relaunch], sh(`touch ${dir}/stopped; exit 4`));
    assert.equal(await m.exit(), 0, m.stderr);
    const s = m.state();
    assert.equal(s.status, 'exited');
    assert.equal(s.exit_code, '4');
    assert.equal(s.restart_count, '0');
  });

  test('while restarting, a late attach client gets the exit frame at once', async () => {
    const dir = tmp();
    const relaunch = launcher(dir, 'exit 1');
    const m = new Monitor(dir, ['--restart', 'always', '--relaunch', relaunch], sh('exit 1'));
    // the back-off doubles: after 4 restarts the wait is 1.6 s
    await m.waitState('restarting after 4 restarts', (s) => s.status === 'restarting' && Number(s.restart_count) >= 4);
    const c = await Client.open(dir);
    assert.equal(await c.exitFrame(), '1');
    await c.closed;
    writeFileSync(join(dir, 'stopped'), '');
    assert.equal(await m.exit(), 0);
    assert.equal(m.state().status, 'exited');
  });

  test('--cleanup argv is exec\'d at the end; `nocleanup` on an open channel vetoes it', async () => {
    const dir = tmp();
    const cleanup = ['--cleanup', '/bin/sh', '--cleanup', '-c', '--cleanup', 'echo $$ > cleaned'];
    const m = new Monitor(dir, cleanup, sh('exit 0'));
    assert.equal(await m.exit(), 0);
    // exec'd in place of the monitor: same pid, in DIR
    assert.equal(readFileSync(join(dir, 'cleaned'), 'utf8').trim(), String(m.proc.pid));
    assert.equal(m.state().status, 'exited');
    assert.ok(!existsSync(join(dir, 'attach.sock')));

    const dir2 = tmp();
    const m2 = new Monitor(dir2, cleanup, sh(`while [ ! -e ${dir2}/go ]; do sleep 0.01; done`), { channel: true });
    await m2.line(/^launched /);
    m2.send('nocleanup');
    await delay(50);
    writeFileSync(join(dir2, 'go'), '');
    await m2.line(/^exit 0$/);
    assert.equal(await m2.exit(), 0);
    assert.ok(!existsSync(join(dir2, 'cleaned')), 'vetoed');

    // the veto lapses once the channel is closed
    const dir3 = tmp();
    const m3 = new Monitor(dir3, cleanup, sh(`while [ ! -e ${dir3}/go ]; do sleep 0.01; done`), { channel: true });
    await m3.line(/^launched /);
    m3.send('nocleanup');
    m3.chan.destroy();
    await delay(50);
    writeFileSync(join(dir3, 'go'), '');
    assert.equal(await m3.exit(), 0);
    assert.ok(existsSync(join(dir3, 'cleaned')));
  });

  test('--tick runs --tick-cmd while the container runs', async () => {
    const dir = tmp();
    const m = new Monitor(
      dir,
      ['--tick', '0.05', '--tick-cmd', '/bin/sh', '--tick-cmd', '-c', '--tick-cmd', `echo tick >> ${dir}/ticks`],
      sh(`while [ ! -e ${dir}/go ]; do sleep 0.01; done`),
    );
    await waitFor('3 ticks', () => existsSync(join(dir, 'ticks')) && readFileSync(join(dir, 'ticks'), 'utf8').split('\n').length > 3);
    writeFileSync(join(dir, 'go'), '');
    assert.equal(await m.exit(), 0);
  });
});

describe('hako-monitor: attach', () => {
  test('a client gets stdout and stderr frames, then the exit frame, then EOF', async () => {
    const dir = tmp();
    const m = new Monitor(dir, ['--log', 'log.json'], sh(`while [ ! -e ${dir}/go ]; do sleep 0.01; done; echo out; sleep 0.05; echo err >&2; exit 5`));
    const c = await Client.open(dir);
    writeFileSync(join(dir, 'go'), '');
    await c.closed;
    assert.deepEqual(
      c.frames.map((f) => [f.type, f.data.toString()]),
      [
        [1, 'out\n'],
        [2, 'err\n'],
        [4, '5'],
      ],
    );
    assert.equal(await m.exit(), 0);
  });

  test('stdin: --stdin --stdin-once, EOF reaches cat when the client closes its stdin', async () => {
    const dir = tmp();
    const m = new Monitor(dir, ['--log', 'log.json', '--stdin', '--stdin-once'], ['/bin/cat']);
    const c = await Client.open(dir);
    c.send(0, 'hello\n');
    c.send(0, 'world\n');
    await waitFor('echo from cat', () => c.text(1) === 'hello\nworld\n');
    c.send(0, ''); // closes stdin
    assert.equal(await c.exitFrame(), '0');
    assert.equal(await m.exit(), 0);
    assert.deepEqual(m.log().map((e) => e.log), ['hello\n', 'world\n']);
  });

  test('without --stdin-once, stdin stays open when a client leaves; signal frames reach the container', async () => {
    const dir = tmp();
    const m = new Monitor(dir, ['--stdin'], sh('trap "echo term; exit 9" TERM; while read l; do echo "got $l"; done; echo eof'));
    const c1 = await Client.open(dir);
    c1.send(0, 'a\n');
    await waitFor('got a', () => c1.text(1) === 'got a\n');
    c1.send(0, '');
    c1.sock.destroy();
    await c1.closed;
    const c2 = await Client.open(dir);
    c2.send(0, 'b\n');
    await waitFor('got b', () => c2.text(1) === 'got b\n');
    c2.send(6, '15');
    assert.equal(await c2.exitFrame(), '9');
    assert.equal(c2.text(1), 'got b\nterm\n');
    assert.equal(await m.exit(), 0);
  });

  test('more than 32 clients are refused', async () => {
    const dir = tmp();
    const m = new Monitor(dir, [], sh(`while [ ! -e ${dir}/go ]; do sleep 0.01; done; echo bye`));
    const clients: Client[] = [];
    for (let i = 0; i < 32; i++) clients.push(await Client.open(dir));
    const extra = await Client.open(dir);
    await extra.closed;
    assert.deepEqual(extra.frames, []);
    writeFileSync(join(dir, 'go'), '');
    for (const c of clients) assert.equal(await c.exitFrame(), '0');
    assert.ok(clients.every((c) => c.text(1) === 'bye\n'));
    assert.equal(await m.exit(), 0);
  });

  test('a client that does not read is dropped; others and the log are not held up', async () => {
    const dir = tmp();
    // 8 MB in bursts of 100 kB: a reading client keeps up, a paused one falls 1 MiB behind
    const burst = `i=0; while [ $i -lt 80 ]; do head -c 100000 /dev/zero | tr '\\0' x; sleep 0.01; i=$((i+1)); done`;
    const m = new Monitor(dir, ['--log', 'log.json'], sh(`while [ ! -e ${dir}/go ]; do sleep 0.01; done; ${burst}; echo; echo done`));
    const slow = await Client.open(dir);
    slow.sock.pause();
    const fast = await Client.open(dir);
    writeFileSync(join(dir, 'go'), '');
    assert.equal(await fast.exitFrame(), '0');
    assert.equal(fast.text(1).length, 8000006);
    await m.exit();
    slow.sock.resume();
    await slow.closed;
    assert.ok(!slow.frames.some((f) => f.type === 4), 'dropped before the end');
    const got = slow.frames.reduce((n, f) => n + f.data.length, 0);
    assert.ok(got >= 512 * 1024 && got < 4 << 20, `the slow client got ${got} bytes`);
    assert.equal(m.log().reduce((n, e) => n + e.log.length, 0), 8000006);
  });
});

describe('hako-monitor: --tty', () => {
  test('the pty master from console.sock: output, resize, stdin and Ctrl-C', async () => {
    const dir = tmp();
    const script = 'echo ready; read x; stty size; read y; echo "got $y"; echo sleeping; exec sleep 30';
    const m = new Monitor(dir, ['--tty', '--stdin', '--log', 'log.json'], [SENDTTY, 'console.sock', ...sh(script)]);
    const c = await Client.open(dir);
    // "ready" in the log: the master has arrived, stdin now has somewhere to go
    await waitFor('ready', () => m.log().some((e) => e.log === 'ready\r\n'));
    c.send(5, '40 100');
    c.send(0, 'go\n');
    await waitFor('stty size', () => c.text(1).includes('40 100\r\n'));
    c.send(0, 'name\n');
    await waitFor('sleeping', () => c.text(1).includes('sleeping'));
    assert.match(c.text(1), /got name\r\n/);
    assert.ok(c.frames.every((f) => f.type !== 2), 'a tty has only stdout');
    c.send(0, Buffer.from([3]));
    assert.equal(await c.exitFrame(), '130');
    assert.equal(await m.exit(), 0);
    assert.equal(m.state().exit_code, '130');
    assert.ok(m.log().every((e) => e.stream === 'stdout'));
    assert.ok(m.log().some((e) => e.log === '40 100\r\n'));
    assert.ok(!existsSync(join(dir, 'console.sock')), 'console.sock is removed at the end');
  });

  test('--stdin-once on a tty sends ^D', async () => {
    const dir = tmp();
    const m = new Monitor(dir, ['--tty', '--stdin', '--stdin-once', '--log', 'log.json'], [SENDTTY, 'console.sock', ...sh('echo ready; cat; echo "cat done"')]);
    const c = await Client.open(dir);
    await waitFor('ready', () => m.log().some((e) => e.log === 'ready\r\n'));
    c.send(0, 'abc\n');
    c.send(0, '');
    assert.equal(await c.exitFrame(), '0');
    assert.match(c.text(1), /cat done/);
    assert.equal(await m.exit(), 0);
  });

  test('hako-init on a tty: Ctrl-C reaches its child in the foreground group', async () => {
    const dir = tmp();
    const m = new Monitor(dir, ['--tty', '--stdin', '--log', 'log.json'], [SENDTTY, 'console.sock', INIT, '--', ...sh('echo ready; exec sleep 30')]);
    const c = await Client.open(dir);
    await waitFor('ready', () => m.log().some((e) => e.log === 'ready\r\n'));
    c.send(0, Buffer.from([3]));
    assert.equal(await c.exitFrame(), '130');
    assert.equal(await m.exit(), 0);
  });
});

describe('hako-monitor: command line', () => {
  const cases: [string[], RegExp][] = [
    [['--', '/bin/true'], /--dir is required/],
    [['--dir', '/tmp', '--bogus', '--', '/bin/true'], /unknown option --bogus/],
    [['--dir', '/tmp', '--restart', 'sometimes', '--', '/bin/true'], /--restart sometimes/],
    [['--dir', '/tmp', '--restart', 'always', '--', '/bin/true'], /--restart needs --relaunch/],
    [['--dir', '/tmp', '--log-max-file', '0', '--', '/bin/true'], /--log-max-file 0/],
    [['--dir', '/tmp', '--log-max-size', '-1', '--', '/bin/true'], /--log-max-size -1/],
    [['--dir', '/tmp', '--relaunch', 'rel', '--', '/bin/true'], /absolute path/],
    [['--dir', '/tmp', '--tick', '5', '--', '/bin/true'], /--tick and --tick-cmd/],
    [['--dir', '/tmp', '--tty=yes', '--', '/bin/true'], /--tty takes no value/],
    [['--dir', '/tmp', '--log'], /--log needs a value/],
    [['--dir', '/tmp', '--'], /no PROGRAM given/],
  ];
  for (const [args, re] of cases) {
    test(`${args.join(' ')} → exit 2`, () => {
      const dir = tmp();
      const fixed = args.map((a) => (a === '/tmp' ? dir : a));
      const r = spawnSync(MONITOR, fixed, { encoding: 'utf8' });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /^hako-monitor: /);
      assert.match(r.stderr, re);
      assert.deepEqual(readdirSync(dir), [], 'nothing happened');
    });
  }
});

describe('hako-monitor: memory', () => {
  function usage(pid: number): { rss: number; pss: number } {
    const rss = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
    const pss = Number(/Pss:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))![1]);
    return { rss, pss };
  }

  test('VmRSS stays under 1 MiB with a running container, a client and output', async (t) => {
    const dir = tmp();
    const m = new Monitor(dir, ['--log', 'log.json', '--stdin'], sh('seq 1 20000; seq 1 20000 >&2; head -c 20000 /dev/zero | tr "\\0" z; echo; echo done; exec sleep 30'));
    const c = await Client.open(dir);
    await waitFor('output', () => m.log().some((e) => e.log === 'done\n'));
    const busy = usage(m.proc.pid!);
    t.diagnostic(`hako-monitor after output: VmRSS ${busy.rss} kB, Pss ${busy.pss} kB`);
    assert.ok(busy.rss < 1024, `VmRSS ${busy.rss} kB`);
    // idle for a while: the code pages of the burst are dropped again (slim.c)
    await delay(2500);
    const idle = usage(m.proc.pid!);
    t.diagnostic(`hako-monitor idle: VmRSS ${idle.rss} kB, Pss ${idle.pss} kB`);
    assert.ok(idle.rss < 1024, `VmRSS ${idle.rss} kB`);
    process.kill(Number(m.state().pid), 'SIGKILL');
    assert.equal(await c.exitFrame(), '137');
    await m.exit();
  });
});
