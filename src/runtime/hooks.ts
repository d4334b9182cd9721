import { spawn } from 'node:child_process';
import { HakoError } from '../common/errors.ts';
import type { HookPhase, OciState, SpecHook } from './spec-types.ts';

/**
 * Runs the hooks that live in the runtime's namespace (prestart, createRuntime,
 * poststart, poststop) one after another, each with the OCI state on stdin.
 * createContainer and startContainer run inside the container, in native/.
 */
export async function runHooks(phase: HookPhase, hooks: SpecHook[] | undefined, state: OciState): Promise<void> {
  for (const [i, hook] of (hooks ?? []).entries()) await runHook(phase, i, hook, state);
}

function runHook(phase: HookPhase, index: number, hook: SpecHook, state: OciState): Promise<void> {
  const what = `${phase} hook #${index} (${hook.path})`;
  const args = hook.args?.length ? hook.args : [hook.path];
  return new Promise((resolve, reject) => {
    const child = spawn(hook.path, args.slice(1), {
      argv0: args[0]!,
      env: Object.fromEntries((hook.env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])),
      stdio: ['pipe', 'inherit', 'inherit'],
    });
    let timer: NodeJS.Timeout | undefined;
    if (hook.timeout) {
      timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new HakoError('hook-failed', `${what}: timed out after ${hook.timeout} s`));
      }, hook.timeout * 1000);
    }
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new HakoError('hook-failed', `${what}: ${err.message}`));
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new HakoError('hook-failed', `${what}: ${signal ? `killed by ${signal}` : `exit status ${code}`}`));
    });
    child.stdin.on('error', () => {}); // a hook need not read its stdin
    child.stdin.end(JSON.stringify(state));
  });
}
