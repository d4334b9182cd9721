/**
 * Go's fmt, as far as templates need it: how a value prints with %v (Print), Sprint,
 * Sprintln and Sprintf. Values are JSON-shaped: a JS number stands for a Go int when it
 * is an integer (the typed structs Docker templates run on hold ints), else a float64.
 */

/** A value carrying this method prints as its result, as a Go fmt.Stringer does. */
export const goStringer: unique symbol = Symbol('go.Stringer');
export type Stringer = { [goStringer]: () => string };

export function isStringer(v: unknown): v is Stringer {
  return typeof v === 'object' && v !== null && goStringer in v;
}

/** An object that is a Go map (not an array, not null). */
export function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The keys of a map in fmt's (and range's) order; undefined values are absent, as in JSON. */
export function mapKeys(m: Record<string, unknown>): string[] {
  return Object.keys(m)
    .filter((k) => m[k] !== undefined)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The Go type a value would have, for error messages ("expected string; got int"). */
export function typeName(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'string' || isStringer(v)) return 'string';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return '[]interface {}';
  return 'map[string]interface {}';
}

/** fmt.Sprint of one value (%v): [a b], map[k:v], <nil>. */
export function goString(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return goNumber(v);
  if (Array.isArray(v)) return `[${v.map(goString).join(' ')}]`;
  if (isStringer(v)) return v[goStringer]();
  if (isMap(v)) return `map[${mapKeys(v).map((k) => `${k}:${goString(v[k])}`).join(' ')}]`;
  return String(v);
}

function goNumber(n: number): string {
  if (Number.isInteger(n)) return Math.abs(n) < 1e21 ? String(n) : BigInt(n).toString();
  return goFloat(n, 'g', -1);
}

/** Go's float formatting (strconv.FormatFloat) for verbs e, f, g; prec -1 is "shortest". */
export function goFloat(n: number, verb: 'e' | 'f' | 'g', prec: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : '-Inf';
  if (verb === 'f') return fixed(n, prec < 0 ? 6 : prec);
  if (verb === 'e') return expForm(n, prec < 0 ? 6 : prec);
  // %g: the digits (rounded to prec, trailing zeros dropped), then %e when the exponent is < -4 or
  // >= the precision, which is 6 for the shortest form (so 1e+06 and 1.5e+07 as Go prints them).
  const [digits, dp, neg] = decimalDigits(n, prec < 0 ? undefined : Math.max(prec, 1));
  let eprec = prec < 0 ? 6 : Math.max(prec, 1);
  if (prec >= 0 && eprec > digits.length && digits.length >= dp) eprec = digits.length;
  const exp = dp - 1;
  const sign = neg ? '-' : '';
  if (exp < -4 || exp >= eprec) return `${sign}${digits[0]}${digits.length > 1 ? `.${digits.slice(1)}` : ''}e${expSuffix(exp)}`;
  if (dp <= 0) return `${sign}0.${'0'.repeat(-dp)}${digits}`;
  if (dp >= digits.length) return `${sign}${digits}${'0'.repeat(dp - digits.length)}`;
  return `${sign}${digits.slice(0, dp)}.${digits.slice(dp)}`;
}

/** Significant digits without trailing zeros, the decimal point position, the sign. */
function decimalDigits(n: number, significant: number | undefined): [string, number, boolean] {
  if (n === 0) return ['0', 1, Object.is(n, -0)];
  const e = Math.abs(n).toExponential(significant === undefined ? undefined : significant - 1);
  const [mant = '0', ex = '0'] = e.split('e');
  const digits = mant.replace('.', '').replace(/0+$/, '') || '0';
  return [digits, Number(ex) + 1, n < 0];
}

function expSuffix(exp: number): string {
  return `${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

function expForm(n: number, prec: number): string {
  const [mant = '', ex = '0'] = n.toExponential(prec).split('e');
  return `${mant}e${expSuffix(Number(ex))}`;
}

function fixed(n: number, prec: number): string {
  if (Math.abs(n) < 1e21) return n.toFixed(prec);
  return `${BigInt(Math.round(n)).toString()}${prec ? `.${'0'.repeat(prec)}` : ''}`;
}

/** strconv.Quote: Go escapes, non-printable runes as \x, \u or \U. */
export function goQuote(s: string, q = '"'): string {
  let out = q;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === q || ch === '\\') out += `\\${ch}`;
    else if (SHORT_ESCAPES[ch]) out += SHORT_ESCAPES[ch];
    else if (/^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(ch)) out += ch;
    else if (c < 0x80) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if (c < 0x10000) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += `\\U${c.toString(16).padStart(8, '0')}`;
  }
  return out + q;
}

const SHORT_ESCAPES: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v' };

/** fmt.Sprint: a space between two operands when neither is a string. */
export function sprint(args: unknown[]): string {
  let out = '';
  args.forEach((a, i) => {
    const isString = typeof a === 'string';
    if (i > 0 && !isString && typeof args[i - 1] !== 'string') out += ' ';
    out += goString(a);
  });
  return out;
}

/** fmt.Sprintln: spaces between all operands, a newline at the end. */
export function sprintln(args: unknown[]): string {
  return `${args.map(goString).join(' ')}\n`;
}
