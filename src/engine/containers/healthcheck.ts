import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { atomicWriteFile } from '../../common/fs.ts';
import { HAKO_HOME } from '../../runtime/paths.ts';
import type { ContainerEngine } from './engine.ts';
import { readHealth, type Health } from './health-state.ts';
import type { Container } from './record.ts';
import { readFileSync } from 'node:fs';
import type { Spec } from '../../runtime/spec-types.ts';

const OUTPUT_LIMIT = 4096;
const LOG_KEEP = 5;

/**
 * One health probe (Docker's rules): the test command runs in the container; exit 0 is
 * healthy, anything else (or the timeout) a failure; failures inside the start period do
 * not count; after Retries failures in a row the container is unhealthy. The result
 * lands in ROOT/containers/ID/health.json (State.Health), the last five kept.
 */
export async function runHealthcheck(eng: ContainerEngine, c: Container): Promise<void> {
  const hc = c.settings.Config.Healthcheck;
  const test = hc?.Test ?? [];
  if (!test.length || test[0] === 'NONE') return;
  const cmd = test[0] === 'CMD-SHELL' ? ['/bin/sh', '-c', test[1] ?? ''] : test.slice(1);
  const timeoutMs = (hc?.Timeout || 30e9) / 1e6;
  const retries = hc?.Retries || 3;
  const startPeriodMs = (hc?.StartPeriod || 0) / 1e6;
  const files = eng.files(c.id);
  const spec = JSON.parse(readFileSync(files.bundleConfig, 'utf8')) as Spec;
  const procFile = join(files.dir, `health-${process.pid}.json`);
  atomicWriteFile(procFile, JSON.stringify({ ...spec.process, args: cmd, terminal: false }), 0o600);
  const start = new Date();
  let output = '';
  let code: number;
  try {
    code = await new Promise<number>((resolve) => {
      const child = spawn(join(HAKO_HOME, 'bin', 'hako-runtime'), ['--root', eng.runtime.root, 'exec', '--process', procFile, c.id], { stdio: ['ignore', 'pipe', 'pipe'] });
      const take = (d: Buffer) => {
        if (output.length < OUTPUT_LIMIT) output += d.toString().slice(0, OUTPUT_LIMIT - output.length);
      };
      child.stdout.on('data', take);
      child.stderr.on('data', take);
      const timer = setTimeout(() => {
        output = `Health check exceeded timeout (${timeoutMs / 1000}s)`;
        child.kill('SIGKILL');
        resolve(-1);
      }, timeoutMs);
      child.on('exit', (status) => {
        clearTimeout(timer);
        resolve(status ?? -1);
      });
    });
  } finally {
    rmSync(procFile, { force: true });
  }
  const prev = readHealth(files.health);
  const started = Date.parse(eng.state(c).StartedAt);
  const inStartPeriod = Date.now() - started < startPeriodMs;
  const next: Health = { ...prev, Log: [...prev.Log, { Start: start.toISOString(), End: new Date().toISOString(), ExitCode: code, Output: output }].slice(-LOG_KEEP) };
  if (code === 0) {
    next.Status = 'healthy';
    next.FailingStreak = 0;
  } else if (!inStartPeriod || prev.Status !== 'starting') {
    next.FailingStreak = prev.FailingStreak + 1;
    if (next.FailingStreak >= retries) next.Status = 'unhealthy';
  }
  atomicWriteFile(files.health, JSON.stringify(next));
}
