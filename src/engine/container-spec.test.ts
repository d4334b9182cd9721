import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { CAPABILITIES } from '../runtime/capabilities.ts';
import type { SpecSeccomp } from '../runtime/seccomp.ts';
import type { Spec } from '../runtime/spec-types.ts';
import { defaultHostConfig, type ContainerConfig, type HostConfig } from './container-config.ts';
import { mergeImageConfig } from './container-merge.ts';
import { buildContainerSpec, DEFAULT_CAPABILITIES, MASKED_PATHS, READONLY_PATHS, tmpfsOptions, type HostFacts, type ResolvedMount } from './container-spec.ts';
import { defaultSeccomp, seccompFromProfile, type SeccompProfile } from './seccomp-default.ts';

const rootfs = mkdtempSync(join(tmpdir(), 'hako-container-spec-'));
after(() => rmSync(rootfs, { recursive: true, force: true }));
mkdirSync(join(rootfs, 'etc'));
writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n');
writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\napp:x:1000:\nwheel:x:10:app\naudio:x:29:\n');

const ID = '0123456789ab'.padEnd(64, 'f');
const HOST: HostFacts = {
  cgroupV2: false,
  apparmor: false,
  selinux: false,
  swapLimit: true,
  arch: 'amd64',
  kernel: '6.1.0-18-amd64',
  lastCap: 40,
  cpus: 4,
  sysctlExists: () => true,
  hostDevices: () => [{ path: '/dev/kvm', type: 'c', major: 10, minor: 232, fileMode: 0o660, uid: 0, gid: 0 }],
};

interface Opts {
  config?: Partial<ContainerConfig>;
  hc?: Partial<HostConfig>;
  mounts?: ResolvedMount[];
  host?: Partial<HostFacts>;
  initPath?: string;
}
function build(o: Opts = {}): Spec {
  const config = mergeImageConfig({ Cmd: ['sleep', '1'], ...o.config }, { Cmd: ['sh'], Env: ['PATH=/image/bin'] }, 'img');
  return buildContainerSpec(
    {
      id: ID,
      config,
      hostConfig: { ...defaultHostConfig(), ...o.hc },
      rootfs,
      etcFiles: { hosts: '/c/hosts', hostname: '/c/hostname', resolvConf: '/c/resolv.conf' },
      mounts: o.mounts ?? [],
      ...(o.initPath ? { initPath: o.initPath } : {}),
      cgroupsPath: `/hako/${ID}`,
    },
    { ...HOST, ...o.host },
  );
}
const fails = (o: Opts, code: string, re: RegExp) => assert.throws(() => build(o), (e: any) => e.code === code && re.test(e.message));
const dests = (s: Spec) => s.mounts!.map((m) => m.destination);
const mount = (s: Spec, d: string) => s.mounts!.find((m) => m.destination === d);
const seccomp = (s: Spec) => s.linux!.seccomp as SpecSeccomp | undefined;
const ruleNames = (s: SpecSeccomp | undefined) => new Set((s?.syscalls ?? []).flatMap((r) => r.names));

