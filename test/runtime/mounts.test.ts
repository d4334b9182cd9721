import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runScript } from '../helpers/bundle.ts';

/** The options column of the container's /proc/self/mounts line for PATH. */
const optionsOf = (mounts: string, path: string) => mounts.split('\n').find((l) => l.split(' ')[1] === path)?.split(' ')[3]?.split(',') ?? [];

describe('mounts', () => {
  test('a read-only bind mount shows the host content and rejects writes', () => {
    const r = runScript('cat /data/hello; echo x > /data/new && echo wrote || echo refused', (s, b) => {
      const src = join(b.dir, 'src');
      mkdirSync(src);
      writeFileSync(join(src, 'hello'), 'from the host\n');
      s.mounts!.push({ destination: '/data', type: 'bind', source: src, options: ['rbind', 'ro'] });
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^from the host\n/);
    assert.match(r.stdout, /refused\n$/);
  });

  test('a file bind mount creates its mount point as a file, relative sources are bundle-relative', () => {
    const r = runScript('cat /etc/motd-from-host', (s, b) => {
      writeFileSync(join(b.dir, 'motd'), 'bound file\n');
      s.mounts!.push({ destination: '/etc/motd-from-host', type: 'bind', source: 'motd', options: ['bind'] });
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'bound file\n');
  });

  test('flag options reach the kernel (nosuid, nodev, noexec, ro, relatime, size)', () => {
    const r = runScript('cat /proc/self/mounts', (s) => {
      s.mounts!.push({ destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', 'ro', 'relatime', 'size=1m'] });
      s.mounts!.push({ destination: '/scratch2/deep/dir', type: 'tmpfs', source: 'tmpfs', options: ['rw', 'strictatime', 'mode=700'] });
    });
    assert.equal(r.status, 0, r.stderr);
    const o = optionsOf(r.stdout, '/scratch');
    for (const opt of ['ro', 'nosuid', 'nodev', 'noexec', 'relatime', 'size=1024k']) assert.ok(o.includes(opt), `${opt} in ${o}`);
    const o2 = optionsOf(r.stdout, '/scratch2/deep/dir');
    assert.ok(o2.includes('rw') && o2.includes('mode=700'), String(o2));
  });

  test('proc, sysfs, devpts, mqueue and tmpfs mounts are the right filesystems', () => {
    const r = runScript('cat /proc/self/mounts');
    assert.equal(r.status, 0, r.stderr);
    const types = new Map(r.stdout.trim().split('\n').map((l) => [l.split(' ')[1], l.split(' ')[2]]));
    assert.equal(types.get('/proc'), 'proc');
    assert.equal(types.get('/sys'), 'sysfs');
    assert.equal(types.get('/dev'), 'tmpfs');
    assert.equal(types.get('/dev/pts'), 'devpts');
    assert.equal(types.get('/dev/shm'), 'tmpfs');
    assert.equal(types.get('/dev/mqueue'), 'mqueue');
    assert.ok(optionsOf(r.stdout, '/sys').includes('ro'));
  });

  test('a cgroup mount shows the container its own cgroup hierarchies', () => {
    const r = runScript('ls /sys/fs/cgroup; cat /proc/self/cgroup', (s) => {
      s.linux!.namespaces!.push({ type: 'cgroup' });
      s.mounts!.push({ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'ro'] });
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /memory/);
    assert.match(r.stdout, /pids/);
    // In its own cgroup namespace the container's cgroup is its root.
    assert.match(r.stdout, /^\d+:pids:\/$/m);
  });

  test('mount propagation options and rootfsPropagation are applied', () => {
    const r = runScript('cat /proc/self/mountinfo', (s) => {
      s.mounts!.push({ destination: '/shared', type: 'tmpfs', source: 'tmpfs', options: ['shared'] });
      s.mounts!.push({ destination: '/unbindable', type: 'tmpfs', source: 'tmpfs', options: ['unbindable'] });
      s.linux!.rootfsPropagation = 'slave';
    });
    assert.equal(r.status, 0, r.stderr);
    const line = (p: string) => r.stdout.split('\n').find((l) => l.split(' ')[4] === p) ?? '';
    assert.match(line('/shared'), / shared:\d+/);
    assert.match(line('/unbindable'), / unbindable/);
  });

  test('root.readonly makes the rootfs read-only but not the mounts on it', () => {
    const r = runScript('touch /rootfile 2>/dev/null && echo root-writable; touch /tmp/x && echo tmp-writable', (s) => {
      s.root!.readonly = true;
      s.mounts!.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs' });
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'tmp-writable\n');
  });

  test('masked paths read empty and read-only paths reject writes', () => {
    const r = runScript(
      'cat /proc/kcore | wc -c; ls /proc/acpi 2>/dev/null | wc -l; echo 1 > /proc/sys/kernel/domainname 2>/dev/null && echo sys-writable; grep " /proc/sys " /proc/self/mounts | cut -d" " -f4',
      (s) => {
        s.linux!.maskedPaths = ['/proc/kcore', '/proc/acpi', '/proc/does-not-exist'];
        s.linux!.readonlyPaths = ['/proc/sys', '/proc/also-missing'];
      },
    );
    assert.equal(r.status, 0, r.stderr);
    const [kcore, acpi, sysOpts] = r.stdout.trim().split('\n');
    assert.equal(kcore?.trim(), '0');
    assert.equal(acpi?.trim(), '0');
    assert.match(sysOpts ?? '', /^ro,/);
  });
});

describe('/dev', () => {
  test('the default devices and links exist and work', () => {
    const r = runScript(
      'for d in null zero full random urandom tty; do ls -l /dev/$d | cut -c1,9; done; ' +
        'for l in fd stdin stdout stderr ptmx; do readlink /dev/$l; done; ' +
        'head -c 4 /dev/zero | wc -c; echo x > /dev/null && echo null-ok; test -d /dev/pts && test -d /dev/shm && echo dirs-ok',
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      r.stdout,
      'cw\n'.repeat(6) + '/proc/self/fd\n/proc/self/fd/0\n/proc/self/fd/1\n/proc/self/fd/2\npts/ptmx\n4\nnull-ok\ndirs-ok\n',
    );
  });

  test('linux.devices adds device nodes with their mode and owner', () => {
    const r = runScript("stat -c '%A %u %g %t %T' /dev/mynull /dev/fifo0; echo hi > /dev/mynull && echo ok", (s) => {
      s.linux!.devices = [
        { path: '/dev/mynull', type: 'c', major: 1, minor: 3, fileMode: 0o640, uid: 1000, gid: 1000 },
        { path: '/dev/fifo0', type: 'p', fileMode: 0o600 },
      ];
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'crw-r----- 1000 1000 1 3\nprw------- 0 0 0 0\nok\n');
  });

  test('in a user namespace the devices are bound from the host', () => {
    const r = runScript('echo hi > /dev/null && head -c 3 /dev/zero | wc -c', (s) => {
      s.linux!.namespaces!.push({ type: 'user' });
      s.linux!.uidMappings = [{ containerID: 0, hostID: 300000, size: 65536 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: 300000, size: 65536 }];
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), '3');
  });
});
