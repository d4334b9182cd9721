import { execFileSync, spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, closeSync, cpSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultSpec } from '../../src/runtime/spec-default.ts';
import type { Spec } from '../../src/runtime/spec-types.ts';

export const REPO = join(import.meta.dirname, '..', '..', '..');
export const HAKO = join(REPO, 'bin', 'hako');
const BASE_ROOTFS = join(REPO, '.cache', 'rootfs', 'busybox');

/** The shared busybox rootfs, built once from Debian's busybox-static. */
export function baseRootfs(): string {
  if (!existsSync(BASE_ROOTFS)) execFileSync(join(REPO, 'scripts', 'busybox-rootfs'), [BASE_ROOTFS], { stdio: 'inherit' });
  return BASE_ROOTFS;
}

/**
 * What `hako runtime spec` writes, made plain for tests: `sh -c SCRIPT` without a
 * terminal, a writable rootfs, no cgroup mount or namespace, no masked paths.
 */
export function baseSpec(script = 'true'): Spec {
  const spec = defaultSpec(false);
  spec.process = {
    terminal: false,
    user: { uid: 0, gid: 0 },
    args: ['sh', '-c', script],
    env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
    cwd: '/',
  };
  spec.root = { path: 'rootfs' };
  spec.hostname = 'box';
  spec.mounts = spec.mounts!.filter((m) => m.type !== 'cgroup');
  spec.linux = { namespaces: spec.linux!.namespaces!.filter((n) => n.type !== 'cgroup') };
  return spec;
}

let counter = 0;

/** A throw-away bundle (own rootfs copy) and a private state root for one test. */
export class Bundle {
  readonly dir: string;
  readonly rootfs: string;
  readonly stateRoot: string;
  readonly id: string;

  constructor(spec: Spec = baseSpec()) {
    this.dir = mkdtempSync('/tmp/hako-test-');
    // A container in a user namespace runs as a mapped uid that must reach its rootfs.
    chmodSync(this.dir, 0o755);
    this.rootfs = join(this.dir, 'rootfs');
    cpSync(baseRootfs(), this.rootfs, { recursive: true, verbatimSymlinks: true });
    this.stateRoot = join(this.dir, 'state');
    this.id = `t${process.pid}-${++counter}`;
    this.write(spec);
  }

  write(spec: Spec): void {
    writeFileSync(join(this.dir, 'config.json'), JSON.stringify(spec, null, 2));
  }

  /**
   * `hako runtime --root <private> ARGS`. Output goes through files, not pipes: after
   * `create` the container holds the CLI's stdout/stderr, and a pipe would stay open.
   */
  hako(args: string[], opts: { input?: string; timeout?: number } = {}): SpawnSyncReturns<string> {
    const outPath = join(this.dir, `.out-${process.pid}`);
    const errPath = join(this.dir, `.err-${process.pid}`);
    const outFd = openSync(outPath, 'w+');
    const errFd = openSync(errPath, 'w+');
    try {
      const r = spawnSync(HAKO, ['runtime', '--root', this.stateRoot, ...args], {
        encoding: 'utf8',
        timeout: opts.timeout ?? 30_000,
        input: opts.input ?? '',
        stdio: ['pipe', outFd, errFd],
      });
      return { ...r, stdout: readFileSync(outPath, 'utf8'), stderr: readFileSync(errPath, 'utf8') };
    } finally {
      closeSync(outFd);
      closeSync(errFd);
    }
  }

  /** `run` in the foreground and return what it printed and its exit status. */
  run(extra: string[] = []): SpawnSyncReturns<string> {
    return this.hako(['run', '--bundle', this.dir, ...extra, this.id]);
  }

  /** The same, but without blocking the test process (for tests that talk to it). */
  spawnRun(extra: string[] = []) {
    return spawn(HAKO, ['runtime', '--root', this.stateRoot, 'run', '--bundle', this.dir, ...extra, this.id], { stdio: ['ignore', 'pipe', 'pipe'] });
  }

  state(id = this.id): { status: string; pid: number; [k: string]: unknown } {
    const r = this.hako(['state', id]);
    if (r.status !== 0) throw new Error(`state ${id} failed: ${r.stderr}`);
    return JSON.parse(r.stdout);
  }

  /** Anything of this test's containers still on the host? (state, cgroups, mounts) */
  leftovers(): string[] {
    const found: string[] = [];
    if (existsSync(this.stateRoot) && readdirSync(this.stateRoot).length) found.push(`state: ${readdirSync(this.stateRoot).join(',')}`);
    for (const h of readdirSync('/sys/fs/cgroup')) {
      const dir = join('/sys/fs/cgroup', h, 'hako');
      if (!existsSync(dir)) continue;
      for (const d of readdirSync(dir)) if (d.startsWith(`t${process.pid}-`)) found.push(`cgroup: ${dir}/${d}`);
    }
    for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
      if (line.includes(this.dir)) found.push(`mount: ${line}`);
    }
    return found;
  }

  cleanup(): void {
    for (const id of existsSync(this.stateRoot) ? readdirSync(this.stateRoot) : []) this.hako(['delete', '--force', id]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Runs SCRIPT in a fresh container built from baseSpec() after MUTATE; returns stdout. */
export function runScript(script: string, mutate: (s: Spec, b: Bundle) => void = () => {}): SpawnSyncReturns<string> & { bundle: Bundle } {
  const b = new Bundle();
  try {
    const spec = baseSpec(script);
    mutate(spec, b);
    b.write(spec);
    return Object.assign(b.run(), { bundle: b });
  } finally {
    b.cleanup();
  }
}
