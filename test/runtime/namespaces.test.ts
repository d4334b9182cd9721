import assert from 'node:assert/strict';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { after, describe, test } from 'node:test';
import { baseSpec, Bundle, REPO, runScript } from '../helpers/bundle.ts';
import type { NamespaceType } from '../../src/runtime/spec-types.ts';

const PROC_NAME: Record<NamespaceType, string> = {
  pid: 'pid',
  network: 'net',
  ipc: 'ipc',
  uts: 'uts',
  mount: 'mnt',
  user: 'user',
  cgroup: 'cgroup',
  time: 'time',
};
const ALL = Object.keys(PROC_NAME) as NamespaceType[];
const USERNS_MAPS = { uidMappings: [{ containerID: 0, hostID: 200000, size: 65536 }], gidMappings: [{ containerID: 0, hostID: 200000, size: 65536 }] };

/** ns name → link as the container sees its own namespaces */
function parseLinks(stdout: string): Map<string, string> {
  return new Map(stdout.trim().split('\n').map((l) => l.split(' ') as [string, string]));
}
const script = ALL.map((t) => `echo ${PROC_NAME[t]} $(readlink /proc/self/ns/${PROC_NAME[t]})`).join('; ');

describe('namespaces', () => {
  for (const type of ALL) {
    test(`a new ${type} namespace differs from the host's`, () => {
      const r = runScript(script, (s) => {
        const nss = s.linux!.namespaces!.filter((n) => n.type === 'mount' || n.type === type);
        if (!nss.some((n) => n.type === type)) nss.push({ type });
        s.linux!.namespaces = nss;
        if (type === 'user') Object.assign(s.linux!, USERNS_MAPS);
        // proc can only be mounted fresh by the owner of its pid namespace; else bind the host's.
        if (type === 'user') s.mounts = s.mounts!.map((m) => (m.destination === '/proc' ? { destination: '/proc', type: 'bind', source: '/proc', options: ['rbind'] } : m));
        if (type !== 'network') s.mounts = s.mounts!.filter((m) => m.destination !== '/sys');
        if (type !== 'ipc') s.mounts = s.mounts!.filter((m) => m.destination !== '/dev/mqueue');
        if (type !== 'uts') delete s.hostname;
      });
      assert.equal(r.status, 0, r.stderr);
      const links = parseLinks(r.stdout);
      for (const t of ALL) {
        const host = readlinkSync(`/proc/self/ns/${PROC_NAME[t]}`);
        const inside = links.get(PROC_NAME[t]);
        if (t === type || t === 'mount') assert.notEqual(inside, host, `${t} should be new`);
        else assert.equal(inside, host, `${t} should be the host's`);
      }
    });
  }

  test('the process is PID 1 in a new pid namespace', () => {
    const r = runScript('echo $$; ps -o pid,comm | awk \'$1 == 1 { print $2 }\'');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '1\nsh\n');
  });

  test('hostname and domainname are set in the new uts namespace', () => {
    const r = runScript('hostname; cat /proc/sys/kernel/domainname', (s) => {
      s.hostname = 'hako-test-host';
      s.domainname = 'example.test';
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'hako-test-host\nexample.test\n');
  });

  test('the user namespace maps ids as configured', () => {
    const r = runScript('cat /proc/self/uid_map /proc/self/gid_map; id -u', (s) => {
      s.linux!.namespaces!.push({ type: 'user' });
      Object.assign(s.linux!, USERNS_MAPS);
    });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' '));
    assert.deepEqual(lines, ['0 200000 65536', '0 200000 65536', '0']);
  });

  test('the time namespace applies the configured offsets', () => {
    const r = runScript('cat /proc/uptime', (s) => {
      s.linux!.namespaces!.push({ type: 'time' });
      s.linux!.timeOffsets = { boottime: { secs: 86400 * 365, nanosecs: 0 } };
    });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(Number(r.stdout.split(' ')[0]) > 86400 * 365, r.stdout);
  });

  test('without a mount namespace the container shares the host\'s, and delete takes its mounts away', () => {
    let rootfs = '';
    const r = runScript('readlink /proc/self/ns/mnt; cat /proc/self/mounts | grep -c " /proc "', (s, b) => {
      rootfs = b.rootfs;
      s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'mount');
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.split('\n')[0], readlinkSync('/proc/self/ns/mnt'));
    assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(rootfs), 'no mount left under the rootfs');
    assert.ok(existsSync(join(REPO, 'package.json')), 'the host root is untouched');
  });

  test('a mount namespace joined by path gets the rootfs set up inside it', async () => {
    const holder = spawn('unshare', ['-m', '--propagation', 'private', 'sleep', '60'], { stdio: 'ignore' });
    try {
      await delay(200);
      const nsPath = `/proc/${holder.pid}/ns/mnt`;
      const r = runScript('readlink /proc/self/ns/mnt; hostname', (s) => {
        s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'mount').concat({ type: 'mount', path: nsPath });
        s.hostname = 'in-joined-mnt';
      });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, `${readlinkSync(nsPath)}\nin-joined-mnt\n`);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  describe('joining an existing namespace by path', () => {
    const holder = new Bundle(baseSpec('sleep 60'));
    after(() => holder.cleanup());

    test('the joined namespaces match the holder container, the new ones do not', () => {
      assert.equal(holder.hako(['create', '-b', holder.dir, holder.id]).status, 0);
      const pid = holder.state().pid;
      const r = runScript(`${script}; echo hostname $(hostname)`, (s) => {
        s.linux!.namespaces = [
          { type: 'mount' },
          { type: 'pid' },
          { type: 'network', path: `/proc/${pid}/ns/net` },
          { type: 'ipc', path: `/proc/${pid}/ns/ipc` },
          { type: 'uts', path: `/proc/${pid}/ns/uts` },
        ];
        s.hostname = 'renamed-joined-uts'; // allowed: the uts namespace is the container's, not the host's
      });
      assert.equal(r.status, 0, r.stderr);
      const links = parseLinks(r.stdout);
      for (const t of ['net', 'ipc', 'uts']) assert.equal(links.get(t), readlinkSync(`/proc/${pid}/ns/${t}`), t);
      assert.equal(links.get('hostname'), 'renamed-joined-uts');
      for (const t of ['pid', 'mnt']) assert.notEqual(links.get(t), readlinkSync(`/proc/${pid}/ns/${t}`), t);
    });
  });
});