describe('the defaults of docker run', () => {
  const s = build();
  test('namespaces: mount, network, uts, pid, ipc; no cgroup namespace on cgroup v1', () => {
    assert.deepEqual(s.linux!.namespaces, [{ type: 'mount' }, { type: 'network' }, { type: 'uts' }, { type: 'pid' }, { type: 'ipc' }]);
  });
  test('cgroup v2: a cgroup namespace too', () => assert.ok(build({ host: { cgroupV2: true } }).linux!.namespaces!.some((n) => n.type === 'cgroup')));
  test("Docker's mounts, then the three /etc files bound rbind,rprivate", () => {
    assert.deepEqual(dests(s), ['/proc', '/dev', '/dev/pts', '/sys', '/sys/fs/cgroup', '/dev/mqueue', '/dev/shm', '/etc/resolv.conf', '/etc/hostname', '/etc/hosts']);
    assert.deepEqual(mount(s, '/dev/pts')!.options, ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5']);
    assert.deepEqual(mount(s, '/sys')!.options, ['nosuid', 'noexec', 'nodev', 'ro']);
    assert.deepEqual(mount(s, '/sys/fs/cgroup'), { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] });
    assert.deepEqual(mount(s, '/etc/hosts'), { destination: '/etc/hosts', type: 'bind', source: '/c/hosts', options: ['rbind', 'rprivate'] });
  });
  test('/dev/shm: 64 MiB unless --shm-size', () => {
    assert.deepEqual(mount(s, '/dev/shm')!.options, ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=67108864']);
    assert.ok(mount(build({ hc: { ShmSize: 1 << 20 } }), '/dev/shm')!.options!.includes('size=1048576'));
    assert.ok(mount(build({ hc: { ShmSize: 0 } }), '/dev/shm')!.options!.includes('size=67108864'));
  });
  test("Docker's 14 capabilities, in three sets for root", () => {
    assert.equal(DEFAULT_CAPABILITIES.length, 14);
    assert.deepEqual(s.process!.capabilities, { bounding: DEFAULT_CAPABILITIES, effective: DEFAULT_CAPABILITIES, permitted: DEFAULT_CAPABILITIES });
  });
  test('masked and read-only paths', () => {
    assert.deepEqual(s.linux!.maskedPaths, MASKED_PATHS);
    assert.deepEqual(s.linux!.readonlyPaths, READONLY_PATHS);
    assert.ok(MASKED_PATHS.includes('/proc/kcore') && READONLY_PATHS.includes('/proc/sys'));
  });
  test('the device cgroup: deny all, then the standard devices, and never /dev/rtc0', () => {
    const devices = s.linux!.resources!['devices'] as { allow: boolean; major?: number; minor?: number }[];
    assert.deepEqual(devices[0], { allow: false, access: 'rwm' });
    assert.deepEqual(devices.filter((d) => d.allow).map((d) => `${d.major}:${d.minor}`), ['1:5', '1:3', '1:9', '1:8', '5:0', '5:1']);
    assert.deepEqual(devices.at(-1), { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' });
  });
  test('the default seccomp profile', () => assert.equal(seccomp(s)!.defaultAction, 'SCMP_ACT_ERRNO'));
  test('hostname: the short id, also as HOSTNAME', () => {
    assert.equal(s.hostname, '0123456789ab');
    assert.ok(s.process!.env!.includes('HOSTNAME=0123456789ab'));
  });
  test('sysctls for a network namespace of its own: unprivileged ping and low ports', () => {
    assert.deepEqual(s.linux!.sysctl, { 'net.ipv4.ping_group_range': '0 2147483647', 'net.ipv4.ip_unprivileged_port_start': '0' });
    assert.deepEqual(build({ host: { sysctlExists: () => false } }).linux!.sysctl, {});
  });
  test('root, cgroups path, oomScoreAdj; no terminal, no apparmor, no rlimits', () => {
    assert.deepEqual(s.root, { path: rootfs });
    assert.equal(s.linux!.cgroupsPath, `/hako/${ID}`);
    assert.equal(s.process!.oomScoreAdj, 0);
    assert.equal(s.process!.terminal, undefined);
    assert.equal(s.process!.apparmorProfile, undefined);
    assert.equal(s.process!.rlimits, undefined);
    assert.equal(s.process!.noNewPrivileges, undefined);
  });
});

describe('process', () => {
  test('args are Entrypoint + Cmd', () => assert.deepEqual(build({ config: { Entrypoint: ['/e'], Cmd: ['a'] } }).process!.args, ['/e', 'a']));
  test("env: the image's PATH replaces the default in place; TERM with -t", () => {
    const env = build({ config: { Tty: true, Env: ['X=1'] } }).process!.env;
    assert.deepEqual(env, ['PATH=/image/bin', 'HOSTNAME=0123456789ab', 'TERM=xterm', 'X=1', 'HOME=/root']);
  });
  test('env: PATH has a default when the image has none', () => {
    const s = buildContainerSpec(
      { id: ID, config: mergeImageConfig({}, { Cmd: ['sh'] }, 'i'), hostConfig: defaultHostConfig(), rootfs, etcFiles: { hosts: 'h', hostname: 'n', resolvConf: 'r' }, mounts: [], cgroupsPath: '/c' },
      HOST,
    );
    assert.ok(s.process!.env!.includes('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'));
  });
  test('env: a bare NAME unsets it', () => assert.ok(!build({ config: { Env: ['PATH'] } }).process!.env!.some((e) => e.startsWith('PATH='))));
  test('-t: a terminal', () => assert.equal(build({ config: { Tty: true } }).process!.terminal, true));
  test('cwd', () => {
    assert.equal(build().process!.cwd, '/');
    assert.equal(build({ config: { WorkingDir: '/srv' } }).process!.cwd, '/srv');
  });
  test("-u name: from the image's /etc/passwd and /etc/group; HOME too", () => {
    const p = build({ config: { User: 'app' } }).process!;
    assert.deepEqual(p.user, { uid: 1000, gid: 1000, additionalGids: [1000, 10] });
    assert.ok(p.env!.includes('HOME=/home/app'));
  });
  test('--group-add, by name or gid', () => assert.deepEqual(build({ config: { User: '1000:1000' }, hc: { GroupAdd: ['audio', '4242'] } }).process!.user.additionalGids, [1000, 29, 4242]));
  test('an unknown user is an error', () => assert.throws(() => build({ config: { User: 'nobody-here' } }), /unable to find user nobody-here/));
  test('not root: the bounding set only (execve would clear the others)', () => {
    assert.deepEqual(build({ config: { User: 'app' } }).process!.capabilities, { bounding: DEFAULT_CAPABILITIES });
  });
  test('--ulimit → rlimits; -1 is unlimited', () => {
    const r = build({ hc: { Ulimits: [{ Name: 'nofile', Soft: 100, Hard: 200 }, { Name: 'core', Soft: -1, Hard: -1 }] } }).process!.rlimits;
    assert.deepEqual(r, [{ type: 'RLIMIT_NOFILE', soft: 100, hard: 200 }, { type: 'RLIMIT_CORE', soft: 2 ** 64, hard: 2 ** 64 }]);
  });
  test('--ulimit: unknown name, soft above hard', () => {
    fails({ hc: { Ulimits: [{ Name: 'bogus', Soft: 1, Hard: 1 }] } }, 'invalid-argument', /--ulimit bogus: unknown ulimit/);
    fails({ hc: { Ulimits: [{ Name: 'nofile', Soft: 2, Hard: 1 }] } }, 'invalid-argument', /soft limit must be less than or equal to hard limit: 2 > 1/);
  });
  test('--oom-score-adj, in range', () => {
    assert.equal(build({ hc: { OomScoreAdj: 500 } }).process!.oomScoreAdj, 500);
    fails({ hc: { OomScoreAdj: 1001 } }, 'invalid-argument', /--oom-score-adj 1001/);
  });
  test('--hostname and --domainname (a sysctl, as Docker)', () => {
    const s = build({ config: { Hostname: 'web', Domainname: 'example.org' } });
    assert.equal(s.hostname, 'web');
    assert.equal(s.linux!.sysctl!['kernel.domainname'], 'example.org');
    assert.ok(s.process!.env!.includes('HOSTNAME=web'));
  });
});

describe('--init', () => {
  const s = build({ hc: { Init: true }, initPath: '/opt/hako-init' });
  test('the init runs the command', () => assert.deepEqual(s.process!.args, ['/sbin/docker-init', '--', 'sleep', '1']));
  test('bound read-only at /sbin/docker-init, after the defaults', () => {
    assert.deepEqual(s.mounts![7], { destination: '/sbin/docker-init', type: 'bind', source: '/opt/hako-init', options: ['bind', 'ro'] });
  });
  test('without an init binary: an error', () => fails({ hc: { Init: true } }, 'unsupported', /--init/));
});

describe('mounts', () => {
  const bind = (destination: string, options = ['rbind', 'rprivate']): ResolvedMount => ({ destination, type: 'bind', source: `/host${destination}`, options });
  test("the user's come after the defaults, parents first, otherwise in order", () => {
    const s = build({ mounts: [bind('/a/b/c'), bind('/z'), bind('/a')] });
    assert.deepEqual(dests(s).slice(7), ['/z', '/a', '/etc/resolv.conf', '/etc/hostname', '/etc/hosts', '/a/b/c']);
  });
  test('a user mount replaces the default at the same place', () => {
    const s = build({ mounts: [{ destination: '/dev/shm', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] }] });
    assert.deepEqual(s.mounts!.filter((m) => m.destination === '/dev/shm'), [{ destination: '/dev/shm', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] }]);
  });
  test('a user /dev drops every default under /dev', () => {
    assert.deepEqual(dests(build({ mounts: [bind('/dev')] })).slice(0, 4), ['/proc', '/sys', '/sys/fs/cgroup', '/dev']);
  });
  test("a user mount on /etc/hosts: hako's file is not bound", () => {
    const s = build({ mounts: [bind('/etc/hosts')] });
    assert.deepEqual(s.mounts!.filter((m) => m.destination === '/etc/hosts').map((m) => m.source), ['/host/etc/hosts']);
  });
  test('--tmpfs: noexec,nosuid,nodev,rprivate merged with the options given', () => {
    const s = build({ hc: { Tmpfs: { '/run': 'size=1m,exec', '/tmp': '' } } });
    assert.deepEqual(mount(s, '/run'), { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'rprivate', 'size=1m', 'exec'] });
    assert.deepEqual(mount(s, '/tmp')!.options, ['noexec', 'nosuid', 'nodev', 'rprivate']);
  });
  test('--tmpfs already resolved by the engine is not mounted twice', () => {
    const s = build({ hc: { Tmpfs: { '/run': '' } }, mounts: [{ destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['size=2m'] }] });
    assert.deepEqual(s.mounts!.filter((m) => m.destination === '/run').map((m) => m.options), [['size=2m']]);
  });
  test('--tmpfs: bad options and paths', () => {
    assert.throws(() => tmpfsOptions('size=1m,bogus', '/x'), (e: any) => e.code === 'invalid-argument' && /--tmpfs \/x: invalid tmpfs option "bogus"/.test(e.message));
    assert.deepEqual(tmpfsOptions('ro,rw,mode=700,mode=755', '/x'), ['noexec', 'nosuid', 'nodev', 'rprivate', 'rw', 'mode=755']);
    fails({ hc: { Tmpfs: { rel: '' } } }, 'invalid-argument', /--tmpfs rel/);
  });
  test('--read-only: the root and the /etc files read-only', () => {
    const s = build({ hc: { ReadonlyRootfs: true } });
    assert.deepEqual(s.root, { path: rootfs, readonly: true });
    assert.deepEqual(mount(s, '/etc/hostname')!.options, ['rbind', 'ro', 'rprivate']);
    assert.deepEqual(mount(s, '/dev/shm')!.options!.includes('ro'), false);
  });
});

