import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { HakoError } from '../common/errors.ts';
import { followLogs, formatLogEntry, formatRfc3339Nano, parseSince, readLogs, type LogEntry } from './json-log.ts';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function logDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'hako-json-log-'));
  dirs.push(d);
  return d;
}

/** Go's json.Marshal escapes <, > and & (as Docker's json-file does); JSON.stringify does not. */
function goJson(s: string): string {
  return JSON.stringify(s).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

/** One line exactly as Docker's json-file driver writes it. */
function line(log: string, second: number, stream: 'stdout' | 'stderr' = 'stdout', nanos = 123456789): string {
  const time = `2026-11-23T10:00:${String(second).padStart(2, '0')}.${String(nanos).padStart(9, '0')}Z`;
  return `{"log":${goJson(log)},"stream":"${stream}","time":"${time}"}\n`;
}

const ns = (second: number, nanos = 123456789) => BigInt(Date.UTC(2026, 10, 23, 10, 0, second)) * 1_000_000n + BigInt(nanos);
const logs = (entries: LogEntry[]) => entries.map((e) => e.log);

describe('readLogs', () => {
  test('reads rotated files oldest first, then the current file', () => {
    const d = logDir();
    const f = join(d, 'c-json.log');
    writeFileSync(`${f}.2`, line('a\n', 1) + line('b\n', 2));
    writeFileSync(`${f}.1`, line('c\n', 3, 'stderr'));
    writeFileSync(f, line('d\n', 4) + line('e\n', 5));
    const got = readLogs(f, {});
    assert.deepEqual(logs(got), ['a\n', 'b\n', 'c\n', 'd\n', 'e\n']);
    assert.equal(got[2]!.stream, 'stderr');
    assert.equal(got[0]!.time, '2026-11-23T10:00:01.123456789Z');
    assert.equal(got[0]!.timeNs, ns(1));
  });

  test('missing files give no entries', () => {
    const d = logDir();
    assert.deepEqual(readLogs(join(d, 'nothing.log'), {}), []);
    assert.deepEqual(readLogs(join(d, 'no', 'such', 'dir.log'), { tail: 3 }), []);
  });

  test('damaged lines are skipped, partial lines kept only when complete', () => {
    const d = logDir();
    const f = join(d, 'c.log');
    writeFileSync(
      f,
      line('ok1\n', 1) +
        'garbage\n' +
        '{"log":"no stream","time":"2026-11-23T10:00:00Z"}\n' +
        '{"log":"bad stream","stream":"stdin","time":"2026-11-23T10:00:00Z"}\n' +
        '{"log":"bad time","stream":"stdout","time":"yesterday"}\n' +
        '{"log":"no zone","stream":"stdout","time":"2026-11-23T10:00:00"}\n' +
        '{"log":1,"stream":"stdout","time":"2026-11-23T10:00:00Z"}\n' +
        '[1,2,3]\n' +
        'null\n' +
        '\n' +
        '{"log":"trunc' + '\n' +
        line('ok2\n', 2) +
        // the writer's last line, interrupted: no newline, not JSON yet
        '{"log":"half',
    );
    assert.deepEqual(logs(readLogs(f, {})), ['ok1\n', 'ok2\n']);
    // a rotated file's last line without its newline but complete is an entry
    writeFileSync(`${f}.1`, line('old\n', 0).trimEnd());
    assert.deepEqual(logs(readLogs(f, {})), ['old\n', 'ok1\n', 'ok2\n']);
  });

  test('unicode, escapes and a character split across read chunks', () => {
    const d = logDir();
    const f = join(d, 'c.log');
    const head = '{"log":"';
    // place a 4-byte emoji so that it straddles the 64 KiB read boundary
    const pad = 'x'.repeat(65536 - head.length - 2);
    const long = `${pad}😀 é 中文\n`;
    const raw =
      head + long.replace('\n', '\\n') + '","stream":"stdout","time":"2026-11-23T10:00:01Z"}\n' +
      line('<tag> & "quotes" \\ tab\t cr\r\n', 2) +
      '{"log":"\\u00e9\\ufffd\\u0001\\n","stream":"stderr","time":"2026-11-23T10:00:03.5+01:00"}\n';
    writeFileSync(f, raw);
    const got = readLogs(f, {});
    assert.equal(got.length, 3);
    assert.equal(got[0]!.log, long);
    assert.equal(got[1]!.log, '<tag> & "quotes" \\ tab\t cr\r\n');
    assert.equal(got[2]!.log, 'é\ufffd\u0001\n');
    assert.equal(got[2]!.timeNs, BigInt(Date.UTC(2026, 10, 23, 9, 0, 3)) * 1_000_000n + 500_000_000n);
  });

  test('since, until and tail', () => {
    const d = logDir();
    const f = join(d, 'c.log');
    writeFileSync(`${f}.1`, [1, 2, 3].map((s) => line(`l${s}\n`, s)).join(''));
    writeFileSync(f, [4, 5, 6, 7].map((s) => line(`l${s}\n`, s)).join(''));
    assert.deepEqual(logs(readLogs(f, { tail: 2 })), ['l6\n', 'l7\n']);
    assert.deepEqual(logs(readLogs(f, { tail: 5 })), ['l3\n', 'l4\n', 'l5\n', 'l6\n', 'l7\n']);
    assert.deepEqual(logs(readLogs(f, { tail: 100 })).length, 7);
    assert.deepEqual(logs(readLogs(f, { tail: 0 })), []);
    assert.deepEqual(logs(readLogs(f, { tail: -1 })).length, 7);
    // since is inclusive, to the nanosecond
    assert.deepEqual(logs(readLogs(f, { since: ns(5) })), ['l5\n', 'l6\n', 'l7\n']);
    assert.deepEqual(logs(readLogs(f, { since: ns(5) + 1n })), ['l6\n', 'l7\n']);
    // until is inclusive
    assert.deepEqual(logs(readLogs(f, { until: ns(2) })), ['l1\n', 'l2\n']);
    assert.deepEqual(logs(readLogs(f, { until: ns(2) - 1n })), ['l1\n']);
    assert.deepEqual(logs(readLogs(f, { since: ns(2), until: ns(5) })), ['l2\n', 'l3\n', 'l4\n', 'l5\n']);
    // tail applies to what since/until kept
    assert.deepEqual(logs(readLogs(f, { since: ns(2), until: ns(5), tail: 2 })), ['l4\n', 'l5\n']);
    assert.deepEqual(logs(readLogs(f, { since: ns(6), tail: 5 })), ['l6\n', 'l7\n']);
    assert.deepEqual(logs(readLogs(f, { since: ns(8) })), []);
  });

  test('a long log keeps only what tail needs', () => {
    const d = logDir();
    const f = join(d, 'c.log');
    const lines: string[] = [];
    for (let i = 0; i < 5000; i++) lines.push(line(`n${i}\n`, i % 60));
    writeFileSync(f, lines.join(''));
    assert.deepEqual(logs(readLogs(f, { tail: 3 })), ['n4997\n', 'n4998\n', 'n4999\n']);
  });
});

describe('formatLogEntry', () => {
  const e = (time: string, timeNs: bigint): LogEntry => ({ stream: 'stdout', time, timeNs, log: 'hi\n' });
  test('without timestamps: the log as it is', () => {
    assert.equal(formatLogEntry(e('2026-11-23T10:00:00.1Z', ns(0, 100000000)), false), 'hi\n');
  });
  test('with timestamps: nine fraction digits in UTC, as docker logs -t prints', () => {
    assert.equal(formatLogEntry(e('x', ns(0, 123400000)), true), '2026-11-23T10:00:00.123400000Z hi\n');
    assert.equal(formatLogEntry(e('x', ns(0, 0)), true), '2026-11-23T10:00:00.000000000Z hi\n');
    assert.equal(formatLogEntry(e('x', ns(59, 1)), true), '2026-11-23T10:00:59.000000001Z hi\n');
  });
  test('Go RFC3339Nano trims trailing zeros', () => {
    assert.equal(formatRfc3339Nano(ns(0, 123400000)), '2026-11-23T10:00:00.1234Z');
    assert.equal(formatRfc3339Nano(ns(0, 0)), '2026-11-23T10:00:00Z');
    assert.equal(formatRfc3339Nano(ns(10, 500000000)), '2026-11-23T10:00:10.5Z');
  });
});

describe('parseSince', () => {
  const now = new Date(Date.UTC(2026, 10, 23, 12, 0, 0, 250));
  const nowNs = BigInt(now.getTime()) * 1_000_000n;
  const S = 1_000_000_000n;
  const utc = (...a: [number, number, number, number?, number?, number?]) =>
    BigInt(Date.UTC(a[0], a[1] - 1, a[2], a[3] ?? 0, a[4] ?? 0, a[5] ?? 0)) * 1_000_000n;
  // Docker reads a value without a zone in the local zone, at now's offset
  const local = -BigInt(now.getTimezoneOffset()) * 60n * S;

  test('RFC 3339 with a zone', () => {
    assert.equal(parseSince('2026-11-23T10:00:00Z', now), utc(2026, 11, 23, 10));
    assert.equal(parseSince('2026-11-23T10:00:00.5Z', now), utc(2026, 11, 23, 10) + S / 2n);
    assert.equal(parseSince('2026-11-23T10:00:00.123456789Z', now), utc(2026, 11, 23, 10) + 123456789n);
    assert.equal(parseSince('2026-11-23T10:00:00.1234567891Z', now), utc(2026, 11, 23, 10) + 123456789n);
    assert.equal(parseSince('2026-11-23T10:00:00+02:00', now), utc(2026, 11, 23, 8));
    assert.equal(parseSince('2026-11-23T10:00:00.25-01:30', now), utc(2026, 11, 23, 11, 30) + S / 4n);
    assert.equal(parseSince('2026-11-23T10:00Z', now), utc(2026, 11, 23, 10));
    assert.equal(parseSince('2026-11-23T10Z', now), utc(2026, 11, 23, 10));
    assert.equal(parseSince('2026-11-23Z', now), utc(2026, 11, 23));
    assert.equal(parseSince('2024-02-29T00:00:00Z', now), utc(2024, 2, 29));
    assert.equal(parseSince('0050-01-01T00:00:00Z', now), BigInt(new Date('0050-01-01T00:00:00Z').getTime()) * 1_000_000n);
  });

  test('without a zone: local time', () => {
    assert.equal(parseSince('2026-11-23', now), utc(2026, 11, 23) - local);
    assert.equal(parseSince('2026-11-23T15:04:05', now), utc(2026, 11, 23, 15, 4, 5) - local);
    assert.equal(parseSince('2026-11-23T15:04:05.000000001', now), utc(2026, 11, 23, 15, 4, 5) - local + 1n);
    assert.equal(parseSince('2026-11-23T15:04', now), utc(2026, 11, 23, 15, 4) - local);
    assert.equal(parseSince('2026-11-23T15', now), utc(2026, 11, 23, 15) - local);
  });

  test('Unix seconds', () => {
    assert.equal(parseSince('1700000000', now), 1700000000n * S);
    assert.equal(parseSince('1700000000.5', now), 1700000000n * S + S / 2n);
    assert.equal(parseSince('1700000000.000000001', now), 1700000000n * S + 1n);
    assert.equal(parseSince('0', now), 0n);
    assert.equal(parseSince('10', now), 10n * S); // a number without a unit is not a duration
  });

  test('Go durations before now', () => {
    assert.equal(parseSince('10m', now), nowNs - 600n * S);
    assert.equal(parseSince('1h30m', now), nowNs - 5400n * S);
    assert.equal(parseSince('500ms', now), nowNs - S / 2n);
    assert.equal(parseSince('1.5h', now), nowNs - 5400n * S);
    assert.equal(parseSince('2h45m30.5s', now), nowNs - (2n * 3600n + 45n * 60n + 30n) * S - S / 2n);
    assert.equal(parseSince('1us', now), nowNs - 1000n);
    assert.equal(parseSince('1µs', now), nowNs - 1000n);
    assert.equal(parseSince('3ns', now), nowNs - 3n);
    assert.equal(parseSince('-5m', now), nowNs + 300n * S);
    assert.equal(parseSince('.5s', now), nowNs - S / 2n);
    assert.equal(parseSince('0s', now), nowNs);
  });

  test('bad values name the value', () => {
    for (const bad of ['', 'abc', '10x', '1h-', '2026-13-01', '2026-02-30', '2025-02-29', '2026-11-23T25:00:00Z', '2026-11-23T10:60:00Z', '2026-11-23T10:00:00+25:00', '2026-11-23 10:00:00', '-', '1700000000.', 'h', '1.2.3', '2026-11-23T10:00:00.Z']) {
      assert.throws(
        () => parseSince(bad, now),
        (err: unknown) => err instanceof HakoError && err.code === 'invalid-argument' && err.message.includes(`"${bad}"`),
        `"${bad}" should be refused`,
      );
    }
  });
});

describe('followLogs', () => {
  test('prints the tail, then follows a writer across rotations', async () => {
    const d = logDir();
    const f = join(d, 'c-json.log');
    writeFileSync(`${f}.1`, line('old0\n', 0));
    writeFileSync(f, line('old1\n', 1) + line('old2\n', 2));
    let n = 0;
    let finished = false;
    // The writer: appends a line every few ms, rotating (max-file 4) every 10 lines,
    // sometimes twice between two polls; a line is sometimes written in two halves.
    const timer = setInterval(() => {
      if (n >= 60) {
        clearInterval(timer);
        finished = true;
        return;
      }
      const l = line(`new${n}\n`, 10 + (n % 40));
      if (n % 9 === 4) {
        appendFileSync(f, l.slice(0, 20));
        setTimeout(() => appendFileSync(f, l.slice(20)), 1);
      } else appendFileSync(f, l);
      n++;
      if (n % 10 === 0 || n % 23 === 0) {
        // rotate as the monitor does: FILE.2 → FILE.3, FILE.1 → FILE.2, FILE → FILE.1, new FILE
        setTimeout(() => {
          if (existsSync(`${f}.2`)) renameSync(`${f}.2`, `${f}.3`);
          if (existsSync(`${f}.1`)) renameSync(`${f}.1`, `${f}.2`);
          renameSync(f, `${f}.1`);
          writeFileSync(f, '');
        }, 2);
      }
    }, 5);
    const got: string[] = [];
    await followLogs(f, { tail: 2 }, (e) => got.push(e.log), () => finished);
    clearInterval(timer);
    const expected = ['old1\n', 'old2\n', ...Array.from({ length: 60 }, (_, i) => `new${i}\n`)];
    assert.deepEqual(got, expected);
  });

  test('waits for the file to appear, stops on abort', async () => {
    const d = logDir();
    const f = join(d, 'later.log');
    const ac = new AbortController();
    const got: string[] = [];
    setTimeout(() => writeFileSync(f, line('first\n', 1)), 50);
    setTimeout(() => appendFileSync(f, line('second\n', 2)), 150);
    setTimeout(() => ac.abort(), 400);
    const start = Date.now();
    await followLogs(f, { tail: -1 }, (e) => got.push(e.log), () => false, ac.signal);
    assert.deepEqual(got, ['first\n', 'second\n']);
    assert.ok(Date.now() - start < 2000);
  });

  test('since/until while following; an entry after until ends it', async () => {
    const d = logDir();
    const f = join(d, 'c.log');
    writeFileSync(f, line('a\n', 1) + line('b\n', 2));
    const got: string[] = [];
    setTimeout(() => appendFileSync(f, line('c\n', 3) + line('d\n', 4) + line('e\n', 5)), 50);
    await followLogs(f, { tail: -1, since: ns(2), until: ns(4) }, (e) => got.push(e.log), () => false);
    assert.deepEqual(got, ['b\n', 'c\n', 'd\n']);
  });

  test('returns at once when done and everything is read; tail 0 shows only new lines', async () => {
    const d = logDir();
    const f = join(d, 'c.log');
    writeFileSync(f, line('a\n', 1) + line('b\n', 2) + '{"log":"c\\n","stream":"stdout","time":"2026-11-23T10:00:03Z"}');
    const got: string[] = [];
    await followLogs(f, { tail: 0 }, (e) => got.push(e.log), () => true);
    // the last line lacked its newline: once the writer is done it is flushed
    assert.deepEqual(got, ['c\n']);
    const all: string[] = [];
    await followLogs(f, { tail: -1 }, (e) => all.push(e.log), () => true);
    assert.deepEqual(all, ['a\n', 'b\n', 'c\n']);
  });
});
