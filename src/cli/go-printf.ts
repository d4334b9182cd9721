/**
 * Go's fmt.Sprintf for template `printf`: flags (- + # space 0), width, precision, `*`,
 * explicit argument indexes %[n]d, the common verbs, and Go's in-band error texts
 * (%!d(string=x), %!s(MISSING), %!(EXTRA ...)) so a wrong verb shows as Docker shows it.
 */
import { goFloat, goQuote, goString, goStringer, isMap, isStringer, mapKeys, typeName } from './go-fmt.ts';

interface Spec {
  minus: boolean;
  plus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  width?: number;
  prec?: number;
}

export function sprintf(format: string, args: unknown[]): string {
  let out = '';
  let argNum = 0;
  let reordered = false;
  let i = 0;
  // %[n] before a width, a precision or the verb picks argument n (1-based).
  const argIndex = (): boolean => {
    const m = /^\[(\d+)\]/.exec(format.slice(i));
    if (!m) return true;
    i += m[0].length;
    reordered = true;
    const n = Number(m[1]);
    if (n < 1 || n > args.length) return false;
    argNum = n - 1;
    return true;
  };
  const starArg = (): number | undefined => {
    const v = args[argNum++];
    return typeof v === 'number' && Number.isInteger(v) ? v : undefined;
  };
  while (i < format.length) {
    const pct = format.indexOf('%', i);
    if (pct < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, pct);
    i = pct + 1;
    const s: Spec = { minus: false, plus: false, sharp: false, space: false, zero: false };
    for (; i < format.length; i++) {
      const c = format[i];
      if (c === '-') s.minus = true;
      else if (c === '+') s.plus = true;
      else if (c === '#') s.sharp = true;
      else if (c === ' ') s.space = true;
      else if (c === '0') s.zero = !s.minus;
      else break;
    }
    let good = argIndex();
    if (format[i] === '*') {
      i++;
      s.width = starArg();
      if (s.width === undefined) out += '%!(BADWIDTH)';
      else if (s.width < 0) [s.minus, s.width] = [true, -s.width];
      good = argIndex() && good;
    } else {
      const m = /^\d+/.exec(format.slice(i));
      if (m) [s.width, i] = [Number(m[0]), i + m[0].length];
    }
    if (format[i] === '.') {
      i++;
      good = argIndex() && good;
      if (format[i] === '*') {
        i++;
        s.prec = starArg();
        if (s.prec === undefined || s.prec < 0) [s.prec, out] = [undefined, out + '%!(BADPREC)'];
        good = argIndex() && good;
      } else {
        const m = /^\d*/.exec(format.slice(i))![0];
        [s.prec, i] = [Number(m || 0), i + m.length];
      }
    }
    if (i >= format.length) {
      out += '%!(NOVERB)';
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i)!);
    i += verb.length;
    if (verb === '%') out += '%';
    else if (!good) out += `%!${verb}(BADINDEX)`;
    else if (argNum >= args.length) out += `%!${verb}(MISSING)`;
    else out += fmtArg(args[argNum++], verb, s);
  }
  if (!reordered && argNum < args.length) {
    out += `%!(EXTRA ${args.slice(argNum).map((a) => (a === null || a === undefined ? '<nil>' : `${typeName(a)}=${goString(a)}`)).join(', ')})`;
  }
  return out;
}

function bad(verb: string, v: unknown): string {
  return v === null || v === undefined ? `%!${verb}(<nil>)` : `%!${verb}(${typeName(v)}=${goString(v)})`;
}

/** One argument under one verb; lists and maps format element by element, as fmt does. */
function fmtArg(v: unknown, verb: string, s: Spec): string {
  if (v === null || v === undefined) return verb === 'v' ? pad('<nil>', s) : bad(verb, v);
  if (isStringer(v)) return fmtArg(v[goStringer](), verb, s);
  if (typeof v === 'boolean') return verb === 'v' || verb === 't' ? pad(String(v), s) : bad(verb, v);
  if (typeof v === 'number') return fmtNumber(v, verb, s);
  if (typeof v === 'string') return fmtString(v, verb, s);
  if (Array.isArray(v)) return `[${v.map((x) => fmtArg(x, verb, s)).join(' ')}]`;
  if (isMap(v)) return `map[${mapKeys(v).map((k) => `${fmtArg(k, verb, s)}:${fmtArg(v[k], verb, s)}`).join(' ')}]`;
  return bad(verb, v);
}

