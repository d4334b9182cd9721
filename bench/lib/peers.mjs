// The peers the bench runs against, each private to one bench run and on loopback only:
// a dockerd (own data root, exec root, socket, pidfile, cgroup parent; no bridge, no
// iptables; it starts its own containerd) and Debian's docker-registry on 127.0.0.1.
// The approach is test/interop/dockerd.ts's and test/helpers/registry.ts's, copied so
// the bench does not depend on the tsc build of the tests.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cmdline, comm, inCgroup, mountsUnder, pids, processesMentioning, removeCgroupTree, sh } from './procs.mjs';

export const DOCKERD = ['/usr/sbin/dockerd', '/usr/bin/dockerd'].find((p) => existsSync(p));
export const CONTAINERD = ['/usr/bin/containerd', '/usr/sbin/containerd'].find((p) => existsSync(p));
/** Debian's docker CLI (docker.io), the one that matches its dockerd; else whatever is on PATH. */
export const DOCKER = existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';
export const REGISTRY = '/usr/bin/docker-registry';

export class Dockerd {
  /** DIR: a directory of this bench run; TAG: a short unique word for names. */
  constructor(dir, tag) {
    this.dir = dir;
    mkdirSync(dir, { recursive: true });
    this.socket = join(dir, 'docker.sock');
    this.cgroupParent = `hako-bench-docker-${tag}`;
    this.log = join(dir, 'dockerd.log');
    mkdirSync(join(dir, 'cli'), { recursive: true });
    this.env = { ...process.env, DOCKER_HOST: `unix://${this.socket}`, DOCKER_CONFIG: join(dir, 'cli') };
    delete this.env.DOCKER_CONTEXT;
    this.child = undefined;
  }

  async start(timeoutMs = 90_000) {
    const args = [
      '--data-root', join(this.dir, 'data'),
      '--exec-root', join(this.dir, 'exec'),
      '-H', `unix://${this.socket}`,
      '--pidfile', join(this.dir, 'dockerd.pid'),
      '--bridge=none', '--iptables=false', '--ip6tables=false',
      '--exec-opt', 'native.cgroupdriver=cgroupfs',
      '--cgroup-parent', `/${this.cgroupParent}`,
    ];
    const fd = openSync(this.log, 'a');
    try {
      // Its own session: a ^C to the bench must not stop dockerd before its containers are removed.
      this.child = spawn(DOCKERD, args, { stdio: ['ignore', fd, fd], detached: true });
    } finally {
      closeSync(fd);
    }
    let dead = false;
    this.exited = new Promise((resolve) => this.child.once('exit', () => ((dead = true), resolve())));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (dead) throw new Error(`dockerd exited before it was ready:\n${this.logTail()}`);
      if (this.docker(['info', '--format', '{{.ServerVersion}}'], { timeoutMs: 10_000 }).status === 0) return;
      if (Date.now() > deadline) throw new Error(`dockerd not ready after ${timeoutMs / 1000}s:\n${this.logTail()}`);
      await sleep(250);
    }
  }

  docker(args, opts = {}) {
    return sh(DOCKER, args, { ...opts, env: this.env });
  }

  get pid() {
    return this.child?.pid;
  }

  /** The containerd this dockerd started (its command line names our exec root). */
  containerdPid() {
    return pids().find((p) => comm(p) === 'containerd' && cmdline(p).includes(this.dir));
  }

  logTail(lines = 30) {
    try {
      return readFileSync(this.log, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no dockerd log)';
    }
  }

  /** dockerd, containerd, shims and containers of this daemon. */
  processes() {
    const byCmd = new Set(processesMentioning([this.dir]));
    for (const p of pids()) if (p !== process.pid && inCgroup(p, `/${this.cgroupParent}/`)) byCmd.add(p);
    return [...byCmd];
  }

  /** Removes every container, stops dockerd and what it started; returns what needed force. */
  async stop() {
    const problems = [];
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) {
      const ids = this.docker(['ps', '-aq'], { timeoutMs: 20_000 }).stdout.split('\n').filter(Boolean);
      if (ids.length) this.docker(['rm', '-f', ...ids], { timeoutMs: 120_000 });
      this.child.kill('SIGTERM');
      const stopped = await Promise.race([this.exited.then(() => true), sleep(30_000).then(() => false)]);
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
      } catch {}
    }
    for (let i = 0; i < 50 && this.processes().length; i++) await sleep(100);
    for (const target of mountsUnder(this.dir).reverse()) {
      const r = sh('umount', ['-l', target]);
      if (r.status !== 0) problems.push(`cannot unmount ${target}: ${r.stderr.trim()}`);
    }
    removeCgroupTree(this.cgroupParent, problems);
    rmSync(this.dir, { recursive: true, force: true });
    return problems;
  }
}

function probe(url) {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => req.destroy());
  });
}

async function freePort() {
  const s = http.createServer();
  await new Promise((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address();
  await new Promise((resolve) => s.close(() => resolve()));
  return port;
}

/** Debian's docker-registry (Distribution 2.8), plain http on 127.0.0.1, storage in DIR. */
export class Registry {
  constructor(dir) {
    this.dir = dir;
    mkdirSync(dir, { recursive: true });
  }

  async start() {
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      this.host = `127.0.0.1:${port}`;
      const config = join(this.dir, 'config.yml');
      writeFileSync(config, [
        'version: 0.1',
        'log:',
        '  level: warn',
        '  accesslog:',
        '    disabled: true',
        'storage:',
        '  filesystem:',
        `    rootdirectory: ${join(this.dir, 'storage')}`,
        '  delete:',
        '    enabled: true',
        'http:',
        `  addr: 127.0.0.1:${port}`,
        '  secret: hako-bench-secret',
        '',
      ].join('\n'));
      // REGISTRY_* variables would override the config file.
      const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REGISTRY_')));
      // Its own session (no ^C from the terminal) but killed with us (parent-death signal).
      const [bin, argv] = existsSync('/usr/bin/setpriv') ? ['/usr/bin/setpriv', ['--pdeathsig', 'KILL', '--', REGISTRY, 'serve', config]] : [REGISTRY, ['serve', config]];
      const child = spawn(bin, argv, { stdio: ['ignore', 'ignore', 'pipe'], env, detached: true });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
      let exited = false;
      child.once('exit', () => (exited = true));
      this.exited = new Promise((resolve) => child.once('exit', resolve));
      this.child = child;
      const deadline = Date.now() + 15_000;
      while (!exited && Date.now() < deadline) {
        if ((await probe(`http://${this.host}/v2/`)) !== undefined) return;
        await sleep(50);
      }
      child.kill('SIGKILL');
      if (attempt < 3 && /address already in use/.test(stderr)) continue;
      throw new Error(`docker-registry did not start (${exited ? `exit ${child.exitCode}` : 'timeout'}): ${stderr}`);
    }
  }

  async stop() {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await this.exited;
      clearTimeout(t);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
