import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { CAPABILITIES } from '../../src/runtime/capabilities.ts';
import type { Spec, SpecMount } from '../../src/runtime/spec-types.ts';
import { defaultHostConfig, type ContainerConfig, type HostConfig } from '../../src/engine/container-config.ts';
import { mergeImageConfig } from '../../src/engine/container-merge.ts';
import { buildContainerSpec, detectHost } from '../../src/engine/container-spec.ts';
import { baseRootfs } from '../helpers/bundle.ts';
import { Dockerd, IMAGE, whyNoDockerd } from './dockerd.ts';

/**
 * hako's spec builder against the real Docker (Debian's docker.io 20.10): the same
 * `docker run` settings, dockerd's config.json (what it hands runc) next to
 * buildContainerSpec's. Seccomp, capabilities, masked and read-only paths, mounts and
 * namespaces must be the same; the differences that remain are asserted as such.
 */

type Seccomp = { defaultAction: string; defaultErrnoRet?: number; architectures?: string[]; syscalls?: Rule[] };
type Rule = { names: string[]; action: string; errnoRet?: number; args?: { index: number; value: number; valueTwo?: number; op: string }[] };

/** A rule as the kernel sees it: names in any order, missing fields at their OCI defaults. */
function normalSeccomp(s: Seccomp | undefined) {
  if (s === undefined) return undefined;
  const errno = (action: string, n: number | undefined) => (action === 'SCMP_ACT_ERRNO' ? (n ?? 1) : undefined);
  return {
    defaultAction: s.defaultAction,
    defaultErrno: errno(s.defaultAction, s.defaultErrnoRet),
    architectures: s.architectures ?? [],
    rules: (s.syscalls ?? [])
      .map((r) =>
        JSON.stringify({
          names: [...r.names].sort(),
          action: r.action,
          errno: errno(r.action, r.errnoRet),
          args: (r.args ?? []).map((a) => ({ index: a.index, value: a.value, valueTwo: a.valueTwo ?? 0, op: a.op })).sort((a, b) => a.index - b.index),
        }),
      )
      .sort(),
  };
}

const CAP_SETS = ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'] as const;
const capSets = (s: Spec) => Object.fromEntries(CAP_SETS.map((k) => [k, [...(s.process?.capabilities?.[k] ?? [])].sort()]));
/** Host paths differ by design (each engine keeps its files in its own place). */
const mountShape = (m: SpecMount) => ({ destination: m.destination, type: m.type, options: m.options ?? [] });

/** The capabilities dockerd 20.10 leaves out of "all": it stops at CAP_AUDIT_READ for the runc of its day. */
function newerThanDocker2010(): string[] {
  const last = detectHost().lastCap;
  return CAPABILITIES.filter((_, n) => n > CAPABILITIES.indexOf('CAP_AUDIT_READ') && n <= last);
}

function runcPath(): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(':').concat('/usr/sbin', '/usr/bin')) {
    if (dir && existsSync(join(dir, 'runc'))) return join(dir, 'runc');
  }
  return undefined;
}

