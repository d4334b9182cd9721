import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { HAKO } from '../helpers/bundle.ts';

describe('features', () => {
  test('prints runc-style features JSON', () => {
    const r = spawnSync(HAKO, ['runtime', 'features'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const f = JSON.parse(r.stdout);
    assert.equal(f.ociVersionMin, '1.0.0');
    assert.equal(f.ociVersionMax, '1.2.0');
    assert.deepEqual(f.hooks, ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']);
    for (const o of ['bind', 'rbind', 'ro', 'nosuid', 'rprivate', 'relatime']) assert.ok(f.mountOptions.includes(o), o);
    for (const o of ['tmpcopyup', 'idmap', 'acl']) assert.ok(!f.mountOptions.includes(o), `${o} is not handled`);
    assert.deepEqual(f.linux.namespaces, ['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts']);
    assert.ok(f.linux.capabilities.includes('CAP_SYS_ADMIN'));
    assert.ok(f.linux.capabilities.includes('CAP_CHECKPOINT_RESTORE'));
    assert.deepEqual(f.linux.cgroup, { v1: true, v2: true, systemd: false, systemdUser: false, rdma: true });
    assert.equal(f.linux.seccomp.enabled, true);
    assert.ok(f.linux.seccomp.actions.includes('SCMP_ACT_ERRNO'));
    assert.ok(f.linux.seccomp.operators.includes('SCMP_CMP_MASKED_EQ'));
    assert.ok(f.linux.seccomp.archs.includes('SCMP_ARCH_X86_64'));
    assert.equal(typeof f.linux.apparmor.enabled, 'boolean');
    assert.equal(typeof f.linux.selinux.enabled, 'boolean');
    assert.match(spawnSync(HAKO, ['runtime', 'features', 'x'], { encoding: 'utf8' }).stderr, /requires exactly 0 argument/);
  });
});