describe('--privileged', () => {
  const s = build({ hc: { Privileged: true } });
  test('every capability the kernel has', () => {
    assert.deepEqual(s.process!.capabilities!['bounding'], [...CAPABILITIES]);
    assert.deepEqual(build({ hc: { Privileged: true }, host: { lastCap: 37 } }).process!.capabilities!['bounding']!.at(-1), 'CAP_AUDIT_READ');
  });
  test('no seccomp, masked or read-only paths', () => {
    assert.equal(seccomp(s), undefined);
    assert.equal(s.linux!.maskedPaths, undefined);
    assert.equal(s.linux!.readonlyPaths, undefined);
  });
  test("the host's devices, all allowed", () => {
    assert.deepEqual(s.linux!.devices, HOST.hostDevices());
    assert.deepEqual(s.linux!.resources!['devices'], [{ allow: true, access: 'rwm' }]);
  });
  test('/sys and the cgroup file system writable', () => {
    assert.deepEqual(mount(s, '/sys')!.options, ['nosuid', 'noexec', 'nodev']);
    assert.deepEqual(mount(s, '/sys/fs/cgroup')!.options, ['nosuid', 'noexec', 'nodev']);
  });
});

describe('--cap-add / --cap-drop', () => {
  const caps = (hc: Partial<HostConfig>) => build({ hc }).process!.capabilities!['bounding'];
  test('with or without CAP_, any case', () => {
    assert.deepEqual(caps({ CapAdd: ['sys_admin', 'CAP_NET_ADMIN'], CapDrop: ['chown', 'Cap_Kill'] }), [
      ...DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_CHOWN' && c !== 'CAP_KILL'),
      'CAP_SYS_ADMIN',
      'CAP_NET_ADMIN',
    ]);
  });
  test('--cap-drop ALL then adds', () => assert.deepEqual(caps({ CapDrop: ['all'], CapAdd: ['NET_BIND_SERVICE'] }), ['CAP_NET_BIND_SERVICE']));
  test('--cap-add ALL less the drops', () => assert.deepEqual(caps({ CapAdd: ['ALL'], CapDrop: ['SYS_ADMIN'] }), CAPABILITIES.filter((c) => c !== 'CAP_SYS_ADMIN')));
  test('adding a default one does not repeat it', () => assert.deepEqual(caps({ CapAdd: ['CHOWN'] }), DEFAULT_CAPABILITIES));
  test('an unknown capability is an error naming it', () => {
    fails({ hc: { CapAdd: ['SYS_NOPE'] } }, 'invalid-argument', /--cap-add: unknown capability: "SYS_NOPE"/);
    fails({ hc: { CapDrop: ['bogus'] } }, 'invalid-argument', /--cap-drop: unknown capability: "bogus"/);
  });
  test("the seccomp profile follows the final capabilities", () => {
    assert.ok(ruleNames(seccomp(build({ hc: { CapAdd: ['SYS_ADMIN'] } }))).has('mount'));
    assert.ok(!ruleNames(seccomp(build())).has('mount'));
    assert.ok(!ruleNames(seccomp(build({ hc: { CapDrop: ['SYS_CHROOT'] } }))).has('chroot'));
  });
});

