/**
 * The functions a Docker --format template can call: Go's builtins (text/template funcs.go)
 * and Docker's own (cli/templates: json, split, join, title, lower, upper, pad, truncate).
 * A function throws a plain Error for Go's "error calling X: ..." failures.
 */
import { goString, goStringer, isMap, isStringer, mapKeys, sprint, sprintln, typeName } from './go-fmt.ts';
import { sprintf } from './go-printf.ts';

/** How an argument is converted before the call: any value, or a Go string/int/[]string. */
export type Param = 'any' | 'string' | 'int' | 'strings';

export interface GoFunc {
  params: Param[];
  /** the type of the trailing ...args, for a variadic function */
  variadic?: Param;
  fn: (...args: never[]) => unknown;
}

/** Go's truth: false, 0, nil, and empty strings, slices and maps are false. */
export function truth(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  if (isStringer(v)) return v[goStringer]().length > 0;
  if (isMap(v)) return mapKeys(v).length > 0;
  return true;
}

const fn = <A extends unknown[]>(params: Param[], f: (...args: A) => unknown, variadic?: Param): GoFunc => ({ params, variadic, fn: f as GoFunc['fn'] });

export const builtins: Record<string, GoFunc> = {
  // and/or short-circuit, so the executor evaluates them itself; these are for a pipeline's value.
  and: fn([], (...a: unknown[]) => a.find((x) => !truth(x)) ?? a.at(-1), 'any'),
  or: fn([], (...a: unknown[]) => a.find(truth) ?? a.at(-1), 'any'),
  not: fn(['any'], (a: unknown) => !truth(a)),
  len: fn(['any'], goLen),
  index: fn(['any'], goIndex, 'any'),
  slice: fn(['any'], goSlice, 'any'),
  eq: fn(['any'], eq, 'any'),
  ne: fn(['any', 'any'], (a: unknown, b: unknown) => !eq(a, b)),
  lt: fn(['any', 'any'], lt),
  le: fn(['any', 'any'], (a: unknown, b: unknown) => lt(a, b) || eq(a, b)),
  gt: fn(['any', 'any'], (a: unknown, b: unknown) => !(lt(a, b) || eq(a, b))),
  ge: fn(['any', 'any'], (a: unknown, b: unknown) => !lt(a, b)),
  print: fn([], (...a: unknown[]) => sprint(a), 'any'),
  println: fn([], (...a: unknown[]) => sprintln(a), 'any'),
  printf: fn(['string'], (f: string, ...a: unknown[]) => sprintf(f, a), 'any'),
  // Docker's: an Encoder without HTML escaping, its trailing newline trimmed.
  json: fn(['any'], (v: unknown) => (JSON.stringify(v ?? null) ?? 'null').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029')),
  split: fn(['string', 'string'], (s: string, sep: string) => (sep === '' ? [...s] : s.split(sep))),
  join: fn(['strings', 'string'], (a: string[], sep: string) => a.join(sep)),
  title: fn(['string'], (s: string) => s.replace(/(?<![\p{L}\p{N}_])\p{L}/gu, (c) => c.toUpperCase())),
  lower: fn(['string'], (s: string) => s.toLowerCase()),
  upper: fn(['string'], (s: string) => s.toUpperCase()),
  pad: fn(['string', 'int', 'int'], (s: string, prefix: number, suffix: number) => (s === '' ? s : ' '.repeat(Math.max(prefix, 0)) + s + ' '.repeat(Math.max(suffix, 0)))),
  truncate: fn(['string', 'int'], (s: string, n: number) => [...s].slice(0, Math.max(n, 0)).join('')),
};

function goLen(v: unknown): number {
  // null is a nil slice or map in Docker's structs: length 0.
  if (v === null) return 0;
  if (typeof v === 'string') return Buffer.byteLength(v);
  if (Array.isArray(v)) return v.length;
  if (isMap(v)) return mapKeys(v).length;
  throw new Error(`len of type ${typeName(v)}`);
}

function intIndex(k: unknown, len: number, limit = len - 1): number {
  if (k === null || k === undefined) throw new Error('cannot index slice/array with nil');
  if (typeof k !== 'number' || !Number.isInteger(k)) throw new Error(`cannot index slice/array with type ${typeName(k)}`);
  if (k < 0 || k > limit) throw new Error(`index out of range: ${k}`);
  return k;
}

/**
 * index x k1 k2...: x[k1][k2]. A missing map key gives the zero value of the element:
 * "" when the map holds strings (Labels, Options: map[string]string in Docker), else
 * no value.
 */
function goIndex(item: unknown, ...keys: unknown[]): unknown {
  let v = item;
  for (const k of keys) {
    if (v === null || v === undefined) {
      if (typeof k !== 'string') throw new Error(v === null ? `index out of range: ${goString(k)}` : 'index of untyped nil');
      v = undefined;
    } else if (typeof v === 'string') v = Buffer.from(v)[intIndex(k, Buffer.byteLength(v))];
    else if (Array.isArray(v)) v = v[intIndex(k, v.length)];
    else if (isMap(v)) {
      if (typeof k !== 'string') throw new Error(`value has type ${typeName(k)}; should be string`);
      const m: Record<string, unknown> = v;
      v = Object.hasOwn(m, k) && m[k] !== undefined ? m[k] : Object.values(m).every((x) => typeof x === 'string') ? '' : undefined;
    } else throw new Error(`can't index item of type ${typeName(v)}`);
  }
  return v;
}

/** slice x i j: x[i:j] of a string or a list. */
function goSlice(item: unknown, ...idx: unknown[]): unknown {
  if (item === null || item === undefined) throw new Error('slice of untyped nil');
  if (typeof item !== 'string' && !Array.isArray(item)) throw new Error(`can't slice item of type ${typeName(item)}`);
  if (idx.length > 3 || (idx.length === 3 && typeof item === 'string')) throw new Error(`invalid slice index: too many slice indexes: ${idx.length}`);
  const len = item.length;
  const [from = 0, to = len] = idx.slice(0, 2).map((k) => intIndex(k, len, len));
  if (from > to) throw new Error(`invalid slice index: ${from} > ${to}`);
  return item.slice(from, to);
}

type Kind = 'bool' | 'number' | 'string' | 'nil' | 'other';

function kind(v: unknown): Kind {
  if (v === null || v === undefined) return 'nil';
  if (typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return typeof v as Kind;
  return isStringer(v) ? 'string' : 'other';
}

const basic = (v: unknown) => (isStringer(v) ? v[goStringer]() : v);

/** eq a b c...: a equals any of b, c...; only basic values compare, nil equals only nil. */
function eq(a: unknown, ...bs: unknown[]): boolean {
  if (!bs.length) throw new Error('missing argument for comparison');
  const ka = kind(a);
  return bs.some((b) => {
    const kb = kind(b);
    if (ka !== kb) {
      if (ka !== 'nil' && kb !== 'nil') throw new Error('incompatible types for comparison');
      return false;
    }
    if (ka === 'other') throw new Error(`non-comparable type ${goString(a)}: ${typeName(a)}`);
    return ka === 'nil' || basic(a) === basic(b);
  });
}

function lt(a: unknown, b: unknown): boolean {
  const [ka, kb] = [kind(a), kind(b)];
  if (ka === 'nil' || ka === 'other' || kb === 'nil' || kb === 'other') throw new Error('invalid type for comparison');
  if (ka !== kb) throw new Error('incompatible types for comparison');
  if (ka === 'bool') throw new Error('invalid type for comparison');
  return (basic(a) as string | number) < (basic(b) as string | number);
}