function fmtString(v: string, verb: string, s: Spec): string {
  const cut = s.prec === undefined ? v : [...v].slice(0, s.prec).join('');
  switch (verb) {
    case 'v':
    case 's':
      return pad(cut, s);
    case 'q':
      return pad(s.sharp && !/[`\x00-\x08\x0a-\x1f\x7f]/.test(cut) ? `\`${cut}\`` : goQuote(cut), s);
    case 'x':
    case 'X': {
      const hex = Buffer.from(cut).toString('hex');
      const h = verb === 'X' ? hex.toUpperCase() : hex;
      return pad(s.sharp ? `0${verb}${h}` : h, s);
    }
  }
  return bad(verb, v);
}

function fmtNumber(n: number, verb: string, s: Spec): string {
  const isInt = Number.isInteger(n);
  const sign = (body: string) => (n < 0 || Object.is(n, -0) ? body : s.plus ? `+${body}` : s.space ? ` ${body}` : body);
  const float = (f: 'e' | 'f' | 'g', upper: boolean) => {
    const t = sign(goFloat(n, f, s.prec ?? (f === 'g' ? -1 : 6)));
    return padNumber(upper ? t.toUpperCase() : t, s, false);
  };
  switch (verb) {
    case 'v':
      return isInt ? padNumber(sign(intText(n, 10, s)), s) : float('g', false);
    case 'e':
    case 'E':
    case 'f':
    case 'F':
    case 'g':
    case 'G':
      // Go refuses float verbs for an int; a JSON number may be either, so both are accepted.
      return float(verb.toLowerCase() as 'e' | 'f' | 'g', verb === 'E' || verb === 'G');
  }
  if (!isInt) return bad(verb, n);
  switch (verb) {
    case 'd':
      return padNumber(sign(intText(n, 10, s)), s);
    case 'b':
      return padNumber(sign(intText(n, 2, s)), s);
    case 'o':
    case 'O': {
      const t = intText(n, 8, s);
      const prefix = verb === 'O' ? '0o' : s.sharp && !t.replace('-', '').startsWith('0') ? '0' : '';
      return padNumber(sign(t.replace(/^(-?)/, `$1${prefix}`)), s);
    }
    case 'x':
    case 'X': {
      const t = intText(n, 16, s).replace(/^(-?)/, `$1${s.sharp ? '0x' : ''}`);
      return padNumber(sign(verb === 'X' ? t.toUpperCase() : t), s);
    }
    case 'c':
      return pad(validRune(n) ? String.fromCodePoint(n) : '\ufffd', s);
    case 'q':
      return pad(goQuote(validRune(n) ? String.fromCodePoint(n) : '\ufffd', "'"), s);
    case 'U': {
      const u = `U+${n.toString(16).toUpperCase().padStart(4, '0')}`;
      return pad(s.sharp && validRune(n) ? `${u} '${String.fromCodePoint(n)}'` : u, s);
    }
  }
  return bad(verb, n);
}

function validRune(n: number): boolean {
  return n >= 0 && n <= 0x10ffff && !(n >= 0xd800 && n <= 0xdfff);
}

/** Digits of an integer in a base, padded with zeros to the precision (the minimum digits). */
function intText(n: number, base: number, s: Spec): string {
  const digits = (Math.abs(n) < 2 ** 53 ? Math.abs(n).toString(base) : BigInt(Math.abs(n)).toString(base)).padStart(s.prec ?? 0, '0');
  return n < 0 ? `-${digits}` : s.prec === 0 && n === 0 ? '' : digits;
}

/** Width padding; the 0 flag pads numbers with zeros after the sign (not integers given a precision, as Go). */
function padNumber(t: string, s: Spec, isInt = true): string {
  if (!s.zero || s.minus || s.width === undefined || t.length >= s.width || (isInt && s.prec !== undefined)) return pad(t, s);
  const signLen = /^[+\- ]/.test(t) ? 1 : 0;
  return t.slice(0, signLen) + t.slice(signLen).padStart(s.width - signLen, '0');
}

function pad(t: string, s: Spec): string {
  const len = [...t].length;
  if (s.width === undefined || len >= s.width) return t;
  return s.minus ? t + ' '.repeat(s.width - len) : ' '.repeat(s.width - len) + t;
}
