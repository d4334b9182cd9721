import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MS, parseMountOptions } from './mount-flags.ts';
import { buildPlan, type PlanContext } from './plan.ts';
import type { Spec } from './spec-types.ts';

const ctx: PlanContext = {
  bundle: '/b',
  rootfs: '/b/rootfs',
  stateDir: '/run/hako/x',
  mode: 'create',
  noPivot: false,
  rootfsMountPoint: '/',
  cgroup: { path: '/hako/x', dirs: [] },
  hierarchies: [],
};
const spec = (): Spec => ({
  ociVersion: '1.2.0',
  root: { path: 'rootfs' },
  process: { args: ['sh'], cwd: '/', user: { uid: 0, gid: 0 } },
  mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }],
  linux: { namespaces: [{ type: 'mount' }, { type: 'pid' }, { type: 'network', path: '/proc/1/ns/net' }, { type: 'user' }] },
});
const names = (plan: readonly (readonly string[])[]) => plan.map((f) => f[0]);

describe('launch plan', () => {
  test('joins by path in the parent, clones the new namespaces, ends with exec', () => {
    const plan = buildPlan(spec(), ctx);
    const at = (name: string) => plan.findIndex((f) => f[0] === name);
    assert.deepEqual(plan[at('join')], ['join', 'net', '/proc/1/ns/net']);
    // host paths are opened before any namespace is joined
    assert.ok(at('state-dir') < at('join') && at('join') < at('clone'));
    assert.deepEqual(plan.find((f) => f[0] === 'clone'), ['clone', 'user', 'mnt', 'pid']);
    assert.deepEqual(plan.at(-2), ['exec', 'sh']);
    assert.deepEqual(plan.at(-1), ['end']);
  });

  test('the order of the child steps follows the OCI lifecycle', () => {
    const n = names(buildPlan(spec(), ctx));
    const at = (s: string) => n.indexOf(s);
    assert.ok(at('sync') < at('become-root') && at('become-root') < at('rootfs'));
    assert.ok(at('mount') < at('pivot-root') && at('pivot-root') < at('chdir'));
    assert.ok(at('user') < at('ready') && at('ready') < at('wait-start') && at('wait-start') < at('exec'));
  });

  test('in a user namespace devices are bind-mounted, not created with mknod', () => {
    const plan = buildPlan(spec(), ctx);
    assert.ok(!names(plan).includes('mknod'));
    assert.deepEqual(plan.find((f) => f[0] === 'mount' && f[1] === '/dev/null'), ['mount', '/dev/null', 'file', '/dev/null', '-', String(MS.BIND), '']);
  });

  test('--no-pivot chroots; a terminal without a console socket is refused', () => {
    assert.ok(names(buildPlan(spec(), { ...ctx, noPivot: true })).includes('chroot'));
    const s = spec();
    s.process!.terminal = true;
    assert.throws(() => buildPlan(s, ctx), /--console-socket is required/);
  });
});

describe('mount options', () => {
  test('flags, clearing flags, propagation and data', () => {
    const o = parseMountOptions(['ro', 'nosuid', 'rw', 'rslave', 'mode=755', 'size=1m'], 'm');
    assert.equal(o.flags, MS.NOSUID);
    assert.deepEqual(o.propagation, [MS.SLAVE | MS.REC]);
    assert.equal(o.data, 'mode=755,size=1m');
  });
  test('options hako does not implement are refused by name', () => {
    assert.throws(() => parseMountOptions(['idmap'], 'mounts[0]'), /mount option "idmap" is not supported/);
  });
});
