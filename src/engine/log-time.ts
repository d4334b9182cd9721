import { HakoError } from '../common/errors.ts';

/**
 * Time values for `logs --since/--until` and the json-file log's "time" field, as
 * nanoseconds since the epoch (bigint: a double cannot hold nanoseconds of today).
 */

export const NS_PER_SECOND = 1_000_000_000n;
const NS_PER_MS = 1_000_000n;

// Date, then optionally hour[:minute[:second[.fraction]]], then optionally a zone.
const TIME_RE = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?)?([Zz]|[+-]\d{2}:\d{2})?$/;

interface Civil {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  nanos: bigint;
  /** minutes east of UTC; undefined when the value names no zone */
  offset: number | undefined;
  /** true when hour, minute and second were all given */
  full: boolean;
}

function parseCivil(value: string): Civil | undefined {
  const m = TIME_RE.exec(value);
  if (!m) return undefined;
  const num = (s: string | undefined) => (s === undefined ? 0 : Number(s));
  const c: Civil = {
    year: num(m[1]),
    month: num(m[2]),
    day: num(m[3]),
    hour: num(m[4]),
    minute: num(m[5]),
    second: num(m[6]),
    // Go keeps nine digits and drops the rest
    nanos: m[7] === undefined ? 0n : BigInt(m[7].slice(0, 9).padEnd(9, '0')),
    offset: zoneOffset(m[8]),
    full: m[6] !== undefined,
  };
  if (c.month < 1 || c.month > 12 || c.day < 1 || c.day > daysIn(c.year, c.month)) return undefined;
  if (c.hour > 23 || c.minute > 59 || c.second > 59) return undefined;
  if (c.offset !== undefined && Math.abs(c.offset) >= 24 * 60) return undefined;
  return c;
}

function daysIn(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
}

function zoneOffset(zone: string | undefined): number | undefined {
  if (zone === undefined) return undefined;
  if (zone === 'Z' || zone === 'z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const hours = Number(zone.slice(1, 3));
  const minutes = Number(zone.slice(4, 6));
  if (minutes > 59) return 24 * 60; // rejected by the caller's range check
  return sign * (hours * 60 + minutes);
}

function civilToNs(c: Civil, offsetMinutes: number): bigint {
  const d = new Date(0);
  d.setUTCFullYear(c.year, c.month - 1, c.day); // Date.UTC would read years 0-99 as 1900-1999
  d.setUTCHours(c.hour, c.minute, c.second, 0);
  return BigInt(d.getTime() - offsetMinutes * 60_000) * NS_PER_MS + c.nanos;
}

/** A log line's "time": RFC 3339 with seconds and a zone, any fraction. */
export function parseRfc3339(value: string): bigint | undefined {
  const c = parseCivil(value);
  if (!c || !c.full || c.offset === undefined) return undefined;
  return civilToNs(c, c.offset);
}

const UNITS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n, // U+00B5
  'μs': 1_000n, // U+03BC
  ms: NS_PER_MS,
  s: NS_PER_SECOND,
  m: 60n * NS_PER_SECOND,
  h: 3600n * NS_PER_SECOND,
};
const DURATION_PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/** Go's time.ParseDuration, exact to the nanosecond (fractions are truncated, as Go does). */
export function parseGoDuration(value: string): bigint | undefined {
  let s = value;
  let sign = 1n;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s.startsWith('-')) sign = -1n;
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') return undefined;
  let total = 0n;
  DURATION_PART.lastIndex = 0;
  while (DURATION_PART.lastIndex < s.length) {
    const m = DURATION_PART.exec(s);
    if (!m) return undefined;
    const [whole = '', frac = ''] = m[1]!.split('.');
    const unit = UNITS[m[2]!]!;
    total += BigInt(whole || '0') * unit;
    if (frac) total += (BigInt(frac) * unit) / 10n ** BigInt(frac.length);
  }
  return sign * total;
}

/**
 * Docker's `--since/--until` value (its timetypes.GetTimestamp), in nanoseconds since
 * the epoch: a Go duration before NOW (`10m`, `1h30m`, `500ms`), an RFC 3339 date or
 * time (without a zone: NOW's UTC offset, as Docker does), or Unix seconds with an
 * optional fraction (`1700000000.5`). Unlike Docker a duration keeps its sub-second
 * part (Docker truncates to whole seconds, so `--since 500ms` showed up to 1.5 s).
 */
export function parseSince(value: string, now: Date = new Date()): bigint {
  if (value !== '0') {
    const d = parseGoDuration(value);
    if (d !== undefined) return BigInt(now.getTime()) * NS_PER_MS - d;
  }
  const c = parseCivil(value);
  if (c) {
    // A value without a zone is in the local zone at NOW (a fixed offset, as Go's FixedZone).
    return civilToNs(c, c.offset ?? -now.getTimezoneOffset());
  }
  const unix = /^(\d+)(?:\.(\d+))?$/.exec(value);
  if (unix) return BigInt(unix[1]!) * NS_PER_SECOND + BigInt((unix[2] ?? '').slice(0, 9).padEnd(9, '0'));
  throw new HakoError(
    'invalid-argument',
    `invalid time value "${value}": expected a duration (10m, 1h30m), an RFC 3339 date or time (2006-01-02, 2006-01-02T15:04:05Z) or Unix seconds (1700000000.5)`,
  );
}

/** `2026-11-23T10:00:00.123456789Z`: nine digits always (Go's RFC3339NanoFixed, what `docker logs -t` prints). */
export function formatRfc3339NanoFixed(ns: bigint): string {
  let secs = ns / NS_PER_SECOND;
  let frac = ns % NS_PER_SECOND;
  if (frac < 0n) {
    frac += NS_PER_SECOND;
    secs -= 1n;
  }
  const iso = new Date(Number(secs) * 1000).toISOString();
  return `${iso.slice(0, 19)}.${frac.toString().padStart(9, '0')}Z`;
}

/** Go's RFC3339Nano: trailing zeros of the fraction trimmed, no fraction at all when it is zero. */
export function formatRfc3339Nano(ns: bigint): string {
  const fixed = formatRfc3339NanoFixed(ns);
  return fixed.replace(/\.?0*Z$/, 'Z');
}
