// The bench's stopwatch: a small Node process that runs commands on request and reports
// how long each took. Every timed command, hako's and the peers', is started from one of
// these (same code path, same small parent), never from the runner itself, whose heap
// holds images and results. One request per line of JSON on stdin, one answer per line
// on stdout:
//   {"id":1,"cmd":"runc","args":[...],"env":{...},"timeoutMs":60000}
//     → {"id":1,"ms":12.3,"status":0,"signal":null,"stdout":"…","stderr":"…"}
//   {"id":2,"parallel":[{"cmd":…,"args":…}, …]}   all started at once; ms until the last exits
//     → {"id":2,"ms":…,"each":[{"ms":…,"status":…,"stderr":…}, …]}
// The crun stopwatch runs in a private mount namespace (see bench/bench.mjs). Its arguments
// (--work DIR) only name the bench's work dir, for the backstop cleanup in bench/run.
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';

const TAIL = 4000;
const tail = (s) => (s && s.length > TAIL ? `…${s.slice(-TAIL)}` : s ?? '');

function runOne(req) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(req.cmd, req.args ?? [], {
    env: req.env ?? process.env,
    cwd: req.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    timeout: req.timeoutMs ?? 300_000,
    maxBuffer: 64 << 20,
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return { ms, status: r.status, signal: r.signal, error: r.error ? String(r.error.message) : undefined, stdout: tail(r.stdout), stderr: tail(r.stderr) };
}

function runParallel(items, timeoutMs = 600_000) {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const each = new Array(items.length);
    let left = items.length;
    items.forEach((it, i) => {
      let stdout = '';
      let stderr = '';
      const p = spawn(it.cmd, it.args ?? [], { env: it.env ?? process.env, cwd: it.cwd, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
      p.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
      p.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
      let done = false;
      const finish = (status, signal, error) => {
        if (done) return;
        done = true;
        each[i] = { ms: Number(process.hrtime.bigint() - t0) / 1e6, status, signal, error, stdout: tail(stdout), stderr: tail(stderr) };
        if (--left === 0) resolve({ ms: Math.max(...each.map((e) => e.ms)), each });
      };
      p.on('error', (e) => finish(null, null, String(e.message)));
      p.on('close', (status, signal) => finish(status, signal));
    });
  });
}

// The runner gone (stdin closed, or stdout a broken pipe): stop, and take what runs with us.
process.stdout.on('error', () => process.exit(1));

for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const req = JSON.parse(line);
  const res = req.parallel ? await runParallel(req.parallel, req.timeoutMs) : runOne(req);
  process.stdout.write(`${JSON.stringify({ id: req.id, ...res })}\n`);
}
