import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runScript } from '../helpers/bundle.ts';
import { CAPABILITIES } from '../../src/runtime/capabilities.ts';

const ALL_CAPS = [...CAPABILITIES];
const allBut = (...drop: string[]) => ALL_CAPS.filter((c) => !drop.includes(c));
const capsOf = (list: string[]) => ({ bounding: list, effective: list, permitted: list, inheritable: [], ambient: [] });
const maskOf = (list: string[]) => list.reduce((m, c) => m | (1n << BigInt(ALL_CAPS.indexOf(c as (typeof ALL_CAPS)[number]))), 0n);

describe('capabilities', () => {
  const probes = 'touch /tmp/f; chown 1000 /tmp/f 2>/dev/null && echo chown-ok || echo chown-denied; ' +
    'mknod /tmp/n c 1 3 2>/dev/null && echo mknod-ok || echo mknod-denied; ' +
    'mkdir -p /tmp/m; mount -t tmpfs none /tmp/m 2>/dev/null && echo mount-ok || echo mount-denied; ' +
    'ping -c 1 -W 1 127.0.0.1 2>&1 | grep -q "permission denied" && echo raw-denied || echo raw-ok';

  test('with every capability the privileged operations work', () => {
    const r = runScript(`ip link set lo up; ${probes}`, (s) => (s.process!.capabilities = capsOf(ALL_CAPS)));
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'chown-ok\nmknod-ok\nmount-ok\nraw-ok\n');
  });

  test('a dropped capability denies what it guards', () => {
    const r = runScript(`ip link set lo up; ${probes}`, (s) => {
      s.process!.capabilities = capsOf(allBut('CAP_CHOWN', 'CAP_MKNOD', 'CAP_SYS_ADMIN', 'CAP_NET_RAW'));
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'chown-denied\nmknod-denied\nmount-denied\nraw-denied\n');
  });

  test('all five sets are exactly as given, for root and for a user (ambient)', () => {
    const set = ['CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_AUDIT_WRITE'];
    const r = runScript('grep ^Cap /proc/self/status', (s) => {
      s.process!.user = { uid: 1000, gid: 1000 };
      s.process!.capabilities = { bounding: [...set, 'CAP_CHOWN'], effective: set, permitted: set, inheritable: set, ambient: set };
    });
    assert.equal(r.status, 0, r.stderr);
    const got = Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split(/:\s+/) as [string, string]));
    const hex = (list: string[]) => maskOf(list).toString(16).padStart(16, '0');
    assert.deepEqual(got, { CapInh: hex(set), CapPrm: hex(set), CapEff: hex(set), CapBnd: hex([...set, 'CAP_CHOWN']), CapAmb: hex(set) });
  });

  test('an unknown capability name is refused', () => {
    const r = runScript('true', (s) => (s.process!.capabilities = capsOf(['CAP_CHOWN', 'CAP_MAKE_COFFEE'])));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /process\.capabilities\.bounding: unknown capability "CAP_MAKE_COFFEE"/);
  });
});

describe('seccomp', () => {
  test('a denied syscall returns the configured errno; args are compared', () => {
    const r = runScript('mkdir /tmp/d 2>&1; kill -0 $$ 2>&1 && echo sig0-ok; kill -CONT $$ && echo cont-ok; echo done', (s) => {
      s.linux!.seccomp = {
        defaultAction: 'SCMP_ACT_ALLOW',
        architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
        syscalls: [
          { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
          { names: ['kill'], action: 'SCMP_ACT_ERRNO', errnoRet: 1, args: [{ index: 1, value: 0, op: 'SCMP_CMP_EQ' }] },
          { names: ['no_such_syscall_in_any_kernel'], action: 'SCMP_ACT_ERRNO' },
        ],
      };
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /mkdir: can't create directory '\/tmp\/d': Function not implemented/);
    assert.doesNotMatch(r.stdout, /sig0-ok/);
    assert.match(r.stdout, /cont-ok\ndone\n$/);
  });

  test('with no_new_privs the filter is installed last and still applies to a user process', () => {
    const r = runScript('grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status; mkdir /tmp/by-user 2>&1', (s) => {
      s.process!.noNewPrivileges = true;
      s.process!.user = { uid: 1000, gid: 1000 };
      s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }] };
    });
    assert.equal(r.status, 1);
    assert.match(r.stdout, /NoNewPrivs:\s+1\nSeccomp:\s+2\n/);
    assert.match(r.stdout, /can't create directory '\/tmp\/by-user': Permission denied/);
  });

  test('an unknown action is refused, naming the field', () => {
    const r = runScript('true', (s) => (s.linux!.seccomp = { defaultAction: 'SCMP_ACT_EXPLODE' }));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /linux\.seccomp\.defaultAction: unknown action "SCMP_ACT_EXPLODE"/);
  });
});