describe('--security-opt', () => {
  const sec = (opts: string[], host: Partial<HostFacts> = {}) => build({ hc: { SecurityOpt: opts }, host });
  test('no-new-privileges, in every spelling', () => {
    for (const o of ['no-new-privileges', 'no-new-privileges:true', 'no-new-privileges=true', 'no-new-privileges=1']) assert.equal(sec([o]).process!.noNewPrivileges, true, o);
    assert.equal(sec(['no-new-privileges=false']).process!.noNewPrivileges, undefined);
    fails({ hc: { SecurityOpt: ['no-new-privileges=maybe'] } }, 'invalid-argument', /no-new-privileges takes true or false/);
  });
  test('seccomp=unconfined: no filter', () => assert.equal(seccomp(sec(['seccomp=unconfined'])), undefined));
  test('seccomp=JSON, as the Docker CLI sends a profile', () => {
    const profile = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['reboot'], action: 'SCMP_ACT_ERRNO' }] };
    assert.deepEqual(seccomp(sec([`seccomp=${JSON.stringify(profile)}`])), { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['reboot'], action: 'SCMP_ACT_ERRNO' }] });
  });
  test('seccomp=PATH', () => {
    const file = join(rootfs, 'profile.json');
    writeFileSync(file, JSON.stringify({ defaultAction: 'SCMP_ACT_LOG', architectures: ['SCMP_ARCH_X86_64'] }));
    assert.deepEqual(seccomp(sec([`seccomp=${file}`])), { defaultAction: 'SCMP_ACT_LOG', architectures: ['SCMP_ARCH_X86_64'], syscalls: [] });
  });
  test('seccomp=: a missing file, bad JSON', () => {
    fails({ hc: { SecurityOpt: ['seccomp=/no/such/profile.json'] } }, 'invalid-argument', /seccomp=\/no\/such\/profile.json: cannot read the profile: ENOENT/);
    fails({ hc: { SecurityOpt: ['seccomp={nope'] } }, 'invalid-argument', /seccomp: the profile is not valid JSON/);
  });
  test('a privileged container ignores a seccomp profile, as Docker', () => {
    assert.equal(seccomp(build({ hc: { Privileged: true, SecurityOpt: ['seccomp={"defaultAction":"SCMP_ACT_KILL"}'] } })), undefined);
  });
  test('apparmor=…: refused without AppArmor; unconfined is what there is anyway', () => {
    fails({ hc: { SecurityOpt: ['apparmor=docker-default'] } }, 'unsupported', /apparmor=docker-default.*AppArmor is not enabled/);
    assert.equal(sec(['apparmor=unconfined']).process!.apparmorProfile, undefined);
    assert.equal(sec(['apparmor=my-profile'], { apparmor: true }).process!.apparmorProfile, 'my-profile');
  });
  test('label=…: refused without SELinux; label=disable is fine', () => {
    fails({ hc: { SecurityOpt: ['label=user:USER'] } }, 'unsupported', /label=user:USER.*SELinux is not enabled/);
    assert.ok(sec(['label=disable']));
  });
  test('anything else is an error naming it', () => {
    fails({ hc: { SecurityOpt: ['systempaths=unconfined'] } }, 'invalid-argument', /--security-opt "systempaths=unconfined": unknown option "systempaths"/);
    fails({ hc: { SecurityOpt: ['whatever'] } }, 'invalid-argument', /--security-opt "whatever": expected KEY=VALUE/);
  });
});

