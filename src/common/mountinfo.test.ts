import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mountOf, readMountinfo } from './mountinfo.ts';

const SAMPLE = [
  '22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw',
  '30 22 0:26 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
  '31 22 0:27 / /with\\040space rw - tmpfs tmpfs rw,size=10k',
  '32 22 0:28 /sub /bound rw - ext4 /dev/vdb rw',
].join('\n');

test('mountinfo lines are parsed, escapes decoded', () => {
  const m = readMountinfo(SAMPLE);
  assert.equal(m.length, 4);
  assert.deepEqual(m[1], { root: '/', mountPoint: '/sys/fs/cgroup/memory', fstype: 'cgroup', superOptions: ['rw', 'memory'] });
  assert.equal(m[2]!.mountPoint, '/with space');
  assert.equal(m[3]!.root, '/sub');
});

test('mountOf finds the deepest mount holding a path, not a mere prefix', () => {
  const m = readMountinfo(SAMPLE);
  assert.equal(mountOf('/with space/x', m)?.fstype, 'tmpfs');
  assert.equal(mountOf('/boundary', m)?.mountPoint, '/');
  assert.equal(mountOf('/bound/a', m)?.mountPoint, '/bound');
});
