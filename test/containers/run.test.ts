import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { HAKO } from '../helpers/bundle.ts';
import { Engine } from '../helpers/engine.ts';

/**
 * `run` / `create` and their flags against real containers: what the container sees
 * (its output) and what is left on the host.
 */

const eng = new Engine('hako-run-');
const scratch = mkdtempSync('/tmp/hako-run-host-');
after(() => {
  eng.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI, asynchronously (tests run a few at a time), with stdin and environment of choice. */
function hako(args: string[], opts: { input?: string | Buffer; env?: NodeJS.ProcessEnv; timeout?: number } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const p = spawn(HAKO, ['--data-root', eng.root, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`hako ${args.join(' ')}: timed out\n${stderr}`));
    }, opts.timeout ?? 30_000);
    p.on('error', reject);
    p.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
    p.stdin.on('error', () => {}); // the container may not read it all
    p.stdin.end(opts.input ?? '');
  });
}

async function ok(args: string[], opts: { input?: string | Buffer; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const r = await hako(args, opts);
  assert.equal(r.status, 0, `hako ${args.join(' ')}: exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
}

/** `run --rm [FLAGS] busybox sh -c SCRIPT`, which must succeed: its stdout. */
function sh(script: string, flags: string[] = []): Promise<string> {
  return ok(['run', '--rm', ...flags, 'busybox', 'sh', '-c', script]);
}

/** The value of a /proc/self/status field inside a container run with FLAGS. */
async function status(flags: string[], ...fields: string[]): Promise<Record<string, string>> {
  const out = await sh('cat /proc/self/status', flags);
  const all = Object.fromEntries(out.split('\n').filter((l) => l.includes(':')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]));
  return Object.fromEntries(fields.map((f) => [f, all[f]!]));
}

function cidFile(): string {
  return join(scratch, `cid-${randomBytes(6).toString('hex')}`);
}

function readCid(file: string): string {
  return eng.track(readFileSync(file, 'utf8'));
}

function mountLine(mounts: string, target: string): string | undefined {
  return mounts.split('\n').find((l) => l.split(' ')[1] === target);
}

async function waitFor(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const DEFAULT_CAPS = '00000000a80425fb';

describe('run: exit codes and streams', { concurrency: 4 }, () => {
  test('echo hi prints exactly hi, nothing on stderr, exit 0', async () => {
    const r = await hako(['run', '--rm', 'busybox', 'echo', 'hi']);
    assert.deepEqual(r, { status: 0, stdout: 'hi\n', stderr: '' });
  });

  test(
    'a foreground run never loses output',
    async () => {
      const outs: string[] = [];
      for (let round = 0; round < 4; round++) {
        const rs = await Promise.all(Array.from({ length: 6 }, () => hako(['run', '--rm', 'busybox', 'echo', 'hi'])));
        outs.push(...rs.map((r) => `${r.status} ${JSON.stringify(r.stdout)}`));
      }
      assert.deepEqual(outs.filter((o) => o !== '0 "hi\\n"'), []);
    },
  );

  test("the container's exit code is run's", async () => {
    assert.equal((await hako(['run', '--rm', 'busybox', 'sh', '-c', 'exit 3'])).status, 3);
    // killed by a signal: 128 + signal, as Docker (under an init: PID 1 itself cannot be killed from inside)
    assert.equal((await hako(['run', '--rm', '--init', 'busybox', 'sh', '-c', 'kill -9 $$'])).status, 137);
  });

  test('a missing command exits 127 with Docker\'s message', async () => {
    const r = await hako(['run', '--rm', 'busybox', 'no-such-command']);
    assert.equal(r.status, 127);
    assert.match(r.stderr, /"no-such-command": executable file not found in \$PATH/);
    assert.equal(r.stdout, '');
  });

  test('a file that is not executable exits 126', async () => {
    const r = await hako(['run', '--rm', 'busybox', '/etc/passwd']);
    assert.equal(r.status, 126);
    assert.match(r.stderr, /permission denied/);
  });

  test('a bad flag exits 125 without creating anything', async () => {
    const r = await hako(['run', '--rm', '--no-such-flag', 'busybox', 'true']);
    assert.equal(r.status, 125);
    assert.match(r.stderr, /unknown flag: --no-such-flag/);
    const c = await hako(['create', '--no-such-flag', 'busybox']);
    assert.equal(c.status, 125);
  });

  test('an unknown image exits 125: Unable to find image', async () => {
    const r = await hako(['run', '--rm', 'no-such-image-here', 'true']);
    assert.equal(r.status, 125);
    assert.match(r.stderr, /Unable to find image 'no-such-image-here/);
  });

  test('stdout and stderr stay apart', async () => {
    const r = await hako(['run', '--rm', 'busybox', 'sh', '-c', 'echo out1; echo err1 >&2; echo out2; echo err2 >&2']);
    assert.equal(r.status, 0);
    assert.equal(r.stdout, 'out1\nout2\n');
    assert.equal(r.stderr, 'err1\nerr2\n');
  });

  test('-i passes piped stdin to the container', async () => {
    assert.equal(await ok(['run', '-i', '--rm', 'busybox', 'cat'], { input: 'data\n' }), 'data\n');
    assert.equal(await ok(['run', '-i', '--rm', 'busybox', 'wc', '-c'], { input: '' }), '0\n');
  });

  test('-i carries megabytes both ways unchanged', async () => {
    const data = randomBytes(2 * 1024 * 1024);
    const out = await ok(['run', '-i', '--rm', 'busybox', 'sha256sum'], { input: data });
    assert.equal(out.split(' ')[0], createHash('sha256').update(data).digest('hex'));
    const big = await ok(['run', '--rm', 'busybox', 'sh', '-c', 'yes 0123456789abcdef | head -c 3000000']);
    assert.equal(big.length, 3_000_000);
  });

  test("without -i the container's stdin is empty", async () => {
    const r = await hako(['run', '--rm', 'busybox', 'sh', '-c', 'cat; echo "[eof]"'], { input: 'data\n' });
    assert.equal(r.status, 0);
    assert.equal(r.stdout, '[eof]\n');
  });

  test('-a stdout shows only stdout, -a stderr only stderr', async () => {
    const script = 'echo out; echo err >&2; exit 4';
    const o = await hako(['run', '--rm', '-a', 'stdout', 'busybox', 'sh', '-c', script]);
    assert.deepEqual(o, { status: 4, stdout: 'out\n', stderr: '' });
    const e = await hako(['run', '--rm', '-a', 'stderr', 'busybox', 'sh', '-c', script]);
    assert.deepEqual(e, { status: 4, stdout: '', stderr: 'err\n' });
  });
});

describe('run: process settings', { concurrency: 4 }, () => {
  test('-e K=V, -e K from the CLI\'s environment, an unset -e K left out', async () => {
    const out = await ok(['run', '--rm', '-e', 'A=1', '-e', 'B=x=y', '-e', 'FROM_CLI', '-e', 'NOT_SET_ANYWHERE', 'busybox', 'env'], {
      env: { ...process.env, FROM_CLI: 'cli value', NOT_SET_ANYWHERE: undefined },
    });
    const env = out.split('\n');
    assert.ok(env.includes('A=1'), out);
    assert.ok(env.includes('B=x=y'), out);
    assert.ok(env.includes('FROM_CLI=cli value'), out);
    assert.ok(!out.includes('NOT_SET_ANYWHERE'), out);
    // Docker's defaults are still there
    assert.ok(env.includes('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'), out);
    assert.ok(env.includes('HOME=/root'), out);
    assert.ok(env.some((e) => /^HOSTNAME=[0-9a-f]{12}$/.test(e)), out);
  });

  test('--env-file: comments skipped, bare names from the CLI\'s environment, -e wins', async () => {
    const file = join(scratch, 'env-file');
    writeFileSync(file, '# a comment\nFILE_A=from file\n\nFILE_BARE\nFILE_UNSET\nOVERRIDDEN=file\n');
    const out = await ok(['run', '--rm', '--env-file', file, '-e', 'OVERRIDDEN=flag', 'busybox', 'env'], {
      env: { ...process.env, FILE_BARE: 'bare value', FILE_UNSET: undefined },
    });
    const env = out.split('\n');
    assert.ok(env.includes('FILE_A=from file'), out);
    assert.ok(env.includes('FILE_BARE=bare value'), out);
    assert.ok(env.includes('OVERRIDDEN=flag'), out);
    assert.ok(!out.includes('FILE_UNSET'), out);
    assert.ok(!out.includes('comment'), out);
  });

  test('-w sets the working directory; a relative one is refused', async () => {
    assert.equal(await sh('pwd', ['-w', '/tmp']), '/tmp\n');
    const r = await hako(['run', '--rm', '-w', 'tmp', 'busybox', 'pwd']);
    assert.equal(r.status, 125);
    assert.match(r.stderr, /the working directory 'tmp' is invalid, it needs to be an absolute path/);
  });

  test('-w creates a missing working directory (root-owned, 0755), even for another user', async () => {
    assert.equal(await sh('pwd; stat -c "%u %a" .', ['-w', '/made/for/me']), '/made/for/me\n0 755\n');
    assert.equal(await sh('pwd', ['-u', '1000', '-w', '/made/too']), '/made/too\n');
    const r = await hako(['run', '--rm', '-w', '/etc/passwd', 'busybox', 'pwd']);
    assert.equal(r.status, 125);
    assert.match(r.stderr, /Cannot mkdir: \/etc\/passwd is not a directory/);
  });

  test('-u 1000:1000, -u 1000 (its passwd group), -u nobody, -u with --group-add', async () => {
    assert.match(await sh('id', ['-u', '1000:1000']), /^uid=1000\(user\) gid=1000\(user\)/);
    assert.match(await sh('id -u; id -g', ['-u', '1000']), /^1000\n1000\n$/);
    assert.equal(await sh('id -u; id -g', ['-u', 'nobody']), '65534\n65534\n');
    assert.match(await sh('id -G', ['-u', 'nobody', '--group-add', '1234']), /^65534 1234\n$|^1234 65534\n$/);
    // a user that is not root has no effective capabilities, only the bounding set
    assert.deepEqual(await status(['-u', '1000'], 'CapEff', 'CapBnd'), { CapEff: '0000000000000000', CapBnd: DEFAULT_CAPS });
  });

  test('-u with an unknown user exits 125', async () => {
    const r = await hako(['run', '--rm', '-u', 'nosuchuser', 'busybox', 'id']);
    assert.equal(r.status, 125);
    assert.match(r.stderr, /unable to find user nosuchuser/);
  });

  test('--entrypoint replaces the image\'s and drops its Cmd; --entrypoint "" clears it', async () => {
    assert.equal(await ok(['run', '--rm', '--entrypoint', 'echo', 'busybox', 'a', 'b']), 'a b\n');
    // the image's CMD ["sh"] is not appended to a new entrypoint
    assert.equal(await ok(['run', '--rm', '--entrypoint', 'echo', 'busybox']), '\n');
    assert.equal(await ok(['run', '--rm', '--entrypoint', '', 'busybox', 'echo', 'c']), 'c\n');
    const r = await hako(['run', '--rm', '--entrypoint', '', 'busybox']);
    assert.equal(r.status, 125);
    assert.match(r.stderr, /no command specified/);
  });

  test('--hostname: hostname, /etc/hostname and inspect agree; the default is the short id', async () => {
    assert.equal(await sh('hostname; cat /etc/hostname', ['--hostname', 'myhost']), 'myhost\nmyhost\n');
    const cid = cidFile();
    const out = await sh('hostname; cat /etc/hostname', ['--cidfile', cid]);
    const id = readCid(cid);
    assert.equal(out, `${id.slice(0, 12)}\n${id.slice(0, 12)}\n`);
    const c = (await ok(['create', '-h', 'named-host', 'busybox'])).trim();
    eng.track(c);
    assert.equal(await ok(['inspect', '-f', '{{.Config.Hostname}}', c]), 'named-host\n');
  });

  test('--label and -l show in inspect', async () => {
    const id = eng.track(await ok(['create', '--label', 'a=b', '-l', 'c', '--label', 'k=v=w', 'busybox']));
    assert.deepEqual(JSON.parse(await ok(['inspect', '-f', '{{json .Config.Labels}}', id])), { a: 'b', c: '', k: 'v=w' });
  });

  test('--ulimit nofile sets both limits (at or below the hard limit root has here)', async () => {
    assert.equal(await sh('ulimit -Sn; ulimit -Hn', ['--ulimit', 'nofile=512:512']), '512\n512\n');
    assert.equal(await sh('ulimit -Sn; ulimit -Hn', ['--ulimit', 'nofile=256:1024']), '256\n1024\n');
    const r = await hako(['run', '--rm', '--ulimit', 'nofile=1024:256', 'busybox', 'true']);
    assert.equal(r.status, 125);
    assert.match(r.stderr, /soft limit must be less than or equal to hard limit/);
  });
});

describe('run: file systems and mounts', { concurrency: 4 }, () => {
  test('--read-only: / and /tmp read-only; /dev, /dev/shm, /proc fine; volumes and --tmpfs writable', async () => {
    const out = await sh(
      [
        'touch /x 2>&1; echo "root $?"',
        'touch /tmp/x 2>&1; echo "tmp $?"',
        'touch /dev/x && echo "dev $?"',
        'touch /dev/shm/x && echo "shm $?"',
        'touch /data/x && echo "volume $?"',
        'touch /scratch/x && echo "tmpfs $?"',
        'cat /proc/self/stat >/dev/null && echo "proc $?"',
      ].join('; '),
      ['--read-only', '-v', 'ro-rootfs-vol:/data', '--tmpfs', '/scratch'],
    );
    assert.match(out, /Read-only file system\nroot 1\n/);
    assert.match(out, /Read-only file system\ntmp 1\n/);
    for (const ok of ['dev 0', 'shm 0', 'volume 0', 'tmpfs 0', 'proc 0']) assert.ok(out.includes(`${ok}\n`), out);
    // the root mount itself is read-only
    const mounts = await sh('cat /proc/mounts', ['--read-only']);
    assert.match(mountLine(mounts, '/')!, /\sro[\s,]/);
    assert.match(mountLine(mounts, '/etc/hostname')!, /\sro[\s,]/);
  });

  test('--tmpfs /run:size=1m: a tmpfs with Docker\'s options and the size', async () => {
    const line = mountLine(await sh('cat /proc/mounts', ['--tmpfs', '/run:size=1m']), '/run');
    assert.ok(line, 'no /run mount');
    const [, , type, opts] = line.split(' ');
    assert.equal(type, 'tmpfs');
    for (const o of ['rw', 'nosuid', 'nodev', 'noexec', 'size=1024k']) assert.ok(opts!.split(',').includes(o), line);
  });

  test('-v HOSTDIR:/data: writes inside are on the host; :ro refuses writes', async () => {
    const dir = mkdtempSync(join(scratch, 'bind-'));
    writeFileSync(join(dir, 'from-host'), 'host\n');
    assert.equal(await sh('cat /data/from-host; echo inside > /data/from-container', ['-v', `${dir}:/data`]), 'host\n');
    assert.equal(readFileSync(join(dir, 'from-container'), 'utf8'), 'inside\n');
    const r = await hako(['run', '--rm', '-v', `${dir}:/data:ro`, 'busybox', 'sh', '-c', 'cat /data/from-host; echo no > /data/nope']);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, 'host\n');
    assert.match(r.stderr, /Read-only file system/);
    assert.ok(!existsSync(join(dir, 'nope')));
  });

  test('-v with a missing host directory creates it; a single file can be bound', async () => {
    const missing = join(scratch, 'made-by-v', 'deeper');
    await sh('echo made > /m/f', ['-v', `${missing}:/m`]);
    assert.equal(readFileSync(join(missing, 'f'), 'utf8'), 'made\n');
    const file = join(scratch, 'one-file');
    writeFileSync(file, 'single\n');
    assert.equal(await sh('cat /etc/one', ['-v', `${file}:/etc/one:ro`]), 'single\n');
  });

  test('-v NAME:/data: a named volume persists across containers and is listed', async () => {
    await sh('echo persisted > /data/f', ['-v', 'named-persist:/data']);
    assert.equal(await sh('cat /data/f', ['-v', 'named-persist:/data']), 'persisted\n');
    assert.ok((await ok(['volume', 'ls', '-q'])).split('\n').includes('named-persist'));
    const mountpoint = (await ok(['volume', 'inspect', '-f', '{{.Mountpoint}}', 'named-persist'])).trim();
    assert.equal(readFileSync(join(mountpoint, 'f'), 'utf8'), 'persisted\n');
  });

  test('-v /data: an anonymous volume, removed with --rm, kept without', async () => {
    const volumes = async () => (await ok(['volume', 'ls', '-q'])).split('\n');
    const line = mountLine(await sh('echo x > /anon/f; cat /proc/mounts', ['-v', '/anon']), '/anon');
    assert.ok(line, 'no /anon mount');
    const cid = cidFile();
    await ok(['run', '--cidfile', cid, '-v', '/kept', 'busybox', 'touch', '/kept/f']);
    const id = readCid(cid);
    const mounts = JSON.parse(await ok(['inspect', '-f', '{{json .Mounts}}', id])) as Array<{ Type: string; Name: string; Destination: string }>;
    const kept = mounts.find((m) => m.Destination === '/kept');
    assert.equal(kept?.Type, 'volume');
    assert.match(kept!.Name, /^[0-9a-f]{64}$/);
    assert.ok((await volumes()).includes(kept!.Name));
    assert.equal(readFileSync(join((await ok(['volume', 'inspect', '-f', '{{.Mountpoint}}', kept!.Name])).trim(), 'f'), 'utf8'), '');
    await ok(['rm', '-v', id]);
    assert.ok(!(await volumes()).includes(kept!.Name));
  });

  test('--rm removes the anonymous volumes, not the named ones', async () => {
    // the anonymous volume's name, from inside: its host path shows in the container's mountinfo
    const info = await sh('grep " /anon-rm " /proc/self/mountinfo', ['-v', '/anon-rm', '-v', 'named-rm:/named']);
    const name = info.match(/\/([0-9a-f]{64})\/_data /)?.[1];
    assert.ok(name, info);
    const volumes = (await ok(['volume', 'ls', '-q'])).split('\n');
    assert.ok(volumes.includes('named-rm'));
    assert.ok(!volumes.includes(name), `anonymous volume ${name} left`);
    assert.ok(!existsSync(join(eng.root, 'volumes', name)));
  });

  test('--mount type=bind (and readonly), a missing source refused', async () => {
    const dir = mkdtempSync(join(scratch, 'mount-bind-'));
    await sh('echo via-mount > /b/f', ['--mount', `type=bind,source=${dir},target=/b`]);
    assert.equal(readFileSync(join(dir, 'f'), 'utf8'), 'via-mount\n');
    const r = await hako(['run', '--rm', '--mount', `type=bind,src=${dir},dst=/b,readonly`, 'busybox', 'sh', '-c', 'cat /b/f; touch /b/g']);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, 'via-mount\n');
    assert.match(r.stderr, /Read-only file system/);
    const missing = await hako(['run', '--rm', '--mount', `type=bind,source=${join(scratch, 'not-there')},target=/b`, 'busybox', 'true']);
    assert.equal(missing.status, 125);
    assert.match(missing.stderr, /bind source path does not exist/);
    assert.ok(!existsSync(join(scratch, 'not-there')));
  });

  test('--mount type=volume persists and is listed; readonly refuses writes', async () => {
    await sh('echo v > /v/f', ['--mount', 'type=volume,source=mount-vol,target=/v']);
    assert.equal(await sh('cat /w/f', ['--mount', 'type=volume,src=mount-vol,dst=/w']), 'v\n');
    assert.ok((await ok(['volume', 'ls', '-q'])).split('\n').includes('mount-vol'));
    const r = await hako(['run', '--rm', '--mount', 'type=volume,source=mount-vol,target=/v,readonly', 'busybox', 'touch', '/v/g']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /Read-only file system/);
  });

  test('--mount type=tmpfs with tmpfs-size and tmpfs-mode', async () => {
    const out = await sh('cat /proc/mounts; stat -c "%a" /t', ['--mount', 'type=tmpfs,target=/t,tmpfs-size=2m,tmpfs-mode=1770']);
    const line = mountLine(out, '/t');
    assert.ok(line, 'no /t mount');
    assert.equal(line.split(' ')[2], 'tmpfs');
    assert.ok(line.split(' ')[3]!.split(',').includes('size=2048k'), line);
    assert.match(out, /\n1770\n$/);
  });

  test('a new named volume takes the image\'s content (copy-up), at create', async () => {
    assert.match(await sh('head -1 /etc/passwd', ['-v', 'copyup-etc:/etc']), /^root:x:0:0:/);
    const mp = (await ok(['volume', 'inspect', '-f', '{{.Mountpoint}}', 'copyup-etc'])).trim();
    assert.match(readFileSync(join(mp, 'passwd'), 'utf8'), /^root:x:0:0:/);
    assert.ok(existsSync(join(mp, 'group')));
    // Docker fills it when the container is created, before any start
    const id = eng.track(await ok(['create', '-v', 'copyup-at-create:/etc', 'busybox']));
    const mp2 = (await ok(['volume', 'inspect', '-f', '{{.Mountpoint}}', 'copyup-at-create'])).trim();
    assert.ok(existsSync(join(mp2, 'passwd')));
    assert.deepEqual(eng.leftovers().filter((l) => l.startsWith('mount:') && l.includes(id)), []);
    // anonymous volumes too, and --mount volumes
    assert.match(await sh('cat /etc/group', ['-v', '/etc']), /^root:x:0:/);
    assert.match(await sh('cat /etc/group', ['--mount', 'type=volume,target=/etc']), /^root:x:0:/);
  });

  test('an existing non-empty volume is not overwritten; nocopy leaves a new one empty', async () => {
    await sh('echo mine > /data/passwd', ['-v', 'copyup-used:/data']);
    assert.equal(await sh('cat /etc/passwd; ls /etc | grep -c group || true', ['-v', 'copyup-used:/etc']), 'mine\n0\n');
    assert.equal(await sh('ls /etc | grep -c passwd || true', ['-v', 'copyup-nocopy:/etc:nocopy']), '0\n');
    assert.equal(await sh('ls /etc | grep -c passwd || true', ['--mount', 'type=volume,source=copyup-nocopy2,target=/etc,volume-nocopy']), '0\n');
  });
});

describe("run: Docker's security defaults", { concurrency: 4 }, () => {
  test("capabilities, seccomp and no_new_privs: Docker's defaults", async () => {
    assert.deepEqual(await status([], 'CapEff', 'CapPrm', 'CapBnd', 'CapInh', 'Seccomp', 'NoNewPrivs'), {
      CapEff: DEFAULT_CAPS,
      CapPrm: DEFAULT_CAPS,
      CapBnd: DEFAULT_CAPS,
      CapInh: '0000000000000000',
      Seccomp: '2',
      NoNewPrivs: '0',
    });
  });

  test('--security-opt no-new-privileges, seccomp=unconfined', async () => {
    assert.deepEqual(await status(['--security-opt', 'no-new-privileges'], 'NoNewPrivs', 'Seccomp'), { NoNewPrivs: '1', Seccomp: '2' });
    assert.deepEqual(await status(['--security-opt', 'seccomp=unconfined'], 'NoNewPrivs', 'Seccomp'), { NoNewPrivs: '0', Seccomp: '0' });
  });

  test('the default seccomp profile blocks what Docker blocks', async () => {
    // unshare(2) of a new user namespace needs CAP_SYS_ADMIN under Docker's profile: EPERM
    const out = await sh('unshare -U true 2>&1; echo "rc $?"');
    assert.match(out, /rc 1\n$/);
    assert.match(await sh('unshare -U true 2>&1; echo "rc $?"', ['--security-opt', 'seccomp=unconfined', '--cap-add', 'SYS_ADMIN']), /rc 0\n$/);
  });

  test('--cap-drop ALL, --cap-add SYS_ADMIN', async () => {
    assert.deepEqual(await status(['--cap-drop', 'ALL'], 'CapEff', 'CapBnd'), { CapEff: '0000000000000000', CapBnd: '0000000000000000' });
    const sysAdmin = (0xa80425fb | (1 << 21)) >>> 0;
    assert.equal((await status(['--cap-add', 'SYS_ADMIN'], 'CapEff')).CapEff, sysAdmin.toString(16).padStart(16, '0'));
    assert.equal((await status(['--cap-drop', 'chown'], 'CapEff')).CapEff, ((0xa80425fb & ~1) >>> 0).toString(16).padStart(16, '0'));
  });

  test('masked paths and read-only /proc/sys', async () => {
    const out = await sh(
      [
        'for f in /proc/keys /proc/timer_list /proc/sched_debug; do [ -e $f ] && stat -c "$f %t,%T %s" $f; done',
        'echo "keys:$(cat /proc/keys | wc -c)"',
        '[ -d /proc/acpi ] && echo "acpi:$(ls -A /proc/acpi | wc -l)"',
        '(echo x > /proc/sys/kernel/domainname) 2>&1; echo "sys $?"',
        'cat /proc/mounts',
      ].join('; '),
    );
    assert.match(out, /^\/proc\/keys 1,3 0$/m); // /dev/null bound over it
    assert.match(out, /^\/proc\/timer_list 1,3 0$/m);
    assert.match(out, /^keys:0$/m);
    if (existsSync('/proc/acpi')) assert.match(out, /^acpi:0$/m);
    assert.match(out, /Read-only file system\nsys 1\n/);
    assert.match(mountLine(out, '/proc/sys')!, /\sro,/);
    for (const p of ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sysrq-trigger']) {
      if (existsSync(p)) assert.match(mountLine(out, p) ?? `${p}: not mounted`, /\sro,/);
    }
    assert.match(mountLine(out, '/sys')!, /\sro,/);
  });

  test('/etc/hosts has localhost, /etc/resolv.conf exists, one cgroup per container', async () => {
    const cid = cidFile();
    const out = await sh('cat /etc/hosts; echo ---; [ -f /etc/resolv.conf ] && echo resolv; echo ---; cat /proc/self/cgroup', ['--cidfile', cid]);
    const id = readCid(cid);
    const [hosts, resolv, cgroups] = out.split('---\n');
    assert.match(hosts!, /^127\.0\.0\.1\s+localhost$/m);
    assert.match(hosts!, /^::1\s+localhost/m);
    assert.equal(resolv, 'resolv\n');
    const lines = cgroups!.trim().split('\n');
    assert.ok(lines.length > 1, cgroups);
    for (const l of lines) assert.match(l, new RegExp(`^\\d+:[^:]*:/hako/${id}$`));
  });

  test('--privileged: every capability, no seccomp, the host\'s devices, writable /sys', async () => {
    const host = readFileSync('/proc/self/status', 'utf8').match(/^CapBnd:\s*(\S+)$/m)![1];
    const out = await sh('grep -E "^(CapEff|Seccomp):" /proc/self/status; ls /dev; cat /proc/mounts', ['--privileged']);
    assert.match(out, new RegExp(`^CapEff:\\s*${host}$`, 'm'));
    assert.match(out, /^Seccomp:\s*0$/m);
    const devs = new Set(out.split('\n'));
    const hostDevs = readdirSync('/dev').filter((d) => ['kmsg', 'loop0', 'tty0', 'vda', 'sda', 'nvme0n1'].includes(d));
    assert.ok(hostDevs.length > 0);
    for (const d of hostDevs) assert.ok(devs.has(d), `no /dev/${d} in a privileged container`);
    assert.match(mountLine(out, '/sys')!, /\srw,/);
    const plain = new Set((await sh('ls /dev')).split('\n'));
    for (const d of hostDevs) assert.ok(!plain.has(d), `/dev/${d} in an unprivileged container`);
  });
});

describe('run: resources', { concurrency: 3 }, () => {
  test('--memory, --cpus, --pids-limit, --cpuset-cpus in the container\'s cgroup', async () => {
    const out = await sh(
      'cd /sys/fs/cgroup; cat memory/memory.limit_in_bytes cpu/cpu.cfs_quota_us cpu/cpu.cfs_period_us pids/pids.max cpuset/cpuset.cpus',
      ['--memory', '64m', '--cpus', '0.5', '--pids-limit', '10', '--cpuset-cpus', '0'],
    );
    assert.equal(out, `${64 * 1024 * 1024}\n50000\n100000\n10\n0\n`);
  });

  test('the limits are on the host, in /sys/fs/cgroup/*/hako/<id>', async () => {
    const id = eng.track(await ok(['run', '-d', '--memory', '32m', '--pids-limit', '7', '--cpus', '1.5', 'busybox', 'sleep', '30']));
    try {
      const cg = (ctl: string, file: string) => readFileSync(join('/sys/fs/cgroup', ctl, 'hako', id, file), 'utf8').trim();
      assert.equal(cg('memory', 'memory.limit_in_bytes'), String(32 * 1024 * 1024));
      assert.equal(cg('pids', 'pids.max'), '7');
      assert.equal(cg('cpu', 'cpu.cfs_quota_us'), '150000');
      const pids = cg('pids', 'cgroup.procs').split('\n');
      assert.equal(pids.length, 1);
    } finally {
      await ok(['rm', '-f', id]);
    }
    for (const ctl of ['memory', 'pids', 'cpu']) assert.ok(!existsSync(join('/sys/fs/cgroup', ctl, 'hako', id)), `${ctl} cgroup left`);
  });

  test('--memory is enforced: a bigger allocation is OOM-killed', async () => {
    assert.equal(await sh('dd if=/dev/zero of=/dev/null bs=64M count=1 2>/dev/null; echo "rc $?"', ['--memory', '16m']), 'rc 137\n');
  });

  test('--pids-limit is enforced', async () => {
    // the outer shell, the inner one and three sleeps: the fourth fork fails
    const out = await sh('sh -c "for i in 1 2 3 4 5 6 7 8; do sleep 5 & done; echo all started" 2>&1; echo "rc $?"', ['--pids-limit', '5']);
    assert.match(out, /can't fork/);
    assert.ok(!out.includes('all started'), out);
    assert.match(out, /rc 2\n$/);
  });
});

describe('run: init, stop signal, --rm', { concurrency: 3 }, () => {
  test('--init: PID 1 is docker-init, the command runs, exit code propagates', async () => {
    assert.equal(await ok(['run', '--rm', '--init', 'busybox', 'cat', '/proc/1/cmdline']), '/sbin/docker-init\0--\0cat\0/proc/1/cmdline\0');
    assert.equal((await hako(['run', '--rm', '--init', 'busybox', 'sh', '-c', 'exit 7'])).status, 7);
    assert.equal(await ok(['run', '--rm', 'busybox', 'cat', '/proc/1/cmdline']), 'cat\0/proc/1/cmdline\0');
  });

  test('--init reaps orphaned zombies', async () => {
    // the orphan is re-parented to PID 1: docker-init must reap it
    const out = await sh('sh -c "sleep 0.2 &"; sleep 1; ps -o pid,stat,comm', ['--init']);
    assert.match(out, /^\s*1 \S+\s+docker-init$/m);
    assert.ok(!out.split('\n').slice(1).some((l) => /^\s*\d+ Z/.test(l)), out);
  });

  test('--init forwards stop to the command', async () => {
    const id = eng.track(await ok(['run', '-d', '--init', 'busybox', 'sleep', '60']));
    const t0 = Date.now();
    await ok(['stop', '-t', '8', id]);
    assert.ok(Date.now() - t0 < 5000, 'stop waited for the timeout');
    assert.equal(await ok(['inspect', '-f', '{{.State.ExitCode}}', id]), '143\n');
    await ok(['rm', id]);
  });

  test('--stop-signal and --stop-timeout: recorded and honoured by stop', async () => {
    const script = 'trap "echo got USR1; exit 0" USR1; trap "echo got TERM; exit 0" TERM; echo ready; while true; do sleep 0.1; done';
    const id = eng.track(await ok(['run', '-d', '--stop-signal', 'SIGUSR1', '--stop-timeout', '7', 'busybox', 'sh', '-c', script]));
    assert.equal(await ok(['inspect', '-f', '{{.Config.StopSignal}} {{.Config.StopTimeout}}', id]), 'SIGUSR1 7\n');
    await waitFor('ready', async () => (await ok(['logs', id])).includes('ready'));
    await ok(['stop', id]);
    assert.equal(await ok(['logs', id]), 'ready\ngot USR1\n');
    assert.equal(await ok(['inspect', '-f', '{{.State.ExitCode}}', id]), '0\n');
    await ok(['rm', id]);
  });

  test('--stop-timeout: a container ignoring the signal is killed after it', async () => {
    const script = 'trap "echo ignored" TERM; echo ready; while true; do sleep 0.1; done';
    const id = eng.track(await ok(['run', '-d', '--stop-timeout', '1', 'busybox', 'sh', '-c', script]));
    await waitFor('ready', async () => (await ok(['logs', id])).includes('ready'));
    const t0 = Date.now();
    await ok(['stop', id]);
    const took = Date.now() - t0;
    assert.ok(took >= 900 && took < 6000, `stop took ${took} ms`);
    assert.equal(await ok(['logs', id]), 'ready\nignored\n');
    assert.equal(await ok(['inspect', '-f', '{{.State.ExitCode}}', id]), '137\n');
    await ok(['rm', id]);
  });

  test('--rm leaves nothing behind', async () => {
    const cid = cidFile();
    assert.equal(await ok(['run', '--rm', '--cidfile', cid, '--memory', '32m', 'busybox', 'echo', 'gone']), 'gone\n');
    const id = readCid(cid);
    assert.equal(await ok(['ps', '-a', '-q', '--no-trunc', '--filter', `id=${id}`]), '');
    assert.deepEqual(eng.leftovers().filter((l) => l.includes(id)), []);
    // a failed start too
    const cid2 = cidFile();
    assert.equal((await hako(['run', '--rm', '--cidfile', cid2, 'busybox', 'no-such-command'])).status, 127);
    const id2 = readCid(cid2);
    assert.equal(await ok(['ps', '-a', '-q', '--no-trunc', '--filter', `id=${id2}`]), '');
    assert.deepEqual(eng.leftovers().filter((l) => l.includes(id2)), []);
  });
});

describe('create, start, names', { concurrency: 2 }, () => {
  test('create prints a 64-hex id, ps shows Created, start runs it', async () => {
    const out = await ok(['create', '--name', 'made-not-run', 'busybox', 'echo', 'created then started']);
    assert.match(out, /^[0-9a-f]{64}\n$/);
    const id = eng.track(out);
    const ps = async () => (await ok(['ps', '-a', '--no-trunc', '--filter', 'name=made-not-run', '--format', '{{.ID}} {{.Status}} {{.Names}}'])).trim();
    assert.equal(await ps(), `${id} Created made-not-run`);
    assert.deepEqual(eng.leftovers().filter((l) => l.startsWith('mount:') && l.includes(id)), []);
    assert.equal(await ok(['start', '-a', 'made-not-run']), 'created then started\n');
    assert.match(await ps(), new RegExp(`^${id} Exited \\(0\\) .* made-not-run$`));
  });

  test('a name in use: Docker\'s Conflict error (create exits 1, run 125)', async () => {
    const id = eng.track(await ok(['create', '--name', 'taken-name', 'busybox']));
    const conflict = `Conflict. The container name "/taken-name" is already in use by container "${id}". You have to remove (or rename) that container to be able to reuse that name.`;
    const c = await hako(['create', '--name', 'taken-name', 'busybox']);
    assert.equal(c.status, 1);
    assert.ok(c.stderr.includes(conflict), c.stderr);
    const r = await hako(['run', '--rm', '--name', 'taken-name', 'busybox', 'true']);
    assert.equal(r.status, 125);
    assert.ok(r.stderr.includes(conflict), r.stderr);
    assert.equal((await ok(['ps', '-a', '-q', '--filter', 'name=taken-name'])).trim().split('\n').length, 1);
  });

  test('-d prints the id and the container runs on', async () => {
    const out = await ok(['run', '-d', 'busybox', 'sh', '-c', 'echo detached; sleep 30']);
    assert.match(out, /^[0-9a-f]{64}\n$/);
    const id = eng.track(out);
    await waitFor('its output', async () => (await ok(['logs', id])) === 'detached\n');
    assert.equal(await ok(['inspect', '-f', '{{.State.Running}}', id]), 'true\n');
    await ok(['rm', '-f', id]);
  });
});

describe('run: networks', { concurrency: 2 }, () => {
  const ifaces = (procNetDev: string) =>
    procNetDev
      .split('\n')
      .slice(2)
      .filter(Boolean)
      .map((l) => l.split(':')[0]!.trim())
      .sort();

  test('--network none: only lo', async () => {
    assert.deepEqual(ifaces(await sh('cat /proc/net/dev', ['--network', 'none'])), ['lo']);
    const links = await sh('ip -o link', ['--network', 'none']);
    assert.deepEqual(links.trim().split('\n').map((l) => l.split(':')[1]!.trim()), ['lo']);
    // the default network (a bridge): eth0 besides lo
    assert.deepEqual(ifaces(await sh('cat /proc/net/dev')), ['eth0', 'lo']);
  });

  test("--network host: the host's interfaces and hostname", async () => {
    assert.deepEqual(ifaces(await sh('cat /proc/net/dev', ['--network', 'host'])), ifaces(readFileSync('/proc/net/dev', 'utf8')));
    assert.equal(await sh('hostname; cat /etc/hostname', ['--network', 'host']), `${hostname()}\n${hostname()}\n`);
  });
});
