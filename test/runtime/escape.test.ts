import assert from 'node:assert/strict';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runScript } from '../helpers/bundle.ts';

/**
 * A rootfs is untrusted: its symlinks must resolve inside it when the runtime creates
 * and mounts on mount points, never on the host.
 */
describe('mount destinations cannot escape the rootfs', () => {
  const marker = `hako-escape-${process.pid}`;

  test('through an absolute symlink, a relative symlink and .. components', () => {
    const r = runScript(`grep ${marker} /proc/self/mounts | cut -d" " -f2 | sort; cat /etc/${marker}-file`, (s, b) => {
      symlinkSync('/etc', join(b.rootfs, 'evil-abs'));
      symlinkSync('../../../../../../../../etc', join(b.rootfs, 'evil-rel'));
      const src = join(b.dir, 'payload');
      writeFileSync(src, 'payload\n');
      s.mounts!.push(
        { destination: `/evil-abs/${marker}-abs`, type: 'tmpfs', source: 'tmpfs' },
        { destination: `/evil-rel/${marker}-rel`, type: 'tmpfs', source: 'tmpfs' },
        { destination: `/../../../../etc/${marker}-dots`, type: 'tmpfs', source: 'tmpfs' },
        { destination: `/evil-abs/${marker}-file`, type: 'bind', source: src, options: ['bind'] },
      );
    });
    assert.equal(r.status, 0, r.stderr);
    // Every mount landed on the container's own /etc ...
    assert.deepEqual(r.stdout.trim().split('\n'), [
      `/etc/${marker}-abs`,
      `/etc/${marker}-dots`,
      `/etc/${marker}-file`,
      `/etc/${marker}-rel`,
      'payload',
    ]);
    // ... and nothing was created on the host's.
    for (const suffix of ['abs', 'rel', 'dots', 'file']) assert.ok(!existsSync(`/etc/${marker}-${suffix}`), suffix);
  });

  test('a symlinked mount point directory chain stays inside', () => {
    const r = runScript(`test -d /etc/${marker}-chain/inner && echo inside`, (s, b) => {
      mkdirSync(join(b.rootfs, 'hop'));
      symlinkSync('/etc', join(b.rootfs, 'hop', 'to-etc'));
      symlinkSync('/hop/to-etc', join(b.rootfs, 'chain'));
      s.mounts!.push({ destination: `/chain/${marker}-chain/inner`, type: 'tmpfs', source: 'tmpfs' });
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'inside\n');
    assert.ok(!existsSync(`/etc/${marker}-chain`));
  });
});
