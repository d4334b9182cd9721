import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { baseSpec, Bundle, REPO, runScript } from '../helpers/bundle.ts';

const EXECUTOR = join(REPO, 'native', 'build', 'hako-exec');
const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('a container cannot overwrite the runtime through /proc/PID/exe (CVE-2019-5736 class)', () => {
  test('a process in the container, running while the executor is its PID 1, cannot write to it', () => {
    const before = sha(EXECUTOR);
    const r = runScript('cat /out/result', (s, b) => {
      const out = join(b.dir, 'out');
      mkdirSync(out);
      s.mounts!.push({ destination: '/out', type: 'bind', source: out, options: ['bind'] });
      // startContainer hooks run inside the container while PID 1 is still the executor.
      s.hooks = {
        startContainer: [
          {
            path: '/bin/sh',
            args: ['sh', '-c', 'echo "exe=$(readlink /proc/1/exe)" > /out/result; (echo pwned > /proc/1/exe) 2>/dev/null && echo written >> /out/result || echo refused >> /out/result; (echo pwned >> /proc/1/exe) 2>/dev/null && echo appended >> /out/result; true'],
          },
        ],
      };
    });
    assert.equal(r.status, 0, r.stderr);
    const [exe, outcome, extra] = r.stdout.trim().split('\n');
    assert.equal(outcome, 'refused', r.stdout);
    assert.equal(extra, undefined, r.stdout);
    // What PID 1 runs from is not the host's file.
    assert.doesNotMatch(exe!, new RegExp(EXECUTOR.replace(/\//g, '\\/')));
    assert.equal(sha(EXECUTOR), before);
  });
});

describe('no host descriptor or directory reaches the container (CVE-2024-21626 class)', () => {
  // Whatever fd numbers the executor holds, none may serve as a way out.
  for (let fd = 3; fd <= 10; fd++) {
    test(`cwd /proc/self/fd/${fd} fails or stays inside`, () => {
      const r = runScript('realpath . && ls -a | head -n 3 | tr "\\n" " "', (s) => (s.process!.cwd = `/proc/self/fd/${fd}`));
      if (r.status === 0) assert.match(r.stdout, /^\/[^\n]*\n/, `must be a path inside: ${r.stdout}`);
      else assert.match(r.stderr, /hako: chdir \/proc\/self\/fd\/\d+: /);
      assert.doesNotMatch(r.stdout, /unreachable|hako-test-|state/);
    });
  }

  describe('exec --cwd through an fd', () => {
    const b = new Bundle(baseSpec('sleep 30'));
    after(() => b.cleanup());
    test('is refused or stays inside, for every low fd', () => {
      assert.equal(b.hako(['run', '-d', '-b', b.dir, b.id]).status, 0);
      for (let fd = 3; fd <= 10; fd++) {
        const r = b.hako(['exec', '--cwd', `/proc/self/fd/${fd}`, b.id, 'sh', '-c', 'realpath .']);
        if (r.status === 0) assert.match(r.stdout, /^\/[^\n]*\n$/, `fd ${fd}: ${r.stdout}`);
        assert.doesNotMatch(r.stdout, /unreachable/);
      }
    });
  });
});
