import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { baseRootfs, REPO } from '../helpers/bundle.ts';

/** What `--add-runtime hako=…` points at; HAKO_TEST_DOCKER_RUNTIME overrides it (e.g. a wrapper logging each call). */
export const HAKO_RUNTIME = process.env['HAKO_TEST_DOCKER_RUNTIME'] || join(REPO, 'bin', 'hako-runtime');
export const IMAGE = 'hako-test/busybox:latest';
const DOCKERD = ['/usr/sbin/dockerd', '/usr/bin/dockerd'].find((p) => existsSync(p));
const CONTAINERD = ['/usr/bin/containerd', '/usr/sbin/containerd'].find((p) => existsSync(p));

/** Why a private dockerd cannot run here, or undefined if it can. */
export function whyNoDockerd(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root: dockerd, containerd and the runtime create namespaces, mounts and cgroups';
  if (!DOCKERD || !CONTAINERD) return "Debian's docker.io is not installed (dockerd/containerd missing; scripts/peers installs it)";
  if (!which('docker')) return 'no docker CLI on PATH';
  return undefined;
}

function which(cmd: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(':')) {
    if (dir && existsSync(join(dir, cmd))) return join(dir, cmd);
  }
  return undefined;
}

export interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * A dockerd of this test alone: its own data root, exec root, socket, pidfile and
 * cgroup parent, no bridge and no iptables (no host network changes). dockerd starts
 * its own containerd (under the exec root). `hako` is registered with --add-runtime.
 */
export class Dockerd {
  readonly dir = mkdtempSync('/tmp/hako-docker-');
  readonly socket = `/run/hako-test-docker-${process.pid}.sock`;
  /** Containers go below this cgroup (cgroupsPath /<cgroupParent>/<id>), never /docker. */
  readonly cgroupParent = `hako-test-docker-${process.pid}`;
  readonly log = join(this.dir, 'dockerd.log');
  readonly env: NodeJS.ProcessEnv;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  readonly runtimes: Record<string, string>;

  constructor(runtimes: Record<string, string> = { hako: HAKO_RUNTIME }) {
    this.runtimes = runtimes;
    mkdirSync(join(this.dir, 'cli'));
    this.env = { ...process.env, DOCKER_HOST: `unix://${this.socket}`, DOCKER_CONFIG: join(this.dir, 'cli') };
    delete this.env['DOCKER_CONTEXT'];
  }

  /** The runtime's state root, as dockerd passes it (`--root`) to the runtime. */
  get runtimeRoot(): string {
    return join(this.dir, 'exec', 'runtime-runc', 'moby');
  }

  /** Where the shim keeps a container's bundle (config.json, log.json). */
  bundle(id: string): string {
    return join(this.dir, 'exec', 'containerd', 'daemon', 'io.containerd.runtime.v2.task', 'moby', id);
  }

