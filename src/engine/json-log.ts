import { closeSync, fstatSync, openSync, readdirSync, readSync, statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { isErrno, systemError } from '../common/errors.ts';
import { formatRfc3339NanoFixed, parseRfc3339 } from './log-time.ts';

export { parseSince, formatRfc3339Nano, formatRfc3339NanoFixed } from './log-time.ts';

/**
 * Reading Docker's json-file logs as the container monitor writes them (native/MONITOR.md,
 * "Output"): one `{"log":…,"stream":…,"time":…}` object per line, rotated as FILE,
 * FILE.1 (the newest rotated) … FILE.(N-1).
 */

export interface LogEntry {
  stream: 'stdout' | 'stderr';
  /** as written in the file */
  time: string;
  timeNs: bigint;
  log: string;
}

export interface ReadLogsOptions {
  /** keep entries at or after this time (ns since the epoch) */
  since?: bigint;
  /** keep entries at or before this time */
  until?: bigint;
  /** only the last N entries (after since/until); -1 or undefined = all */
  tail?: number;
}

/** `docker logs [-t]` output for one entry: the time has nine fraction digits, as Docker prints it. */
export function formatLogEntry(e: LogEntry, timestamps: boolean): string {
  return timestamps ? `${formatRfc3339NanoFixed(e.timeNs)} ${e.log}` : e.log;
}

/** Every entry of FILE and its rotated files, oldest first. Damaged lines are skipped. */
export function readLogs(file: string, opts: ReadLogsOptions = {}): LogEntry[] {
  const keep = new Collector(opts);
  for (const f of openLogSet(file)) {
    try {
      f.read(keep.push, true);
    } finally {
      f.close();
    }
  }
  return keep.result();
}

/**
 * `docker logs -f`: the tail of what is there, then every entry appended, across
 * rotations. Returns when done() (checked before each read, so that what was written
 * before it turned true is still read) and nothing is left, when an entry after
 * `until` shows up, or when SIGNAL aborts.
 */
export async function followLogs(
  file: string,
  opts: ReadLogsOptions & { tail: number },
  onEntry: (e: LogEntry) => void,
  done: () => boolean,
  signal?: AbortSignal,
): Promise<void> {
  const wake = new Waker(dirname(file), signal);
  let current: LogCursor | undefined;
  let pastUntil = false;
  const emit = (e: LogEntry) => {
    if (opts.until !== undefined && e.timeNs > opts.until) pastUntil = true;
    else if (opts.since === undefined || e.timeNs >= opts.since) onEntry(e);
  };
  try {
    const initial = new Collector(opts);
    const files = openLogSet(file);
    const last = files.at(-1);
    for (const f of files) {
      if (f === last && f.isCurrent) continue;
      f.read(initial.push, true);
      f.close();
    }
    if (last?.isCurrent) {
      current = last;
      current.read(initial.push, false);
    }
    for (const e of initial.result()) onEntry(e);
    if (opts.until !== undefined && initial.sawAfterUntil) return;

    for (;;) {
      if (signal?.aborted) return;
      const finished = done();
      current = followStep(file, current, emit, finished);
      if (pastUntil || finished) return;
      await wake.wait(POLL_MS);
    }
  } finally {
    current?.close();
    wake.close();
  }
}

const POLL_MS = 100;
const CHUNK = 64 * 1024;

/**
 * One round of following: what was appended to CURRENT, then, if FILE is now another
 * file (rotated), the rest of the old one, any rotated files written in between, and
 * the new one from its start. Returns the cursor to follow next.
 */
function followStep(file: string, current: LogCursor | undefined, emit: (e: LogEntry) => void, final: boolean): LogCursor | undefined {
  current?.read(emit, false);
  const next = LogCursor.open(file, true);
  if (!next) {
    if (final) current?.read(emit, true);
    return current;
  }
  if (current && next.ino === current.ino) {
    next.close();
    if (current.truncated()) current.rewind();
    current.read(emit, final);
    return current;
  }
  if (current) {
    // Rotated: the writer renamed the old file before opening the new one, so the
    // old one is complete — a line left without its newline is flushed as is.
    current.read(emit, true);
    const between = rotatedSince(file, current.ino, next.ino);
    current.close();
    for (const f of between) {
      try {
        f.read(emit, true);
      } finally {
        f.close();
      }
    }
  }
  next.read(emit, final);
  return next;
}

/**
 * The rotated files newer than the one with inode OLD (all of them when it has been
 * rotated away entirely), oldest first, skipping NEWEST (the file now followed, should
 * it already have been rotated too).
 */
function rotatedSince(file: string, old: number, newest: number): LogCursor[] {
  const rotated = rotatedPaths(file)
    .map((p) => LogCursor.open(p, false))
    .filter((c): c is LogCursor => c !== undefined);
  const oldAt = rotated.findIndex((c) => c.ino === old);
  const newAt = rotated.findIndex((c) => c.ino === newest);
  const keep = rotated.slice(oldAt < 0 ? 0 : oldAt + 1, newAt < 0 ? rotated.length : newAt);
  for (const c of rotated) if (!keep.includes(c)) c.close();
  return keep;
}

/** FILE.N … FILE.1 (oldest first) as they are now; gaps (a rotation in progress) are fine. */
function rotatedPaths(file: string): string[] {
  const base = basename(file);
  let names: string[];
  try {
    names = readdirSync(dirname(file));
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return [];
    throw systemError(err, `read log directory ${dirname(file)}`);
  }
  return names
    .filter((n) => n.startsWith(`${base}.`) && /^[1-9]\d*$/.test(n.slice(base.length + 1)))
    .map((n) => ({ n, i: Number(n.slice(base.length + 1)) }))
    .sort((a, b) => b.i - a.i)
    .map(({ n }) => join(dirname(file), n));
}

/**
 * All log files open at once, oldest first, FILE last. Opening them one by one can
 * straddle a rotation (FILE read twice, once as FILE.1); that is detected by comparing
 * inodes after opening and retried.
 */
function openLogSet(file: string): LogCursor[] {
  for (let attempt = 0; ; attempt++) {
    const paths = [...rotatedPaths(file), file];
    const cursors = paths.map((p) => LogCursor.open(p, p === file)).filter((c): c is LogCursor => c !== undefined);
    const inodes = new Set(cursors.map((c) => c.ino));
    const stable = inodes.size === cursors.length && cursors.every((c) => sameFile(c));
    if (stable || attempt >= 5) return cursors;
    for (const c of cursors) c.close();
  }
}

function sameFile(c: LogCursor): boolean {
  try {
    return statSync(c.path).ino === c.ino;
  } catch {
    return false;
  }
}

/** An open log file and how far it has been read; a line without its newline waits in `partial`. */
class LogCursor {
  readonly path: string;
  readonly ino: number;
  /** FILE itself, not a rotated one */
  readonly isCurrent: boolean;
  private fd: number;
  private offset = 0;
  private partial: Buffer = Buffer.alloc(0);

  private constructor(path: string, fd: number, ino: number, isCurrent: boolean) {
    this.path = path;
    this.fd = fd;
    this.ino = ino;
    this.isCurrent = isCurrent;
  }

  static open(path: string, isCurrent: boolean): LogCursor | undefined {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw systemError(err, `open log ${path}`);
    }
    return new LogCursor(path, fd, fstatSync(fd).ino, isCurrent);
  }

  /** Everything up to the end of the file; with FLUSH a last line without a newline too. */
  read(onEntry: (e: LogEntry) => void, flush: boolean): void {
    const buf = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const n = readSync(this.fd, buf, 0, CHUNK, this.offset);
      if (n === 0) break;
      this.offset += n;
      const data = this.partial.length ? Buffer.concat([this.partial, buf.subarray(0, n)]) : buf.subarray(0, n);
      let start = 0;
      for (let nl = data.indexOf(0x0a, start); nl >= 0; nl = data.indexOf(0x0a, start)) {
        const e = parseLine(data.toString('utf8', start, nl));
        if (e) onEntry(e);
        start = nl + 1;
      }
      this.partial = Buffer.from(data.subarray(start)); // a copy: buf is reused
    }
    if (flush && this.partial.length) {
      const e = parseLine(this.partial.toString('utf8'));
      this.partial = Buffer.alloc(0);
      if (e) onEntry(e);
    }
  }

  /** max-file 1 rotation truncates in place: the file is now shorter than what was read */
  truncated(): boolean {
    return fstatSync(this.fd).size < this.offset;
  }

  rewind(): void {
    this.offset = 0;
    this.partial = Buffer.alloc(0);
  }

  close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
  }
}