describe('resources', () => {
  const res = (hc: Partial<HostConfig>, host: Partial<HostFacts> = {}) => build({ hc, host }).linux!.resources!;
  test('--memory; swap twice as much by default where swap can be limited', () => {
    assert.deepEqual(res({ Memory: 64 << 20 })['memory'], { limit: 64 << 20, swap: 128 << 20 });
    assert.deepEqual(res({ Memory: 64 << 20 }, { swapLimit: false })['memory'], { limit: 64 << 20 });
  });
  test('--memory-swap: -1 is unlimited, a size is the memory+swap limit', () => {
    assert.deepEqual(res({ Memory: 64 << 20, MemorySwap: -1 })['memory'], { limit: 64 << 20 });
    assert.deepEqual(res({ Memory: 64 << 20, MemorySwap: 100 << 20 })['memory'], { limit: 64 << 20, swap: 100 << 20 });
  });
  test('memory errors', () => {
    fails({ hc: { Memory: 1 << 20 } }, 'invalid-argument', /--memory 1048576: the minimum memory limit allowed is 6MB/);
    fails({ hc: { Memory: 64 << 20, MemorySwap: 32 << 20 } }, 'invalid-argument', /--memory-swap 33554432: the memory\+swap limit must be larger/);
    fails({ hc: { MemorySwap: 32 << 20 } }, 'invalid-argument', /--memory-swap: you should always set the memory limit/);
  });
  test('--cpus → quota over a 100ms period', () => assert.deepEqual(res({ NanoCpus: 1.5e9 })['cpu'], { period: 100000, quota: 150000 }));
  test('--cpu-shares, --cpuset-cpus/mems, --cpu-period/quota', () => {
    assert.deepEqual(res({ CpuShares: 512, CpusetCpus: '0-1,3', CpusetMems: '0', CpuPeriod: 50000, CpuQuota: 25000 })['cpu'], {
      shares: 512, cpus: '0-1,3', mems: '0', period: 50000, quota: 25000,
    });
  });
  test('cpu errors', () => {
    fails({ hc: { NanoCpus: 1e9, CpuPeriod: 50000 } }, 'invalid-argument', /--cpus and --cpu-period cannot both be set/);
    fails({ hc: { NanoCpus: 1e9, CpuQuota: 50000 } }, 'invalid-argument', /--cpus and --cpu-quota cannot both be set/);
    fails({ hc: { NanoCpus: 5e9 } }, 'invalid-argument', /--cpus 5: the range of CPUs is from 0.01 to 4.00/);
    fails({ hc: { CpuPeriod: 500 } }, 'invalid-argument', /--cpu-period 500/);
    fails({ hc: { CpuQuota: 500 } }, 'invalid-argument', /--cpu-quota 500/);
    fails({ hc: { CpusetCpus: '0-' } }, 'invalid-argument', /--cpuset-cpus "0-"/);
  });
  test('--pids-limit: only a positive one', () => {
    assert.deepEqual(res({ PidsLimit: 50 })['pids'], { limit: 50 });
    assert.equal(res({ PidsLimit: -1 })['pids'], undefined);
    assert.equal(res({ PidsLimit: 0 })['pids'], undefined);
  });
  test('nothing set: nothing but the device rules', () => assert.deepEqual(Object.keys(res({})), ['devices']));
});

