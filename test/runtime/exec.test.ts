import assert from 'node:assert/strict';
import { existsSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { baseSpec, Bundle, REPO } from '../helpers/bundle.ts';

describe('exec', () => {
  const b = new Bundle(baseSpec('sleep 60'));
  let initPid = 0;
  before(() => {
    const spec = baseSpec('sleep 60');
    spec.linux!.namespaces!.push({ type: 'cgroup' });
    spec.hostname = 'exec-target';
    b.write(spec);
    const r = b.hako(['run', '-d', '-b', b.dir, b.id]);
    assert.equal(r.status, 0, r.stderr);
    initPid = b.state().pid;
  });
  after(() => b.cleanup());

  test('the process joins every namespace and the cgroup of the container', () => {
    const pidFile = join(b.dir, 'exec.pid');
    const r = b.hako(['exec', '--detach', '--pid-file', pidFile, b.id, 'sleep', '30']);
    assert.equal(r.status, 0, r.stderr);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    for (const ns of ['pid', 'net', 'ipc', 'uts', 'mnt', 'cgroup']) {
      assert.equal(readlinkSync(`/proc/${pid}/ns/${ns}`), readlinkSync(`/proc/${initPid}/ns/${ns}`), ns);
    }
    assert.equal(readFileSync(`/proc/${pid}/cgroup`, 'utf8'), readFileSync(`/proc/${initPid}/cgroup`, 'utf8'));
    assert.equal(readlinkSync(`/proc/${pid}/root`), '/');
  });

  test('output, exit code, and what the process sees of the container', () => {
    const r = b.hako(['exec', b.id, 'sh', '-c', 'hostname; echo $$; exit 4']);
    assert.equal(r.status, 4, r.stderr);
    const [host, pid] = r.stdout.trim().split('\n');
    assert.equal(host, 'exec-target');
    assert.notEqual(pid, '1');
  });

  test('flags set env, cwd and user; a process file replaces the process', () => {
    const r = b.hako(['exec', '-e', 'FOO=bar', '--cwd', '/tmp', '-u', '1000:1000', '-g', '5', b.id, 'sh', '-c', 'echo $FOO $(pwd) $(id -u) $(id -g) $(id -G)']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'bar /tmp 1000 1000 1000 5\n');
    const file = join(b.dir, 'process.json');
    writeFileSync(file, JSON.stringify({ args: ['sh', '-c', 'echo $WHO; umask'], cwd: '/', env: ['WHO=from-file'], user: { uid: 0, gid: 0, umask: 0o077 } }));
    const p = b.hako(['exec', '--process', file, b.id]);
    assert.equal(p.status, 0, p.stderr);
    assert.equal(p.stdout, 'from-file\n0077\n');
  });

  test('-t with --console-socket gives the process its own pty', async () => {
    const sock = join(b.dir, 'exec-console.sock');
    const recv = spawn(join(REPO, 'native', 'build', 'recvtty'), [sock], { stdio: ['pipe', 'pipe', 'inherit'] });
    let output = '';
    recv.stdout.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((res) => recv.on('exit', res));
    for (let i = 0; i < 200 && !existsSync(sock); i++) await delay(10);
    const r = b.hako(['exec', '-t', '--console-socket', sock, '--detach', b.id, 'sh', '-c', 'tty; test -t 0 && echo isatty']);
    assert.equal(r.status, 0, r.stderr);
    const code = await Promise.race([exited, delay(10_000).then(() => 'timeout')]);
    assert.equal(code, 0, `recvtty: ${code}, output: ${JSON.stringify(output)}`);
    const lines = output.split(/\r?\n/).map((l) => l.trim());
    assert.match(lines[0]!, /^\/dev\/pts\/\d+$/);
    assert.ok(lines.includes('isatty'), output);
  });

  test('a missing program is a clear error; exec into a stopped container is refused', () => {
    const r = b.hako(['exec', b.id, 'no-such-program']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /exec: "no-such-program": executable file not found in \$PATH/);
    const bad = b.hako(['exec', '--process', join(b.dir, 'nope.json'), b.id]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /--process .*nope\.json/);
    const stopped = new Bundle(baseSpec('true'));
    try {
      assert.equal(stopped.hako(['run', '--keep', '-b', stopped.dir, stopped.id]).status, 0);
      const s = stopped.hako(['exec', stopped.id, 'true']);
      assert.equal(s.status, 1);
      assert.match(s.stderr, /cannot exec in a stopped container/);
    } finally {
      stopped.cleanup();
    }
  });
});