describe('rlimits, oomScoreAdj, sysctl, LSMs', () => {
  test('rlimits apply; raising a hard limit without CAP_SYS_RESOURCE names the limit', () => {
    const ok = runScript('grep "Max open files" /proc/self/limits', (s) => (s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 100, hard: 200 }]));
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /Max open files\s+100\s+200\s+files/);
    const high = runScript('true', (s) => (s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 1 << 30 }]));
    assert.equal(high.status, 1);
    assert.match(high.stderr, /RLIMIT_NOFILE.*Operation not permitted.*CAP_SYS_RESOURCE/);
    const bad = runScript('true', (s) => (s.process!.rlimits = [{ type: 'RLIMIT_BOGUS', soft: 1, hard: 1 }]));
    assert.match(bad.stderr, /unknown rlimit "RLIMIT_BOGUS"/);
  });

  test('no_new_privs is set', () => {
    const r = runScript('grep NoNewPrivs /proc/self/status', (s) => (s.process!.noNewPrivileges = true));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /NoNewPrivs:\s+1/);
  });

  test('oomScoreAdj is applied; lowering it needs CAP_SYS_RESOURCE and says so', () => {
    const r = runScript('cat /proc/self/oom_score_adj', (s) => (s.process!.oomScoreAdj = 500));
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '500\n');
    const low = runScript('true', (s) => (s.process!.oomScoreAdj = -500));
    if (low.status === 0) return; // a host whose root has CAP_SYS_RESOURCE may lower it
    assert.match(low.stderr, /oomScoreAdj -500: lowering it needs CAP_SYS_RESOURCE/);
  });

  test('namespaced sysctls are set; others are refused', () => {
    const r = runScript('cat /proc/sys/kernel/shmmax /proc/sys/net/ipv4/ip_forward', (s) => {
      s.linux!.sysctl = { 'kernel.shmmax': '123456789', 'net.ipv4.ip_forward': '1' };
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '123456789\n1\n');
    const host = runScript('true', (s) => (s.linux!.sysctl = { 'vm.swappiness': '10' }));
    assert.match(host.stderr, /linux\.sysctl "vm\.swappiness": not a namespaced sysctl/);
    const noNet = runScript('true', (s) => {
      s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'network');
      s.mounts = s.mounts!.filter((m) => m.destination !== '/sys');
      s.linux!.sysctl = { 'net.ipv4.ip_forward': '1' };
    });
    assert.match(noNet.stderr, /needs a new network namespace/);
  });

  test('an AppArmor profile or SELinux label on a host without them is a clear error', (t) => {
    const a = runScript('true', (s) => (s.process!.apparmorProfile = 'hako-test'));
    if (a.status === 0) t.diagnostic('AppArmor is enabled here: the profile was applied');
    else assert.match(a.stderr, /apparmorProfile "hako-test": AppArmor is not enabled on this host/);
    const l = runScript('true', (s) => (s.process!.selinuxLabel = 'system_u:system_r:container_t:s0'));
    if (l.status === 0) t.diagnostic('SELinux is enabled here: the label was applied');
    else assert.match(l.stderr, /selinuxLabel .*: SELinux is not enabled on this host/);
  });
});
