import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { HAKO } from '../helpers/bundle.ts';
import { Engine } from '../helpers/engine.ts';

/**
 * `run -it` and `exec -it` under a real terminal: python's pty module plays the user's
 * terminal. Checked: the terminal's size reaches the container at start and after a
 * resize, Ctrl-C interrupts the foreground program (not the container), and the shell's
 * exit status comes back as hako's.
 */
const DRIVER = String.raw`
import json, os, pty, select, sys, time, fcntl, termios, struct
argv = json.loads(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
def read_until(token, t=10):
    out = b''; end = time.time() + t
    while time.time() < end and token not in out:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try: out += os.read(fd, 4096)
            except OSError: break
    return out.decode(errors='replace')
def size(rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))
res = {}
size(30, 100)
res['banner'] = read_until(b'# ')
os.write(fd, b'stty size; echo M$((1))\n'); res['size1'] = read_until(b'M1\r\n')
size(40, 120); time.sleep(0.3)
os.write(fd, b'stty size; echo M$((2))\n'); res['size2'] = read_until(b'M2\r\n')
os.write(fd, b'sleep 100; echo after:$?\n'); time.sleep(0.5)
os.write(fd, b'\x03'); res['ctrlc'] = read_until(b'^C', 5); res['ctrlc'] += read_until(b'# ', 3)
os.write(fd, b'echo ali""ve; exit 5\n'); res['end'] = read_until(b'\x00', 3)
_, st = os.waitpid(pid, 0)
res['exit'] = os.waitstatus_to_exitcode(st)
print(json.dumps(res))
`;

function drive(argv: string[]): Record<string, string | number> {
  const r = spawnSync('python3', ['-c', DRIVER, JSON.stringify(argv)], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, string | number>;
}

function checkSession(res: Record<string, string | number>): void {
  assert.match(String(res['size1']), /\b30 100\r\n/);
  assert.match(String(res['size2']), /\b40 120\r\n/);
  // Ctrl-C stopped `sleep` (the shell carried on to a new prompt), not the container
  assert.match(String(res['ctrlc']), /\^C/);
  assert.doesNotMatch(String(res['ctrlc']), /after:0/);
  assert.match(String(res['end']), /alive/);
  assert.equal(res['exit'], 5);
}

describe('terminals', () => {
  let e: Engine;
  before(() => (e = new Engine('hako-tty-')));
  after(() => e.cleanup());

  test('run -it: size, resize, Ctrl-C and the exit status', () => {
    const res = drive([HAKO, '--data-root', e.root, 'run', '--rm', '-it', 'busybox', 'sh']);
    checkSession(res);
    assert.doesNotMatch(String(res['banner']), /\r\r\n/, 'no doubled carriage returns: output processing is off');
    assert.equal(e.ok(['ps', '-aq']), '');
  });

  test('exec -it in a running container', () => {
    const id = e.track(e.ok(['run', '-d', 'busybox', 'sleep', '300']));
    checkSession(drive([HAKO, '--data-root', e.root, 'exec', '-it', id, 'sh']));
    e.ok(['rm', '-f', id]);
  });

  test('run -t without -i: output through the pty, then EOF', () => {
    const r = e.hako(['run', '--rm', '-t', 'busybox', 'sh', '-c', 'tty; echo done']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^\/dev\/pts\/\d+\r\ndone\r\n$/);
  });
});
