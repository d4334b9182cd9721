import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { Dockerd, IMAGE, whyNoDockerd, type Result } from './dockerd.ts';

/**
 * Drop-in use with Debian's docker.io: a private dockerd with
 * `--add-runtime hako=bin/hako-runtime`, driven by the docker CLI. containerd's
 * runc shim calls hako-runtime exactly as it calls runc.
 */
describe('docker --runtime hako (Debian docker.io)', () => {
  const why = whyNoDockerd();
  let d: Dockerd | undefined;
  let startError: Error | undefined;
  const name = `hako-it-${process.pid}`;
  let detachedRunning = false;

  before(async () => {
    if (why) return;
    d = new Dockerd();
    try {
      await d.start();
      d.importBusybox();
    } catch (e) {
      startError = e as Error;
    }
  });

  after(async () => {
    if (!d) return;
    const problems = await d.stop();
    assert.deepEqual(problems, [], `left behind or forced:\n${problems.join('\n')}`);
  });

  /** The daemon, or a skip (no dockerd on this machine) / failure (it did not start). */
  function daemon(t: TestContext): Dockerd | undefined {
    if (why) {
      t.skip(`dockerd cannot run here: ${why}`);
      return undefined;
    }
    if (startError) throw startError;
    return d!;
  }

  const show = (r: Result) => `exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

  test('the daemon lists hako among its runtimes', (t) => {
    const dk = daemon(t);
    if (!dk) return;
    const r = dk.docker(['info', '--format', '{{json .Runtimes}}']);
    assert.equal(r.status, 0, show(r));
    assert.ok(Object.keys(JSON.parse(r.stdout)).includes('hako'), r.stdout);
  });

  test('docker run --rm prints hi', (t) => {
    const dk = daemon(t);
    if (!dk) return;
    const r = dk.docker(['run', '--runtime', 'hako', '--rm', IMAGE, 'echo', 'hi']);
    assert.equal(r.status, 0, show(r));
    assert.equal(r.stdout, 'hi\n');
  });

  test("the container's exit code is docker run's", (t) => {
    const dk = daemon(t);
    if (!dk) return;
    const r = dk.docker(['run', '--runtime', 'hako', '--rm', IMAGE, 'sh', '-c', 'exit 3']);
    assert.equal(r.status, 3, show(r));
  });

  test("the container is set up and confined as runc sets it up (Docker's defaults)", (t) => {
    const dk = daemon(t);
    if (!dk) return;
    // Capabilities, seccomp (Docker's default profile), sysctls, masked and read-only
    // paths, limits, /dev: what the process can observe, with runc as the reference.
    const probe = [
      'grep -E "^(Cap|Seccomp|NoNewPrivs)" /proc/self/status',
      'cat /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/net/ipv4/ping_group_range',
      'id; hostname; umask; cat /proc/self/oom_score_adj; ulimit -n; ulimit -Hn; ulimit -u',
      'echo x 2>/dev/null >/proc/sys/kernel/domainname; echo proc-sys-write=$?',
      'echo kcore=$(wc -c </proc/kcore) firmware=$(ls /sys/firmware | wc -l)',
      'ls /dev | tr "\\n" " "',
    ].join('; ');
    const run = (runtime: string) => dk.docker(['run', '--rm', '--runtime', runtime, '--hostname', 'probe', IMAGE, 'sh', '-c', probe]);
    const runc = run('runc');
    assert.equal(runc.status, 0, `runc: ${show(runc)}`);
    const hako = run('hako');
    assert.equal(hako.status, 0, show(hako));
    assert.equal(hako.stdout, runc.stdout);
  });

  test('docker run -d: a detached container, run by hako', (t) => {
    const dk = daemon(t);
    if (!dk) return;
    const r = dk.docker(['run', '-d', '--runtime', 'hako', '--name', name, IMAGE, 'sleep', '300']);
    assert.equal(r.status, 0, show(r));
    const id = r.stdout.trim();
    const running = dk.docker(['inspect', '-f', '{{.State.Running}} {{.HostConfig.Runtime}}', name]);
    assert.equal(running.stdout.trim(), 'true hako', show(running));
    // hako's own state file, in the root the shim gave it: the runtime really is hako.
    const state = JSON.parse(readFileSync(join(dk.runtimeRoot, id, 'state.json'), 'utf8'));
    assert.equal(typeof state, 'object');
    detachedRunning = true;
  });

  /** The tests below need the detached container; without it they skip, saying so. */
  function detached(t: TestContext): Dockerd | undefined {
    const dk = daemon(t);
    if (dk && !detachedRunning) {
      t.skip('the detached container did not start (see "docker run -d")');
      return undefined;
    }
    return dk;
  }

  test('docker exec runs in the container', (t) => {
    const dk = detached(t);
    if (!dk) return;
    const r = dk.docker(['exec', name, 'sh', '-c', 'echo $((6*7))']);
    assert.equal(r.status, 0, show(r));
    assert.equal(r.stdout, '42\n');
    const h = dk.docker(['exec', name, 'hostname']);
    assert.equal(h.status, 0, show(h));
    const id = dk.docker(['inspect', '-f', '{{.Id}}', name]).stdout.trim();
    assert.equal(h.stdout.trim(), id.slice(0, 12));
    const code = dk.docker(['exec', name, 'sh', '-c', 'exit 5']);
    assert.equal(code.status, 5, show(code));
    const input = dk.docker(['exec', '-i', name, 'cat'], { input: 'through stdin\n' });
    assert.equal(input.stdout, 'through stdin\n', show(input));
  });

  test('docker exec -t (the runtime gets --console-socket)', (t) => {
    const dk = detached(t);
    if (!dk) return;
    const r = dk.docker(['exec', '-t', name, 'tty']);
    assert.equal(r.status, 0, show(r));
    assert.match(r.stdout, /^\/dev\/pts\/\d+\r?\n$/);
  });

  test('docker top (runtime ps)', (t) => {
    const dk = detached(t);
    if (!dk) return;
    const r = dk.docker(['top', name]);
    assert.equal(r.status, 0, show(r));
    assert.match(r.stdout, /sleep 300/);
  });

  test('docker pause / unpause (runtime pause, resume)', (t) => {
    const dk = detached(t);
    if (!dk) return;
    try {
      const p = dk.docker(['pause', name]);
      assert.equal(p.status, 0, show(p));
      assert.equal(dk.docker(['inspect', '-f', '{{.State.Status}}', name]).stdout.trim(), 'paused');
    } finally {
      const u = dk.docker(['unpause', name]);
      assert.equal(u.status, 0, show(u));
    }
    assert.equal(dk.docker(['inspect', '-f', '{{.State.Status}}', name]).stdout.trim(), 'running');
  });

  test('docker stop -t 2 stops it within seconds; docker rm removes it', (t) => {
    const dk = detached(t);
    if (!dk) return;
    const id = dk.docker(['inspect', '-f', '{{.Id}}', name]).stdout.trim();
    const started = Date.now();
    // sleep as pid 1 ignores SIGTERM: docker sends SIGKILL after 2 s.
    const r = dk.docker(['stop', '-t', '2', name]);
    const took = Date.now() - started;
    assert.equal(r.status, 0, show(r));
    assert.ok(took < 10_000, `docker stop took ${took} ms`);
    assert.equal(dk.docker(['inspect', '-f', '{{.State.Running}}', name]).stdout.trim(), 'false');
    const rm = dk.docker(['rm', name]);
    assert.equal(rm.status, 0, show(rm));
    assert.notEqual(dk.docker(['inspect', name]).status, 0, 'the container is still there');
    assert.equal(existsSync(join(dk.runtimeRoot, id)), false, "hako's state for the container is still there");
    assert.deepEqual(dk.cgroups().filter((c) => c.includes(id)), [], "the container's cgroups are still there");
    detachedRunning = false;
  });

  test('docker run -t (a terminal: the runtime gets --console-socket)', (t) => {
    const dk = daemon(t);
    if (!dk) return;
    const r = dk.docker(['run', '-t', '--runtime', 'hako', '--rm', IMAGE, 'sh', '-c', 'tty; echo $TERM']);
    assert.equal(r.status, 0, show(r));
    assert.match(r.stdout, /^\/dev\/pts\/\d+\r?\nxterm\r?\n$/);
  });
});