/** One line of the file, or undefined when it is not a well-formed entry. */
function parseLine(line: string): LogEntry | undefined {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof o !== 'object' || o === null) return undefined;
  const { log, stream, time } = o as Record<string, unknown>;
  if (typeof log !== 'string' || typeof time !== 'string') return undefined;
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const timeNs = parseRfc3339(time);
  return timeNs === undefined ? undefined : { stream, time, timeNs, log };
}

/** since/until filter, then the last `tail` entries (a bounded buffer: a log can be huge). */
class Collector {
  private readonly opts: ReadLogsOptions;
  private entries: LogEntry[] = [];
  sawAfterUntil = false;

  constructor(opts: ReadLogsOptions) {
    this.opts = opts;
  }

  readonly push = (e: LogEntry): void => {
    const { since, until, tail } = this.opts;
    if (since !== undefined && e.timeNs < since) return;
    if (until !== undefined && e.timeNs > until) {
      this.sawAfterUntil = true;
      return;
    }
    if (tail === 0) return;
    this.entries.push(e);
    if (tail !== undefined && tail > 0 && this.entries.length >= 2 * tail) this.entries = this.entries.slice(-tail);
  };

  result(): LogEntry[] {
    const { tail } = this.opts;
    return tail !== undefined && tail >= 0 ? this.entries.slice(Math.max(0, this.entries.length - tail)) : this.entries;
  }
}

/** Wakes the follow loop after POLL_MS, sooner when the log directory changes, at once on abort. */
class Waker {
  private readonly signal: AbortSignal | undefined;
  private watcher: FSWatcher | undefined;
  private resolve: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly fire = (): void => {
    clearTimeout(this.timer);
    const r = this.resolve;
    this.resolve = undefined;
    r?.();
  };

  constructor(dir: string, signal: AbortSignal | undefined) {
    this.signal = signal;
    try {
      this.watcher = watch(dir, { persistent: false }, this.fire);
      this.watcher.on('error', () => this.watcher?.close());
    } catch {
      // No directory yet, or no inotify watches left: polling alone will do.
    }
    signal?.addEventListener('abort', this.fire);
  }

  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.resolve = resolve;
      this.timer = setTimeout(this.fire, ms);
    });
  }

  close(): void {
    clearTimeout(this.timer);
    this.watcher?.close();
    this.signal?.removeEventListener('abort', this.fire);
  }
}
