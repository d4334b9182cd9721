import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseResources } from './parse.ts';
import { v1Rules } from './v1/devices.ts';

describe('cgroup v1 helpers', () => {
  test('device rules: wildcards as *, a full "a" rule as the kernel\'s reset, a narrower one split by type', () => {
    const [deny, narrow, c] = parseResources({
      devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'a', access: 'm' }, { allow: true, type: 'c', major: 136, access: 'rw' }],
    }).devices!;
    assert.deepEqual(v1Rules(deny!), ['a']);
    assert.deepEqual(v1Rules(narrow!), ['c *:* m', 'b *:* m']);
    assert.deepEqual(v1Rules(c!), ['c 136:* rw']);
  });

  test('parse: every field is checked and named', () => {
    assert.throws(() => parseResources({ memory: [] }), /^HakoError: linux\.resources\.memory: must be an object$/);
    assert.throws(() => parseResources({ foo: 1 }), /linux\.resources\.foo: unknown field/);
    assert.throws(() => parseResources({ memory: { swappiness: 101 } }), /linux\.resources\.memory\.swappiness: must be between 0 and 100/);
    assert.throws(() => parseResources({ hugepageLimits: [{ pageSize: '2M', limit: 1 }] }), /hugepageLimits\[0\]\.pageSize: must be a size like "2MB"/);
    assert.throws(() => parseResources({ blockIO: { weightDevice: [{ weight: 100 }] } }), /blockIO\.weightDevice\[0\]: major and minor are required/);
    assert.throws(() => parseResources({ unified: { '../x': '1' } }), /linux\.resources\.unified: invalid key "\.\.\/x"/);
    assert.throws(() => parseResources({ devices: [{ type: 'c' }] }), /devices\[0\]\.allow: is required/);
    assert.deepEqual(parseResources(undefined), {});
    assert.deepEqual(parseResources({ memory: { limit: 5 }, cpu: {} }), { memory: { limit: 5 }, cpu: {} });
  });
});
