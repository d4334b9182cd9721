// Process, mount and cgroup helpers shared by the bench (no dependency on the tsc build).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** spawnSync with utf8 output; CHECK throws with stderr on a non-zero exit. */
export function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    stdio: [opts.input !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    input: opts.input,
    env: opts.env ?? process.env,
    cwd: opts.cwd,
    timeout: opts.timeoutMs ?? 300_000,
    maxBuffer: 256 << 20,
  });
  const res = { status: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? ` (${r.error.message})` : '') };
  if (opts.check && res.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')}: exit ${res.status}\n${res.stderr.trim()}`);
  }
  return res;
}

export function which(cmd) {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(join(dir, cmd))) return join(dir, cmd);
  }
  return undefined;
}

export function cmdline(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim() || `[${readlinkSync(`/proc/${pid}/exe`)}]`;
  } catch {
    return '';
  }
}

export function pids() {
  return readdirSync('/proc').map(Number).filter((p) => Number.isInteger(p) && p > 0);
}

export function comm(pid) {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

export function ppid(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return 0;
  }
}

/** Resident memory of PID in KiB: VmRSS (status) and Pss (smaps_rollup). */
export function memory(pid) {
  const out = { rssKiB: NaN, pssKiB: NaN };
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    if (m) out.rssKiB = Number(m[1]);
  } catch {}
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    if (m) out.pssKiB = Number(m[1]);
  } catch {}
  return out;
}

/** Processes (other than ourselves) whose command line mentions one of NEEDLES. */
export function processesMentioning(needles) {
  return pids().filter((p) => p !== process.pid && needles.some((n) => cmdline(p).includes(n)));
}

export function inCgroup(pid, fragment) {
  try {
    return readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(fragment);
  } catch {
    return false;
  }
}

/** Mount points at or below DIR, in mount order (unmount in reverse). */
export function mountsUnder(dir) {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => (l.split(' ')[4] ?? '').replace(/\\040/g, ' '))
    .filter((t) => t === dir || t.startsWith(`${dir}/`));
}

/** Every cgroup hierarchy's mount point (v1 controllers and the v2 one). */
export function cgroupMounts() {
  const found = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [, post] = line.split(' - ');
    if (post && /^cgroup2? /.test(post)) found.push(line.split(' ')[4]);
  }
  return found;
}

/** Removes the cgroup directory REL (e.g. "hako-bench-docker-x") in every hierarchy, children first. */
export function removeCgroupTree(rel, problems = []) {
  for (const mnt of cgroupMounts()) {
    const top = join(mnt, rel);
    if (!existsSync(top)) continue;
    const dirs = [];
    const walk = (d) => {
      dirs.push(d);
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name));
    };
    try {
      walk(top);
    } catch {}
    for (const d of dirs.reverse()) {
      for (let i = 0; ; i++) {
        try {
          rmdirSync(d);
          break;
        } catch (e) {
          if (e.code === 'ENOENT') break;
          if (i >= 20) {
            problems.push(`cannot remove cgroup ${d}: ${e.message}`);
            break;
          }
          spawnSync('sleep', ['0.1']);
        }
      }
    }
  }
  return problems;
}

/**
 * A stopwatch process (bench/lib/timer.mjs), optionally behind a wrapper command
 * (the crun one runs in its own mount namespace).
 */
export class Stopwatch {
  constructor(node, timerScript, wrapper = [], work = undefined) {
    const argv = [...wrapper, node, timerScript, ...(work ? ['--work', work] : [])];
    this.child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
    this.pending = new Map();
    this.nextId = 1;
    this.dead = false;
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      const res = JSON.parse(line);
      const p = this.pending.get(res.id);
      this.pending.delete(res.id);
      p?.resolve(res);
    });
    this.child.on('exit', (code, signal) => {
      this.dead = true;
      for (const p of this.pending.values()) p.reject(new Error(`stopwatch exited (${signal ?? code})`));
      this.pending.clear();
    });
  }

  /** Runs CMD ARGS once; resolves { ms, status, stdout, stderr, … }. */
  run(cmd, args, opts = {}) {
    return this.request({ cmd, args, env: opts.env, cwd: opts.cwd, timeoutMs: opts.timeoutMs });
  }

  /** Starts every [cmd, args, opts] at once; resolves { ms (until the last exit), each }. */
  parallel(list, timeoutMs) {
    return this.request({ parallel: list.map(([cmd, args, opts = {}]) => ({ cmd, args, env: opts.env, cwd: opts.cwd })), timeoutMs });
  }

  request(obj) {
    if (this.dead) return Promise.reject(new Error('stopwatch is not running'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.stdin.write(`${JSON.stringify({ id, ...obj })}\n`);
    });
  }

  stop() {
    if (this.dead) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.stdin.end();
      setTimeout(() => this.child.kill('SIGKILL'), 3000).unref();
    });
  }
}