  async start(timeoutMs = 60_000): Promise<void> {
    const args = [
      '--data-root', join(this.dir, 'data'),
      '--exec-root', join(this.dir, 'exec'),
      '-H', `unix://${this.socket}`,
      '--pidfile', join(this.dir, 'dockerd.pid'),
      '--bridge=none', '--iptables=false', '--ip6tables=false',
      '--exec-opt', 'native.cgroupdriver=cgroupfs',
      '--cgroup-parent', `/${this.cgroupParent}`,
      ...Object.entries(this.runtimes).flatMap(([name, path]) => ['--add-runtime', `${name}=${path}`]),
    ];
    const fd = openSync(this.log, 'a');
    try {
      this.child = spawn(DOCKERD!, args, { stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    const child = this.child;
    let dead = false;
    this.exited = new Promise((resolve) => child.once('exit', () => { dead = true; resolve(); }));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (dead) throw new Error(`dockerd exited before it was ready:\n${this.logTail()}`);
      if (this.docker(['info', '--format', '{{.ServerVersion}}'], { timeout: 10_000 }).status === 0) return;
      if (Date.now() > deadline) throw new Error(`dockerd not ready after ${timeoutMs / 1000}s:\n${this.logTail()}`);
      await sleep(250);
    }
  }

  docker(args: string[], opts: { input?: string | Buffer; timeout?: number } = {}): Result {
    const r = spawnSync('docker', args, { env: this.env, encoding: 'utf8', input: opts.input ?? '', timeout: opts.timeout ?? 60_000, maxBuffer: 64 << 20 });
    const timedOut = r.error ? ` (${r.error.message})` : '';
    return { status: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + timedOut };
  }

  /** hako-test/busybox from scripts/busybox-rootfs, imported (there is no registry). */
  importBusybox(): void {
    const tar = execFileSync('tar', ['-C', baseRootfs(), '-c', '.'], { maxBuffer: 256 << 20 });
    const r = spawnSync('docker', ['import', '-c', 'CMD ["sh"]', '-', IMAGE], { env: this.env, input: tar, encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0) throw new Error(`docker import failed: ${r.stderr}`);
  }

  logTail(lines = 40): string {
    try {
      return readFileSync(this.log, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no dockerd log)';
    }
  }

  /**
   * Removes every container, stops dockerd (which stops its containerd), then kills
   * what is left of this daemon's processes, unmounts what is left under the temp dir,
   * removes the cgroup parent and the temp dir. Returns what it had to clean up by
   * force or could not remove (empty: nothing was left behind).
   */
  async stop(): Promise<string[]> {
    const problems: string[] = [];
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) {
      const ids = this.docker(['ps', '-aq'], { timeout: 20_000 }).stdout.split('\n').filter(Boolean);
      if (ids.length) this.docker(['rm', '-f', ...ids], { timeout: 60_000 });
      this.child.kill('SIGTERM');
      const timer = new AbortController();
      const stopped = await Promise.race([this.exited.then(() => true), sleep(30_000, false, { signal: timer.signal }).catch(() => false)]);
      timer.abort();
      if (!stopped) {
        problems.push('dockerd did not stop within 30s of SIGTERM; killed');
        this.child.kill('SIGKILL');
        await this.exited;
      }
    }
    for (const pid of this.processes()) {
      problems.push(`process left: ${pid} ${cmdline(pid)}`);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    for (let i = 0; i < 50 && this.processes().length; i++) await sleep(100);
    // dockerd makes its data root a mount of its own; deepest first.
    for (const target of this.mounts().reverse()) {
      const r = spawnSync('umount', ['-l', target], { encoding: 'utf8' });
      if (r.status !== 0) problems.push(`cannot unmount ${target}: ${r.stderr.trim()}`);
    }
    for (const dir of this.cgroups().reverse()) {
      // The parent is expected (the runtime makes it for /<parent>/<id>); a container's own is a leak.
      if (!dir.endsWith(`/${this.cgroupParent}`)) problems.push(`cgroup left by a container: ${dir}`);
      for (let i = 0; ; i++) {
        try {
          rmdirSync(dir);
          break;
        } catch (e) {
          if (i >= 20) {
            problems.push(`cannot remove cgroup ${dir}: ${(e as Error).message}`);
            break;
          }
          await sleep(100);
        }
      }
    }
    rmSync(this.socket, { force: true });
    rmSync(this.dir, { recursive: true, force: true });
    for (const left of [...this.processes().map((p) => `process ${p} ${cmdline(p)}`), ...this.mounts().map((m) => `mount ${m}`), ...this.cgroups().map((c) => `cgroup ${c}`)]) {
      problems.push(`still there after cleanup: ${left}`);
    }
    if (existsSync(this.dir)) problems.push(`still there after cleanup: ${this.dir}`);
    return problems;
  }

  /** dockerd, containerd and shims of this daemon (their command lines name the temp dir). */
  processes(): number[] {
    const found: number[] = [];
    for (const name of readdirSync('/proc')) {
      const pid = Number(name);
      if (!Number.isInteger(pid) || pid === process.pid) continue;
      const cmd = cmdline(pid);
      if (cmd.includes(this.dir) || cmd.includes(this.socket)) found.push(pid);
      else if (this.inOurCgroup(pid)) found.push(pid);
    }
    return found;
  }

  private inOurCgroup(pid: number): boolean {
    try {
      return readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(`/${this.cgroupParent}/`);
    } catch {
      return false;
    }
  }

  mounts(): string[] {
    return readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4] ?? '')
      .filter((t) => t === this.dir || t.startsWith(this.dir + '/'));
  }

  /** This daemon's cgroup directories in every hierarchy, parents before children. */
  cgroups(): string[] {
    const found: string[] = [];
    const walk = (dir: string) => {
      found.push(dir);
      for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) walk(join(dir, e.name));
    };
    for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
      const [, post] = line.split(' - ');
      if (!post || !/^cgroup2? /.test(post)) continue;
      const dir = join(line.split(' ')[4]!, this.cgroupParent);
      if (existsSync(dir)) walk(dir);
    }
    return found;
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim() || `[${readlinkSync(`/proc/${pid}/exe`)}]`;
  } catch {
    return '';
  }
}
