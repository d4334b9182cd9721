import { writeSync } from 'node:fs';
import { isatty } from 'node:tty';
import { humanSize } from '../docker-args.ts';
import type { PullEvent } from '../../engine/image-pull.ts';

export type ProgressMode = 'tty' | 'plain' | 'json' | 'quiet';

/** tty when FD is a terminal, plain otherwise; --format json / -q win. */
export function progressMode(fd: number, opts: { json?: boolean; quiet?: boolean }): ProgressMode {
  if (opts.quiet) return 'quiet';
  if (opts.json) return 'json';
  return isatty(fd) ? 'tty' : 'plain';
}

/** Docker's bar: `[=====>      ]  1.2MB/3.4MB`. */
export function progressBar(current: number, total: number, width = 50): string {
  if (!(total > 0)) return `${humanSize(current)}`;
  const filled = Math.min(width, Math.floor((current / total) * width));
  const bar = filled >= width ? '='.repeat(width) : `${'='.repeat(filled)}>${' '.repeat(width - filled - 1)}`;
  return `[${bar}] ${humanSize(current).padStart(8)}/${humanSize(total)}`;
}

/**
 * Renders pull/push events as Docker does: on a terminal one line per layer, rewritten
 * in place with its bar; otherwise one line per status change (no bars); or Docker's
 * JSON message stream (the Engine API's), one object per line.
 */
export class ProgressPrinter {
  private readonly fd: number;
  private readonly mode: ProgressMode;
  private readonly lines: string[] = [];
  private readonly last = new Map<string, { status: string; at: number }>();

  constructor(fd: number, mode: ProgressMode) {
    this.fd = fd;
    this.mode = mode;
  }

  readonly event = (e: PullEvent): void => {
    if (this.mode === 'quiet') return;
    const progress = e.current !== undefined && e.total !== undefined ? progressBar(e.current, e.total) : undefined;
    if (this.mode === 'json') {
      const msg: Record<string, unknown> = { status: e.status };
      if (e.current !== undefined) msg['progressDetail'] = { current: e.current, total: e.total };
      if (progress) msg['progress'] = progress;
      if (e.id) msg['id'] = e.id;
      this.write(`${JSON.stringify(msg)}\n`);
      return;
    }
    if (!e.id) {
      this.lines.push(''); // a line of its own, so the rewrites above still count right
      this.write(`${e.status}\n`);
      return;
    }
    const prev = this.last.get(e.id);
    const now = Date.now();
    if (this.mode === 'plain') {
      // Without a terminal Docker leaves out the bars, and so the repeated statuses.
      if (prev?.status !== e.status) this.write(`${e.id}: ${e.status}\n`);
      this.last.set(e.id, { status: e.status, at: now });
      return;
    }
    if (prev && prev.status === e.status && progress && now - prev.at < 100 && e.current !== e.total) return;
    this.last.set(e.id, { status: e.status, at: now });
    const text = `${e.id}: ${e.status}${progress ? ` ${progress}` : ''}`;
    const idx = this.lines.indexOf(e.id);
    if (idx < 0) {
      this.lines.push(e.id);
      this.write(`${text}\n`);
    } else {
      const up = this.lines.length - idx;
      this.write(`\x1b[${up}A\r\x1b[2K${text}\r\x1b[${up}B`);
    }
  };

  private write(s: string): void {
    try {
      writeSync(this.fd, s);
    } catch {
      // a closed terminal or pipe: the pull goes on
    }
  }
}
