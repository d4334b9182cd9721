import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { storePaths } from '../../src/engine/store-paths.ts';
import { baseRootfs, HAKO, REPO } from './bundle.ts';

/** The busybox rootfs as a tar, built once per checkout. */
export function busyboxTar(): string {
  const tar = join(REPO, '.cache', 'busybox-rootfs.tar');
  if (!existsSync(tar)) {
    mkdirSync(join(REPO, '.cache'), { recursive: true });
    execFileSync('tar', ['-C', baseRootfs(), '-cf', `${tar}.tmp`, '.']);
    execFileSync('mv', [`${tar}.tmp`, tar]);
  }
  return tar;
}

/**
 * A private data root with a `busybox` image (CMD ["sh"]), driven through the real CLI,
 * and what it leaves behind on the host (leftovers), for the container tests.
 */
export class Engine {
  readonly root: string;

  constructor(prefix = 'hako-e-') {
    this.root = mkdtempSync(join('/tmp', prefix));
    this.ok(['import', '-c', 'CMD ["sh"]', busyboxTar(), 'busybox']);
  }

  hako(args: string[], opts: { input?: string; timeout?: number; env?: NodeJS.ProcessEnv } = {}): SpawnSyncReturns<string> {
    return spawnSync(HAKO, ['--data-root', this.root, ...args], {
      encoding: 'utf8',
      input: opts.input ?? '',
      timeout: opts.timeout ?? 60_000,
      ...(opts.env ? { env: opts.env } : {}),
    });
  }

  /** Runs and asserts exit 0; returns stdout. */
  ok(args: string[], opts: { input?: string; timeout?: number } = {}): string {
    const r = this.hako(args, opts);
    assert.equal(r.status, 0, `hako ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
    return r.stdout;
  }

  /** Async form, for many at once. */
  spawn(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const p = spawn(HAKO, ['--data-root', this.root, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d) => (stdout += d));
      p.stderr.on('data', (d) => (stderr += d));
      p.on('exit', (status) => resolve({ status, stdout, stderr }));
    });
  }

  /** Everything of this data root's containers still on the host: mounts, cgroups, monitor processes, container dirs. */
  leftovers(): string[] {
    const found: string[] = [];
    for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) if (line.includes(this.root)) found.push(`mount: ${line}`);
    const ids = new Set<string>();
    const containers = join(this.root, 'containers');
    if (existsSync(containers)) for (const d of readdirSync(containers)) (found.push(`dir: ${containers}/${d}`), ids.add(d));
    const snap = join(this.root, 'snapshots');
    for (const driver of ['overlay', 'copy']) {
      const dir = join(snap, driver, 'containers');
      if (existsSync(dir)) for (const d of readdirSync(dir)) found.push(`layer: ${dir}/${d}`);
    }
    const runtime = storePaths(this.root).runtime;
    if (existsSync(runtime)) for (const d of readdirSync(runtime)) found.push(`runtime state: ${runtime}/${d}`);
    for (const h of readdirSync('/sys/fs/cgroup')) {
      const dir = join('/sys/fs/cgroup', h, 'hako');
      if (!existsSync(dir)) continue;
      for (const d of readdirSync(dir)) if (/^[0-9a-f]{64}$/.test(d) && this.knownIds().has(d)) found.push(`cgroup: ${dir}/${d}`);
    }
    // Networks: a pinned namespace, firewall rules naming the container
    const netns = existsSync('/run/netns') ? readdirSync('/run/netns') : [];
    for (const id of this.knownIds()) if (netns.includes(`hako-${id.slice(0, 12)}`)) found.push(`netns: hako-${id.slice(0, 12)}`);
    const rules = spawnSync('iptables-save', [], { encoding: 'utf8' }).stdout ?? '';
    for (const line of rules.split('\n')) if ([...this.knownIds()].some((id) => line.includes(id))) found.push(`firewall rule: ${line}`);
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      try {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        if (cmd.includes('hako-monitor') && readFileSync(`/proc/${pid}/environ`, 'utf8') !== undefined) {
          const cwd = spawnSync('readlink', [`/proc/${pid}/cwd`], { encoding: 'utf8' }).stdout.trim();
          if (cwd.startsWith(this.root)) found.push(`monitor process: ${pid} in ${cwd}`);
        }
      } catch {
        // gone
      }
    }
    return found;
  }

  private seen = new Set<string>();

  /** Ids of every container this data root ever had (recorded by track()). */
  knownIds(): Set<string> {
    return this.seen;
  }

  track(id: string): string {
    this.seen.add(id.trim());
    return id.trim();
  }

  cleanup(): void {
    const ids = this.hako(['ps', '-aq', '--no-trunc']).stdout.split('\n').filter(Boolean);
    if (ids.length) this.hako(['rm', '-f', ...ids]);
    this.hako(['network', 'prune', '-f']); // bridges and rules are host-wide: they must not outlive the store
    rmSync(this.root, { recursive: true, force: true });
    rmSync(storePaths(this.root).runtime, { recursive: true, force: true });
  }
}
