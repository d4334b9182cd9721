import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { baseSpec, Bundle, REPO } from '../helpers/bundle.ts';

const RECVTTY = join(REPO, 'native', 'build', 'recvtty');
const bundles: Bundle[] = [];
after(() => bundles.forEach((b) => b.cleanup()));

describe('console', () => {
  test('--console-socket receives a working pty master; the process has a controlling terminal', async () => {
    const spec = baseSpec('tty; test -t 0 && test -t 1 && echo isatty; read line; echo "got $line"');
    spec.process!.terminal = true;
    const b = new Bundle(spec);
    bundles.push(b);
    const sock = join(b.dir, 'console.sock');
    const recv = spawn(RECVTTY, [sock], { stdio: ['pipe', 'pipe', 'inherit'] });
    let output = '';
    recv.stdout.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((res) => recv.on('exit', res));
    for (let i = 0; i < 200 && !existsSync(sock); i++) await delay(10);

    const c = b.hako(['create', '--console-socket', sock, '-b', b.dir, b.id]);
    assert.equal(c.status, 0, c.stderr);
    assert.equal(b.hako(['start', b.id]).status, 0);
    recv.stdin.write('typed-in\n');
    const code = await Promise.race([exited, delay(10_000).then(() => 'timeout')]);
    assert.equal(code, 0, `recvtty: ${code}, output so far: ${JSON.stringify(output)}`);
    const lines = output.split(/\r?\n/).map((l) => l.trim());
    assert.match(lines[0]!, /^\/dev\/(pts\/\d+|console)$/);
    assert.ok(lines.includes('isatty'), output);
    assert.ok(lines.includes('got typed-in'), output);
    assert.equal(b.hako(['delete', b.id]).status, 0);
    assert.deepEqual(b.leftovers(), []);
  });

  test('terminal without --console-socket is refused clearly', () => {
    const spec = baseSpec('true');
    spec.process!.terminal = true;
    const b = new Bundle(spec);
    bundles.push(b);
    const r = b.hako(['create', '-b', b.dir, b.id]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /--console-socket is required/);
    assert.deepEqual(b.leftovers(), []);
  });
});