describe('--sysctl and --network', () => {
  test('namespaced sysctls pass, over the defaults', () => {
    const s = build({ hc: { Sysctls: { 'kernel.shm_rmid_forced': '1', 'fs.mqueue.msg_max': '20', 'net.ipv4.ip_unprivileged_port_start': '80' } } });
    assert.deepEqual(s.linux!.sysctl, {
      'net.ipv4.ping_group_range': '0 2147483647', 'net.ipv4.ip_unprivileged_port_start': '80', 'kernel.shm_rmid_forced': '1', 'fs.mqueue.msg_max': '20',
    });
  });
  test("a sysctl that is the host's is refused", () => {
    fails({ hc: { Sysctls: { 'kernel.panic': '1' } } }, 'invalid-argument', /--sysctl kernel.panic: not allowed/);
    fails({ hc: { Sysctls: { 'vm.swappiness': '1' } } }, 'invalid-argument', /--sysctl vm.swappiness: not allowed/);
  });
  test('--network host: the host network namespace, no net.* sysctls', () => {
    const s = build({ hc: { NetworkMode: 'host' } });
    assert.ok(!s.linux!.namespaces!.some((n) => n.type === 'network'));
    assert.deepEqual(s.linux!.sysctl, {});
    fails({ hc: { NetworkMode: 'host', Sysctls: { 'net.core.somaxconn': '1' } } }, 'invalid-argument', /--sysctl net.core.somaxconn: not allowed with --network host/);
  });
  test('--network container:… needs the other container\'s namespace', () => fails({ hc: { NetworkMode: 'container:x' } }, 'invalid-state', /--network container:x/));
});

