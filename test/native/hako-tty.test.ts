import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { REPO } from '../helpers/bundle.ts';

const HAKO_TTY = join(REPO, 'native', 'build', 'hako-tty');
const SENDPTY = join(REPO, 'native', 'build', 'test-sendpty');

/*
 * The user's terminal: python runs argv on a fresh pty as a session leader with
 * that pty as controlling terminal (so the kernel sends it SIGWINCH on resize),
 * and speaks JSON lines: commands on stdin (write / resize / stty / kill),
 * events on stdout (started, out, stty, exit). It keeps the slave open itself
 * to read the mode with `stty -g` before, during and after.
 */
const DRIVER = String.raw`
import fcntl, json, os, select, struct, subprocess, sys, termios
argv, rows, cols = json.loads(sys.argv[1])
def emit(**ev):
    sys.stdout.write(json.dumps(ev) + '\n')
    sys.stdout.flush()
def resize(r, c):
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack('HHHH', r, c, 0, 0))
def stty(flag):
    return subprocess.run(['stty', flag], stdin=slave, capture_output=True, text=True, check=True).stdout.strip()
master, slave = os.openpty()
resize(rows, cols)
before = stty('-g')
pid = os.fork()
if pid == 0:
    try:
        os.close(master)
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        os.close(slave)
        os.execv(argv[0], argv)
    finally:
        os._exit(127)
emit(ev='started', g=before)
os.set_blocking(master, False)
def drain():
    while True:
        try:
            d = os.read(master, 65536)
        except BlockingIOError:
            return
        if not d:
            return
        emit(ev='out', data=d.decode('latin-1'))
pending = b''
status = None
inputs = [master, 0]
while status is None:
    ready = select.select(inputs, [], [], 0.05)[0]
    if master in ready:
        drain()
    if 0 in ready:
        d = os.read(0, 65536)
        if not d:  # the test is gone: so is the user
            inputs = [master]
            os.kill(pid, 9)
        pending += d
        while b'\n' in pending:
            line, pending = pending.split(b'\n', 1)
            c = json.loads(line)
            if c['op'] == 'write':
                os.write(master, c['data'].encode('latin-1'))
            elif c['op'] == 'resize':
                resize(c['rows'], c['cols'])
            elif c['op'] == 'stty':
                emit(ev='stty', g=stty('-g'), a=stty('-a'))
            elif c['op'] == 'kill':
                os.kill(pid, c['sig'])
    p, st = os.waitpid(pid, os.WNOHANG)
    if p:
        status = st
drain()
emit(ev='exit', code=os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
     signal=os.WTERMSIG(status) if os.WIFSIGNALED(status) else None, g=stty('-g'))
`;

interface Ev {
  ev: 'started' | 'out' | 'stty' | 'exit';
  data?: string;
  g?: string;
  a?: string;
  code?: number | null;
  signal?: number | null;
}

const procs: ChildProcess[] = [];
const dirs: string[] = [];
after(() => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'hako-tty-'));
  dirs.push(d);
  return d;
}

/** A program on its own pty, driven as a user at a terminal would. */
class Term {
  readonly proc: ChildProcessWithoutNullStreams;
  out = '';
  private readonly evs: Ev[] = [];
  private wake: (() => void)[] = [];

  constructor(argv: string[], rows: number, cols: number) {
    this.proc = spawn('python3', ['-c', DRIVER, JSON.stringify([argv, rows, cols])]);
    procs.push(this.proc);
    this.proc.stderr.on('data', (d: Buffer) => process.stderr.write(d));
    createInterface({ input: this.proc.stdout }).on('line', (line) => {
      const e = JSON.parse(line) as Ev;
      if (e.ev === 'out') this.out += e.data;
      this.evs.push(e);
      this.notify();
    });
    this.proc.on('exit', () => this.notify());
  }

  private notify(): void {
    for (const f of this.wake.splice(0)) f();
  }

  async until<T>(what: string, check: () => T | undefined, ms = 10_000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = check();
      if (v !== undefined) return v;
      if (Date.now() > deadline || this.proc.exitCode !== null)
        throw new Error(`no ${what}; terminal output so far: ${JSON.stringify(this.out)}`);
      await new Promise<void>((res) => {
        this.wake.push(res);
        setTimeout(res, 100).unref();
      });
    }
  }

  event(kind: Ev['ev'], nth = 0): Promise<Ev> {
    return this.until(`${kind} event`, () => this.evs.filter((e) => e.ev === kind)[nth]);
  }

  output(re: RegExp): Promise<string> {
    return this.until(`output matching ${re}`, () => (re.test(this.out) ? this.out : undefined));
  }

  send(cmd: Record<string, unknown>): void {
    this.proc.stdin.write(JSON.stringify(cmd) + '\n');
  }

  async stty(): Promise<Ev> {
    const n = this.evs.filter((e) => e.ev === 'stty').length;
    this.send({ op: 'stty' });
    return this.event('stty', n);
  }
}

