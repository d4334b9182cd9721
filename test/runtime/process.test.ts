import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runScript } from '../helpers/bundle.ts';

describe('process', () => {
  test('runs with the configured uid, gid, additional gids, umask, cwd and env', () => {
    const r = runScript('id -u; id -g; grep ^Groups: /proc/self/status; umask; pwd; echo "$GREETING"; env | grep -c .', (s) => {
      s.process!.user = { uid: 1000, gid: 1000, additionalGids: [5, 65534], umask: 0o027 };
      s.process!.cwd = '/home/user';
      s.process!.env = ['PATH=/bin', 'GREETING=hello there'];
    });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => l.trim().replace(/\s+/g, ' '));
    assert.deepEqual(lines.slice(0, 6), ['1000', '1000', 'Groups: 5 65534', '0027', '/home/user', 'hello there']);
  });

  test('a missing cwd fails with a clear error', () => {
    const r = runScript('pwd', (s) => {
      s.process!.cwd = '/does/not/exist';
    });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^hako: chdir .*\/does\/not\/exist.*: No such file or directory/m);
  });

  test('the default umask is 0022 and the program is looked up in the env PATH', () => {
    const r = runScript('umask; which busybox', (s) => {
      s.process!.env = ['PATH=/bin'];
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '0022\n/bin/busybox\n');
  });

  test('no host file descriptor reaches the container (only 0, 1, 2)', () => {
    const r = runScript('ls /proc/self/fd | sort -n | tr "\\n" " "');
    assert.equal(r.status, 0, r.stderr);
    // ls itself opens one fd for the directory it lists
    assert.match(r.stdout, /^0 1 2 3? ?$/);
  });
});
