import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { baseSpec, Bundle, HAKO } from '../helpers/bundle.ts';

const bundles: Bundle[] = [];
const bundle = (script: string) => {
  const b = new Bundle(baseSpec(script));
  bundles.push(b);
  return b;
};
after(() => bundles.forEach((b) => b.cleanup()));

const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));

describe('runtime run', () => {
  test('prints the command output and exits with its code', () => {
    const b = bundle('echo hello from inside; exit 0');
    const r = b.run();
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, 'hello from inside\n');
    assert.equal(r.status, 0);
    assert.deepEqual(b.leftovers(), []);
  });

  test('propagates a non-zero exit code', () => {
    const r = bundle('exit 3').run();
    assert.equal(r.status, 3);
  });

  test('a container killed by a signal exits 128+signal', () => {
    // Not PID 1 of a pid namespace: that one is immune to its own SIGKILL.
    const b = bundle('kill -9 $$');
    const spec = baseSpec('kill -9 $$');
    spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== 'pid');
    b.write(spec);
    const r = b.run();
    assert.equal(r.status, 137);
  });

  test('a missing program fails with a clear error before the container starts', () => {
    const b = bundle('true');
    const spec = baseSpec();
    spec.process!.args = ['/no/such/program'];
    b.write(spec);
    const r = b.run();
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^hako: exec \/no\/such\/program: No such file or directory$/m);
    assert.deepEqual(b.leftovers(), []);
  });

  test('--no-pivot enters the rootfs with MS_MOVE + chroot instead of pivot_root', () => {
    const r = bundle('cat /etc/passwd | head -n 1; ls /').run(['--no-pivot']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^root:x:0:0:root:\/root:\/bin\/sh\n/);
    assert.match(r.stdout, /\nbin\n/);
    assert.doesNotMatch(r.stdout, /\n(work|boot)\n/, 'the host root is not visible');
  });

  test('hako-runtime is the same runtime as a standalone runc-compatible executable', () => {
    const b = bundle('echo standalone');
    const r = spawnSync(join(HAKO, '..', 'hako-runtime'), ['--root', b.stateRoot, 'run', '-b', b.dir, b.id], { encoding: 'utf8' });
    assert.equal(r.stdout, 'standalone\n');
    assert.equal(r.status, 0);
  });

  test('run --detach returns at once and leaves the container running', () => {
    const b = bundle('sleep 30');
    const r = b.hako(['run', '--detach', '--bundle', b.dir, b.id]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(b.state().status, 'running');
    assert.equal(b.hako(['delete', '--force', b.id]).status, 0);
    assert.deepEqual(b.leftovers(), []);
  });
});

