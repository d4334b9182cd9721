import { appendFileSync } from 'node:fs';

/**
 * The runtime's log, as runc's `--log FILE --log-format text|json`: containerd reads the
 * last JSON error line from this file to tell the user why a runtime call failed.
 */
export interface LogSink {
  error(msg: string): void;
  warn(msg: string): void;
}

export function createLog(path: string | undefined, format: 'text' | 'json'): LogSink {
  const write = (level: string, msg: string) => {
    if (!path) return;
    const time = new Date().toISOString();
    const line =
      format === 'json'
        ? JSON.stringify({ level, msg, time }) + '\n'
        : `time="${time}" level=${level} msg=${JSON.stringify(msg)}\n`;
    try {
      appendFileSync(path, line);
    } catch {
      // The log is best effort: a missing log directory must not mask the real error.
    }
  };
  return {
    error: (msg) => write('error', msg),
    warn: (msg) => write('warning', msg),
  };
}
