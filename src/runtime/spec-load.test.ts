import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { validateSpec } from './spec-load.ts';

const good = () => ({
  ociVersion: '1.0.2-dev',
  root: { path: 'rootfs' },
  process: { args: ['sh'], cwd: '/', user: { uid: 0, gid: 0 } },
  linux: { namespaces: [{ type: 'mount' }, { type: 'pid' }] },
});

const rejects = (mutate: (s: any) => void, message: RegExp) => {
  const s = good();
  mutate(s);
  assert.throws(() => validateSpec(s), (e: any) => e.code === 'invalid-config' && message.test(e.message));
};

describe('config.json validation names the offending field', () => {
  test('a minimal valid config passes', () => assert.doesNotThrow(() => validateSpec(good())));
  test('ociVersion', () => rejects((s) => (s.ociVersion = '0.9'), /unsupported ociVersion "0\.9"/));
  test('root.path', () => rejects((s) => delete s.root, /root\.path is missing/));
  test('process.args', () => rejects((s) => (s.process.args = []), /process\.args must be a non-empty list/));
  test('process.cwd', () => rejects((s) => (s.process.cwd = 'rel'), /process\.cwd must be an absolute path/));
  test('env entries', () => rejects((s) => (s.process.env = ['NOEQUALS']), /process\.env entry "NOEQUALS" has no "="/));
  test('uid', () => rejects((s) => (s.process.user.uid = -1), /uid and gid/));
  test('namespace type', () => rejects((s) => s.linux.namespaces.push({ type: 'nope' }), /linux\.namespaces\[2\]: unknown namespace type "nope"/));
  test('duplicate namespace', () => rejects((s) => s.linux.namespaces.push({ type: 'pid' }), /"pid" appears twice/));
  test('hostname needs a uts namespace', () => rejects((s) => (s.hostname = 'h'), /no uts namespace of its own/));
  test('user ns needs maps', () => rejects((s) => s.linux.namespaces.push({ type: 'user' }), /needs linux\.uidMappings/));
  test('hook paths', () => rejects((s) => (s.hooks = { poststart: [{ path: 'rel' }] }), /hooks\.poststart\[0\]\.path must be an absolute path/));
  test('unknown hook', () => rejects((s) => (s.hooks = { prestop: [] }), /unknown hook "prestop"/));
  test('masked paths', () => rejects((s) => (s.linux.maskedPaths = ['proc/kcore']), /maskedPaths: "proc\/kcore" is not an absolute path/));
  test('propagation', () => rejects((s) => (s.linux.rootfsPropagation = 'weird'), /unknown propagation "weird"/));
  test('devices', () => rejects((s) => (s.linux.devices = [{ path: '/dev/x', type: 'c' }]), /devices\[0\] needs major and minor/));
});
