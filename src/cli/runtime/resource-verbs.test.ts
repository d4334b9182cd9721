import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mergeResources } from '../../runtime/container-update.ts';
import { duration } from './events.ts';
import { filterPs } from './ps.ts';
import { size } from './update.ts';

describe('update / events / ps parsing', () => {
  test('sizes as runc takes them (binary units)', () => {
    assert.deepEqual(['512', '64k', '128m', '128M', '1g', '1.5g', '2GiB', '10mb', '-1'].map((v) => size(v, 'memory')), [
      512, 65536, 134217728, 134217728, 1073741824, 1610612736, 2147483648, 10485760, -1,
    ]);
    assert.throws(() => size('12zb', 'memory'), /--memory: invalid size "12zb"/);
    assert.throws(() => size('-2', 'memory'), /invalid size/);
  });

  test('Go durations for events --interval', () => {
    assert.deepEqual(['5s', '500ms', '1m30s', '1.5s', '2h'].map(duration), [5000, 500, 90_000, 1500, 7_200_000]);
    for (const bad of ['', '5', 'soon', '0s', '5s ']) assert.throws(() => duration(bad), /invalid --interval/);
  });

  test('ps keeps the header and the rows of the given pids, whatever the PID column', () => {
    const text = '  PID COMMAND\n    1 init\n   42 sleep\n  420 sh\n';
    assert.equal(filterPs(text, new Set([42])), '  PID COMMAND\n   42 sleep\n');
    assert.equal(filterPs('UID PID CMD\nroot 7 x\nroot 42 y\n', new Set([7])), 'UID PID CMD\nroot 7 x\n');
    assert.throws(() => filterPs('COMMAND\nx\n', new Set()), /no PID column/);
  });

  test('update merges field by field within a section; lists are replaced', () => {
    const old = { memory: { limit: 1, swap: 2 }, devices: [{ allow: false }], pids: { limit: 5 } };
    assert.deepEqual(mergeResources(old, { memory: { limit: 3 }, cpu: { shares: 2 }, devices: [] }), {
      memory: { limit: 3, swap: 2 },
      devices: [],
      pids: { limit: 5 },
      cpu: { shares: 2 },
    });
  });
});