describe("Docker's default seccomp profile", () => {
  const amd64 = { arch: 'amd64', kernel: '6.1.0' };
  const rule = (s: SpecSeccomp, name: string) => s.syscalls!.filter((r) => r.names.includes(name));
  const dflt = defaultSeccomp(DEFAULT_CAPABILITIES, amd64);
  test('EPERM for everything not allowed; x86_64 with x86 and x32', () => {
    assert.equal(dflt.defaultAction, 'SCMP_ACT_ERRNO');
    assert.equal(dflt.defaultErrnoRet, 1);
    assert.deepEqual(dflt.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  });
  test('the allow list', () => {
    const first = dflt.syscalls![0]!;
    assert.equal(first.names.length, 346);
    assert.equal(new Set(first.names).size, 346);
    for (const n of ['read', 'openat2', 'io_uring_setup', 'landlock_create_ruleset', 'getresgid32', 'timerfd_settime64', 'lsetxattr']) assert.ok(first.names.includes(n), n);
    assert.ok(!first.names.includes('mount') && !first.names.includes('ptrace') && !first.names.includes('clone'));
  });
  test('personality: only Linux, 32-bit, no-ASLR and the query', () => {
    assert.deepEqual(rule(dflt, 'personality').map((r) => r.args![0]!.value), [0, 8, 0x20000, 0x20008, 0xffffffff]);
  });
  test('clone without namespace flags, clone3 → ENOSYS, without CAP_SYS_ADMIN', () => {
    assert.deepEqual(rule(dflt, 'clone'), [{ names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 2114060288, op: 'SCMP_CMP_MASKED_EQ' }] }]);
    assert.deepEqual(rule(dflt, 'clone3'), [{ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }]);
    const admin = defaultSeccomp([...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN'], amd64);
    assert.deepEqual(rule(admin, 'clone').map((r) => r.args), [undefined]);
    assert.deepEqual(rule(admin, 'clone3').map((r) => r.action), ['SCMP_ACT_ALLOW']);
  });
  test('the capability groups', () => {
    const groups: [string, string][] = [
      ['CAP_SYS_ADMIN', 'setns'], ['CAP_SYS_BOOT', 'reboot'], ['CAP_SYS_MODULE', 'finit_module'], ['CAP_SYS_PACCT', 'acct'],
      ['CAP_SYS_PTRACE', 'process_vm_readv'], ['CAP_SYS_RAWIO', 'iopl'], ['CAP_SYS_TIME', 'clock_settime'], ['CAP_SYS_TTY_CONFIG', 'vhangup'],
      ['CAP_SYS_NICE', 'mbind'], ['CAP_SYSLOG', 'syslog'], ['CAP_DAC_READ_SEARCH', 'open_by_handle_at'], ['CAP_BPF', 'bpf'], ['CAP_PERFMON', 'perf_event_open'],
    ];
    for (const [cap, name] of groups) {
      assert.ok(!ruleNames(dflt).has(name), `${name} without ${cap}`);
      assert.ok(ruleNames(defaultSeccomp([cap], amd64)).has(name), `${name} with ${cap}`);
    }
    assert.ok(ruleNames(dflt).has('chroot'));
  });
  test('ptrace alone from kernel 4.8', () => {
    assert.deepEqual(rule(dflt, 'ptrace'), [{ names: ['ptrace'], action: 'SCMP_ACT_ALLOW' }]);
    assert.deepEqual(rule(defaultSeccomp([], { arch: 'amd64', kernel: '4.4.0' }), 'ptrace'), []);
  });
  test('per architecture', () => {
    assert.ok(ruleNames(dflt).has('arch_prctl') && ruleNames(dflt).has('modify_ldt'));
    const arm = defaultSeccomp([], { arch: 'arm64', kernel: '6.1' });
    assert.deepEqual(arm.architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
    assert.ok(ruleNames(arm).has('cacheflush') && !ruleNames(arm).has('arch_prctl'));
    const s390 = defaultSeccomp([], { arch: 's390x', kernel: '6.1' });
    assert.deepEqual(rule(s390, 'clone').map((r) => r.args![0]!.index), [1]);
  });
});

describe("Docker's profile format (seccomp=…)", () => {
  const host = { arch: 'amd64', kernel: '5.10.0' };
  const conv = (p: unknown, caps: string[] = []) => seccompFromProfile(p as SeccompProfile, caps, host);
  const bad = (p: unknown, re: RegExp) => assert.throws(() => conv(p), (e: any) => e.code === 'invalid-argument' && /^--security-opt seccomp: /.test(e.message) && re.test(e.message));
  test('name or names; errnoRet, args and defaultErrnoRet kept; empty args dropped', () => {
    const out = conv({
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 38,
      syscalls: [
        { name: 'kill', action: 'SCMP_ACT_ALLOW', args: [] },
        { names: ['socket'], action: 'SCMP_ACT_ERRNO', errnoRet: 97, args: [{ index: 0, value: 40, valueTwo: 0, op: 'SCMP_CMP_EQ' }] },
      ],
    });
    assert.deepEqual(out, {
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 38,
      syscalls: [
        { names: ['kill'], action: 'SCMP_ACT_ALLOW' },
        { names: ['socket'], action: 'SCMP_ACT_ERRNO', errnoRet: 97, args: [{ index: 0, value: 40, op: 'SCMP_CMP_EQ' }] },
      ],
    });
  });
  test('includes/excludes: caps (all of / any of), arches, minKernel', () => {
    const rules = [
      { names: ['a'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_X', 'CAP_Y'] } },
      { names: ['b'], action: 'SCMP_ACT_ALLOW', excludes: { caps: ['CAP_X', 'CAP_Z'] } },
      { names: ['c'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['arm64'] } },
      { names: ['d'], action: 'SCMP_ACT_ALLOW', excludes: { arches: ['amd64'] } },
      { names: ['e'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '5.10' } },
      { names: ['f'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '5.11' } },
      { names: ['g'], action: 'SCMP_ACT_ALLOW', excludes: { minKernel: '4.0' } },
    ];
    const names = (caps: string[]) => conv({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: rules }, caps)!.syscalls!.map((r) => r.names[0]);
    assert.deepEqual(names([]), ['b', 'e']);
    assert.deepEqual(names(['CAP_X']), ['e']);
    assert.deepEqual(names(['CAP_X', 'CAP_Y']), ['a', 'e']);
  });
  test('archMap: this host\'s architecture and its sub-architectures only', () => {
    const out = conv({
      defaultAction: 'SCMP_ACT_ALLOW',
      archMap: [
        { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] },
        { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86'] },
      ],
    });
    assert.deepEqual(out!.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86']);
  });
  test('no default action and no rules: no seccomp at all', () => assert.equal(conv({}), undefined));
  test('invalid profiles', () => {
    bad({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86'], archMap: [{ architecture: 'SCMP_ARCH_X86_64' }] }, /'architectures' and 'archMap'/);
    bad({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ name: 'a', names: ['b'], action: 'SCMP_ACT_ALLOW' }] }, /'name' and 'names'/);
    bad({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['a'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '5' } }] }, /invalid kernel version "5"/);
    bad({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['a'] }] }, /syscalls\[0\].action/);
    bad({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['a'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0 }] }] }, /syscalls\[0\].args\[0\]/);
    bad({ syscalls: [{ names: ['a'], action: 'SCMP_ACT_ALLOW' }] }, /defaultAction is missing/);
    bad([], /must be a JSON object/);
  });
});
