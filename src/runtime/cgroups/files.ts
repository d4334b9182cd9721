import { closeSync, constants, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { HakoError } from '../../common/errors.ts';

/**
 * Writes one cgroup interface file. Never creates it (O_TRUNC without O_CREAT, as the
 * kernel's files are): a missing file means this kernel lacks the knob, and the error
 * names the config field that asked for it, not just the path.
 */
export function writeCg(dir: string, file: string, value: string, field: string): void {
  const path = join(dir, file);
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_TRUNC);
  } catch (err) {
    throw cgError(err, field, value, path);
  }
  try {
    writeSync(fd, value);
  } catch (err) {
    throw cgError(err, field, value, path);
  } finally {
    closeSync(fd);
  }
}

function cgError(err: unknown, field: string, value: string, path: string): HakoError {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ENOENT') return new HakoError('invalid-config', `${field}: not supported on this host (no ${path})`, { cause: err });
  const why = e.code ? `${e.code} (${e.message.replace(/^[A-Z]+: /, '').replace(/, open .*$|, write$/, '')})` : String(err);
  const code = e.code === 'EINVAL' || e.code === 'ERANGE' || e.code === 'EBUSY' || e.code === 'EPERM' || e.code === 'EOPNOTSUPP' ? 'invalid-config' : 'system';
  return new HakoError(code, `${field}: write "${value.trim()}" to ${path}: ${why}`, { cause: err });
}

/** The file's text without the trailing newline, or undefined if it does not exist. */
export function readCg(dir: string, file: string): string | undefined {
  try {
    return readFileSync(join(dir, file), 'utf8').trimEnd();
  } catch {
    return undefined;
  }
}

export function hasCg(dir: string, file: string): boolean {
  return statSync(join(dir, file), { throwIfNoEntry: false }) !== undefined;
}

/** "key value" lines (memory.stat, cpu.stat, memory.events…) as a map of raw strings. */
export function readKeyValues(dir: string, file: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of (readCg(dir, file) ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined) out.set(k, v);
  }
  return out;
}