async function waitForPath(path: string): Promise<void> {
  for (let i = 0; i < 500 && !existsSync(path); i++) await delay(10);
  assert.ok(existsSync(path), `${path} never appeared`);
}

/** hako-tty on a terminal, its runtime-side peer running sh -c SCRIPT. */
async function startSession(script: string, rows: number, cols: number) {
  const dir = tempDir();
  const sock = join(dir, 'console.sock');
  const term = new Term([HAKO_TTY, sock], rows, cols);
  const started = await term.event('started');
  await waitForPath(sock);
  const peer = spawn(SENDPTY, [sock, '/bin/sh', '-c', script], { stdio: ['ignore', 'ignore', 'inherit'] });
  procs.push(peer);
  return { dir, sock, term, before: started.g! };
}

describe('hako-tty', () => {
  test('proxies a terminal session: output, input, window size, raw mode restored', async () => {
    const script = 'echo ready; read a; stty size; echo "got:$a"; read b; stty size; echo bye';
    const { dir, sock, term, before } = await startSession(script, 30, 100);
    await term.output(/ready/);
    // the socket path goes away once the runtime has connected
    assert.equal(existsSync(sock), false);
    assert.deepEqual(readdirSync(dir), []);

    const during = await term.stty();
    assert.notEqual(during.g, before, 'the user terminal is in raw mode meanwhile');
    assert.match(during.a!, /(^|\s)-icanon(\s|$)/);
    assert.match(during.a!, /(^|\s)-echo(\s|$)/);
    assert.match(during.a!, /(^|\s)-isig(\s|$)/);

    term.send({ op: 'write', data: 'hello\r' });
    await term.output(/got:hello/);
    assert.match(term.out, /30 100\r?\n(.*\n)?got:hello/, 'initial size copied before the program asked');

    // SIGWINCH reaches hako-tty as the foreground of the resized terminal
    term.send({ op: 'resize', rows: 40, cols: 120 });
    term.send({ op: 'write', data: 'x\r' });
    await term.output(/bye/);
    assert.match(term.out, /got:hello[\s\S]*40 120\r?\nbye/);

    const exit = await term.event('exit');
    assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null }, term.out);
    assert.equal(exit.g, before, 'terminal mode restored');
    // echoed once, by the container's pty; the outer terminal does not echo in raw mode
    assert.equal(term.out.split('hello').length - 1, 2, term.out);
  });

  test('SIGTERM puts the terminal mode back and ends by that signal', async () => {
    const { term, before } = await startSession('echo ready; sleep 30', 24, 80);
    await term.output(/ready/);
    assert.notEqual((await term.stty()).g, before);
    term.send({ op: 'kill', sig: 15 });
    const exit = await term.event('exit');
    assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: null, signal: 15 });
    assert.equal(exit.g, before);
  });

  test('stdin from a pipe: EOF is passed on as the terminal EOF character', async () => {
    const dir = tempDir();
    const sock = join(dir, 'console.sock');
    const tty = spawn(HAKO_TTY, [sock], { stdio: ['pipe', 'pipe', 'pipe'] });
    procs.push(tty);
    let out = '';
    let err = '';
    tty.stdout.on('data', (d: Buffer) => (out += d.toString()));
    tty.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((res) => tty.on('exit', res));
    await waitForPath(sock);
    procs.push(spawn(SENDPTY, [sock, 'cat'], { stdio: ['ignore', 'ignore', 'inherit'] }));
    tty.stdin.end('line one\n');
    const code = await Promise.race([exited, delay(10_000, 'timeout', { ref: false })]);
    assert.equal(code, 0, `hako-tty: ${code} ${err}; output: ${JSON.stringify(out)}`);
    // the pty's echo, then cat's copy
    assert.equal(out, 'line one\r\nline one\r\n');
    assert.equal(err, '');
  });

  test('SIGTERM while waiting for the runtime removes the socket', async () => {
    const dir = tempDir();
    const sock = join(dir, 'console.sock');
    const tty = spawn(HAKO_TTY, [sock], { stdio: ['ignore', 'ignore', 'pipe'] });
    procs.push(tty);
    const exited = new Promise<NodeJS.Signals | null>((res) => tty.on('exit', (_c, sig) => res(sig)));
    await waitForPath(sock);
    tty.kill('SIGTERM');
    assert.equal(await exited, 'SIGTERM');
    assert.deepEqual(readdirSync(dir), []);
  });

  test('usage errors exit 2, runtime errors exit 1 with a reason', () => {
    for (const args of [[], ['a', 'b'], ['']]) {
      const r = spawnSync(HAKO_TTY, args, { encoding: 'utf8' });
      assert.equal(r.status, 2, `args ${JSON.stringify(args)}`);
      assert.equal(r.stderr, 'usage: hako-tty SOCKET_PATH\n');
    }
    const r = spawnSync(HAKO_TTY, [join(tempDir(), 'missing', 'console.sock')], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^hako-tty: .*missing\/console\.sock\.\d+\.tmp: No such file or directory\n$/);
  });
});