describe("hako's container spec against dockerd's (Debian docker.io)", () => {
  const why = whyNoDockerd() ?? (runcPath() ? undefined : 'no runc on PATH');
  const scratch = mkdtempSync('/tmp/hako-spec-interop-');
  let d: Dockerd | undefined;
  let cannotStart: string | undefined;

  before(async () => {
    if (why) return;
    // A runtime that keeps the config.json dockerd wrote, then is runc. For --privileged:
    // runc cannot start it where the host's bounding set lacks a capability (this VM has
    // no CAP_SYS_RESOURCE), yet the spec dockerd wrote is what is compared.
    const capture = join(scratch, 'capture-runc');
    writeFileSync(
      capture,
      `#!/bin/sh\nprev=\nfor a in "$@"; do\n  if [ "$prev" = --bundle ]; then cp "$a/config.json" "${scratch}/$(basename "$a").json"; fi\n  prev=$a\ndone\nexec ${runcPath()} "$@"\n`,
    );
    chmodSync(capture, 0o755);
    d = new Dockerd({ capture });
    try {
      await d.start();
      d.importBusybox();
    } catch (e) {
      cannotStart = (e as Error).message;
    }
  });

  after(async () => {
    // the capture runtime is still called to delete containers: the scratch dir goes last
    const problems = d ? await d.stop() : [];
    rmSync(scratch, { recursive: true, force: true });
    assert.deepEqual(problems, [], `left behind or forced:\n${problems.join('\n')}`);
  });

  function daemon(t: TestContext): Dockerd | undefined {
    const reason = why ?? cannotStart;
    if (reason) {
      t.diagnostic(`skipped: dockerd cannot start here: ${reason}`);
      t.skip(`dockerd cannot start here: ${reason}`);
      return undefined;
    }
    return d!;
  }

  /** dockerd's config.json for `docker run -d FLAGS busybox sleep 300`, and its container id. */
  function dockerSpec(dk: Dockerd, flags: string[], runtime: 'runc' | 'capture'): { id: string; spec: Spec } {
    const r = dk.docker(['run', '-d', '--runtime', runtime, ...flags, IMAGE, 'sleep', '300']);
    if (runtime === 'capture') {
      // the id is printed even when the start fails (see above)
      const id = r.stdout.trim().split('\n')[0] ?? '';
      assert.match(id, /^[0-9a-f]{64}$/, `docker run: ${r.stderr}`);
      return { id, spec: JSON.parse(readFileSync(join(scratch, `${id}.json`), 'utf8')) };
    }
    assert.equal(r.status, 0, `docker run ${flags.join(' ')}: ${r.stderr}`);
    const id = r.stdout.trim();
    const spec = JSON.parse(readFileSync(join(dk.bundle(id), 'config.json'), 'utf8'));
    dk.docker(['rm', '-f', id]);
    return { id, spec };
  }

  function hakoSpec(id: string, c: Case): Spec {
    const config = mergeImageConfig({ Cmd: ['sleep', '300'], ...c.config }, { Cmd: ['sh'] }, IMAGE);
    return buildContainerSpec({
      id,
      config,
      hostConfig: { ...defaultHostConfig(), ...c.hc },
      rootfs: baseRootfs(),
      etcFiles: { hosts: '/hosts', hostname: '/hostname', resolvConf: '/resolv.conf' },
      mounts: [],
      ...(c.hc.Init ? { initPath: '/usr/bin/docker-init' } : {}),
      cgroupsPath: `/hako/${id}`,
    });
  }

  interface Case {
    name: string;
    flags: string[];
    hc: Partial<HostConfig>;
    config?: Partial<ContainerConfig>;
    runtime: 'runc' | 'capture';
  }
  const cases: Case[] = [
    { name: 'defaults', flags: [], hc: {}, runtime: 'runc' },
    { name: '--cap-add SYS_ADMIN', flags: ['--cap-add', 'SYS_ADMIN'], hc: { CapAdd: ['SYS_ADMIN'] }, runtime: 'runc' },
    { name: '--cap-drop ALL', flags: ['--cap-drop', 'ALL'], hc: { CapDrop: ['ALL'] }, runtime: 'runc' },
    { name: '--privileged', flags: ['--privileged'], hc: { Privileged: true }, runtime: 'capture' },
    {
      name: 'with many flags',
      flags: [
        '--read-only', '--tmpfs', '/run:size=1m,exec', '--init', '-u', '1000:1000', '-t', '--memory', '64m', '--cpus', '1.5',
        '--pids-limit', '50', '--ulimit', 'nofile=100:200', '--shm-size', '1m', '--sysctl', 'kernel.shm_rmid_forced=1',
        '--security-opt', 'no-new-privileges', '--oom-score-adj', '100', '--hostname', 'hh', '--domainname', 'dd.example',
        '--cpu-shares', '512', '-e', 'FOO=bar', '-w', '/tmp', '--group-add', '10', '--cap-add', 'net_admin', '--cap-drop', 'CAP_CHOWN',
      ],
      hc: {
        ReadonlyRootfs: true, Tmpfs: { '/run': 'size=1m,exec' }, Init: true, Memory: 64 << 20, NanoCpus: 1.5e9, PidsLimit: 50,
        Ulimits: [{ Name: 'nofile', Soft: 100, Hard: 200 }], ShmSize: 1 << 20, Sysctls: { 'kernel.shm_rmid_forced': '1' },
        SecurityOpt: ['no-new-privileges'], OomScoreAdj: 100, CpuShares: 512, GroupAdd: ['10'], CapAdd: ['net_admin'], CapDrop: ['CAP_CHOWN'],
      },
      config: { User: '1000:1000', Tty: true, Hostname: 'hh', Domainname: 'dd.example', Env: ['FOO=bar'], WorkingDir: '/tmp' },
      runtime: 'runc',
    },
  ];

  /** Resources without the zeros dockerd writes for "not set". */
  const resources = (s: Spec) => {
    const r = (s.linux?.resources ?? {}) as Record<string, Record<string, unknown> | undefined>;
    const set = (o: Record<string, unknown> | undefined) => Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== 0 && v !== false));
    return { memory: set(r['memory']), cpu: set(r['cpu']), pids: set(r['pids']) };
  };

  for (const c of cases) {
    test(`docker run ${c.name}: the same spec`, (t) => {
      const dk = daemon(t);
      if (!dk) return;
      const { id, spec: docker } = dockerSpec(dk, c.flags, c.runtime);
      const hako = hakoSpec(id, c);

      assert.deepEqual(normalSeccomp(hako.linux?.seccomp as Seccomp), normalSeccomp(docker.linux?.seccomp as Seccomp), 'seccomp');
      if (c.hc.Privileged) {
        assert.equal(hako.linux?.seccomp, undefined, 'a privileged container has no seccomp filter');
        // the one difference: capabilities dockerd 20.10 withholds only for the old runc's sake
        const extra = newerThanDocker2010();
        const expected = Object.fromEntries(Object.entries(capSets(docker)).map(([k, v]) => [k, v.length ? [...v, ...extra].sort() : v]));
        assert.deepEqual(capSets(hako), expected, 'capabilities: Docker 20.10 ∪ the capabilities it predates');
        if (extra.length) t.diagnostic(`expected difference: hako grants ${extra.join(', ')} too (dockerd 20.10 stops at CAP_AUDIT_READ)`);
      } else {
        assert.deepEqual(capSets(hako), capSets(docker), 'capabilities');
      }
      assert.deepEqual(hako.linux?.maskedPaths ?? [], docker.linux?.maskedPaths ?? [], 'maskedPaths');
      assert.deepEqual(hako.linux?.readonlyPaths ?? [], docker.linux?.readonlyPaths ?? [], 'readonlyPaths');
      assert.deepEqual(hako.mounts?.map(mountShape), docker.mounts?.map(mountShape), 'mounts');
      assert.deepEqual(hako.linux?.namespaces, docker.linux?.namespaces, 'namespaces');

      // and what else the same settings decide
      assert.deepEqual(hako.linux?.resources?.['devices'], docker.linux?.resources?.['devices'], 'device cgroup');
      assert.deepEqual(hako.linux?.sysctl, docker.linux?.sysctl, 'sysctls');
      assert.equal(hako.hostname, docker.hostname, 'hostname');
      assert.deepEqual(hako.process?.args, docker.process?.args, 'args');
      assert.deepEqual(hako.process?.user, docker.process?.user, 'user');
      assert.equal(hako.process?.cwd, docker.process?.cwd, 'cwd');
      assert.equal(hako.process?.terminal ?? false, docker.process?.terminal ?? false, 'terminal');
      assert.deepEqual(hako.process?.rlimits ?? [], docker.process?.rlimits ?? [], 'rlimits');
      assert.equal(hako.process?.noNewPrivileges ?? false, docker.process?.noNewPrivileges ?? false, 'noNewPrivileges');
      assert.equal(hako.process?.oomScoreAdj, docker.process?.oomScoreAdj, 'oomScoreAdj');
      assert.equal(hako.root?.readonly ?? false, docker.root?.readonly ?? false, 'root.readonly');
      assert.deepEqual(resources(hako), resources(docker), 'resources');
      // runc adds HOME at exec from the image's /etc/passwd; hako's runtime does not, so hako's spec has it
      assert.deepEqual(hako.process?.env?.filter((e) => !e.startsWith('HOME=')), docker.process?.env, 'env');
      if (c.hc.Privileged) {
        const paths = (s: Spec) => (s.linux?.devices ?? []).map((x) => `${x.path} ${x.type} ${x.major}:${x.minor}`);
        assert.deepEqual(paths(hako), paths(docker), 'the host devices of a privileged container');
      }
    });
  }
});