describe('runtime create/start/state/kill/delete', () => {
  test('create leaves init waiting; state goes created → running → stopped; delete leaves nothing', () => {
    const b = bundle('sleep 30');
    const pidFile = join(b.dir, 'init.pid');
    const c = b.hako(['create', '--bundle', b.dir, '--pid-file', pidFile, b.id]);
    assert.equal(c.status, 0, c.stderr);
    // The CLI has exited; the container's init outlives it.
    const st = b.state();
    assert.equal(st.status, 'created');
    assert.equal(st['id'], b.id);
    assert.equal(st['bundle'], b.dir);
    assert.equal(st['ociVersion'], '1.2.0');
    assert.equal(Number(readFileSync(pidFile, 'utf8')), st.pid);
    assert.ok(alive(st.pid));

    const s = b.hako(['start', b.id]);
    assert.equal(s.status, 0, s.stderr);
    assert.equal(b.state().status, 'running');

    const again = b.hako(['start', b.id]);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /cannot start an already running container/);

    const del = b.hako(['delete', b.id]);
    assert.equal(del.status, 1);
    assert.match(del.stderr, /cannot delete container .* that is not stopped: running/);

    assert.equal(b.hako(['kill', b.id, 'KILL']).status, 0);
    for (let i = 0; i < 200 && b.state().status !== 'stopped'; i++) spawnSync('sleep', ['0.01']);
    const stopped = b.state();
    assert.equal(stopped.status, 'stopped');
    assert.equal(stopped.pid, 0);
    assert.equal(b.hako(['kill', b.id]).status, 1);

    assert.equal(b.hako(['delete', b.id]).status, 0);
    assert.ok(!alive(st.pid));
    assert.deepEqual(b.leftovers(), []);
    const gone = b.hako(['state', b.id]);
    assert.equal(gone.status, 1);
    assert.match(gone.stderr, /does not exist/);
  });

  test('start succeeds for a program that exits at once (the init writes, execs and dies fast)', () => {
    const b = bundle('true');
    for (let i = 0; i < 20; i++) {
      const id = `${b.id}-fast${i}`;
      assert.equal(b.hako(['create', '-b', b.dir, id]).status, 0);
      const s = b.hako(['start', id]);
      assert.equal(s.status, 0, `round ${i}: ${s.stderr}`);
      assert.equal(b.hako(['delete', '--force', id]).status, 0);
    }
    assert.deepEqual(b.leftovers(), []);
  });

  test('delete of a created container kills its waiting init', () => {
    const b = bundle('echo never');
    assert.equal(b.hako(['create', '--bundle', b.dir, b.id]).status, 0);
    const pid = b.state().pid;
    assert.equal(b.hako(['delete', b.id]).status, 0);
    assert.ok(!alive(pid));
    assert.deepEqual(b.leftovers(), []);
  });

  test('delete --force stops a running container; --force on a missing one succeeds', () => {
    const b = bundle('sleep 30');
    assert.equal(b.hako(['run', '-d', '-b', b.dir, b.id]).status, 0);
    const pid = b.state().pid;
    assert.equal(b.hako(['delete', '--force', b.id]).status, 0);
    assert.ok(!alive(pid));
    assert.equal(b.hako(['delete', '--force', 'no-such-container']).status, 0);
    assert.equal(b.hako(['delete', 'no-such-container']).status, 1);
    assert.deepEqual(b.leftovers(), []);
  });

  test('list shows containers as a table, as JSON and quietly', () => {
    const b = bundle('sleep 30');
    assert.equal(b.hako(['create', '-b', b.dir, b.id]).status, 0);
    const table = b.hako(['list']).stdout.split('\n');
    assert.match(table[0]!, /^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER$/);
    assert.match(table[1]!, new RegExp(`^${b.id}\\s+\\d+\\s+created\\s+${b.dir}\\s`));
    const json = JSON.parse(b.hako(['list', '--format', 'json']).stdout);
    assert.equal(json.length, 1);
    assert.equal(json[0].status, 'created');
    assert.equal(b.hako(['list', '-q']).stdout, `${b.id}\n`);
    assert.equal(b.hako(['delete', b.id]).status, 0);
  });

  test('kill --all signals every process in the container', () => {
    const b = bundle('sleep 30 & sleep 30 & wait');
    assert.equal(b.hako(['run', '-d', '-b', b.dir, b.id]).status, 0);
    assert.equal(b.hako(['kill', '--all', b.id, 'KILL']).status, 0);
    for (let i = 0; i < 200 && b.state().status !== 'stopped'; i++) spawnSync('sleep', ['0.01']);
    assert.equal(b.state().status, 'stopped');
    assert.equal(b.hako(['delete', b.id]).status, 0);
    assert.deepEqual(b.leftovers(), []);
  });

  test('global --log with --log-format json records errors as runc does', () => {
    const b = bundle('true');
    const log = join(b.dir, 'log.json');
    const r = spawnSync(HAKO, ['runtime', '--root', b.stateRoot, '--log', log, '--log-format', 'json', 'start', 'nope'], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    const entry = JSON.parse(readFileSync(log, 'utf8').trim().split('\n').pop()!);
    assert.equal(entry.level, 'error');
    assert.match(entry.msg, /container "nope" does not exist/);
    assert.ok(!Number.isNaN(Date.parse(entry.time)));
  });

  test('spec writes a config.json that validates, and refuses to overwrite one', () => {
    const b = bundle('true');
    const dir = join(b.dir, 'spec');
    spawnSync('mkdir', [dir]);
    assert.equal(b.hako(['spec', '--bundle', dir]).status, 0);
    const spec = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    assert.equal(spec.ociVersion, '1.2.0');
    assert.deepEqual(spec.process.args, ['sh']);
    const again = b.hako(['spec', '--bundle', dir]);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /exists/);
  });
});
