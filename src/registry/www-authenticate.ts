/**
 * `WWW-Authenticate` header values (RFC 7235 §4.1) as registries send them, e.g.
 *   Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull,push"
 * One value may hold several challenges (fetch joins repeated headers with ", "), so a
 * comma can end a parameter or a challenge; what follows it decides which.
 *
 * The input comes from the network: the parser never throws, skips what it cannot read
 * and returns the challenges it could make out.
 */
export interface Challenge {
  /** lowercased: 'bearer' | 'basic' | ... */
  scheme: string;
  /** parameter names lowercased; values as sent, quoted strings unescaped */
  params: Record<string, string>;
  /** the token68 form (`Negotiate YII...==`), which a challenge has instead of params */
  token68?: string;
}

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN68_CHAR = /[A-Za-z0-9\-._~+/]/;

class Cursor {
  pos = 0;
  readonly s: string;
  constructor(s: string) {
    this.s = s;
  }

  get done(): boolean {
    return this.pos >= this.s.length;
  }

  peek(): string {
    return this.s[this.pos] ?? '';
  }

  /** spaces and tabs (OWS/BWS) */
  skipSpace(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.pos++;
  }

  /** OWS plus empty list elements, which RFC 7230 §7 allows anywhere in a #list */
  skipSpaceAndCommas(): void {
    while (this.peek() === ' ' || this.peek() === '\t' || this.peek() === ',') this.pos++;
  }

  readWhile(re: RegExp): string {
    const start = this.pos;
    while (!this.done && re.test(this.peek())) this.pos++;
    return this.s.slice(start, this.pos);
  }

  /** At a '"': the unescaped content; an unterminated string runs to the end. */
  readQuoted(): string {
    this.pos++;
    let out = '';
    while (!this.done) {
      const c = this.s[this.pos++]!;
      if (c === '"') return out;
      if (c === '\\' && !this.done) out += this.s[this.pos++]!;
      else out += c;
    }
    return out;
  }

  /** Past the next top-level ',' (a quoted string may hold commas), or to the end. */
  skipItem(): void {
    while (!this.done) {
      const c = this.peek();
      if (c === ',') {
        this.pos++;
        return;
      }
      if (c === '"') this.readQuoted();
      else this.pos++;
    }
  }
}

/** Sets a key without ever reaching a setter: a param named "__proto__" stays a plain value. */
function setParam(params: Record<string, string>, name: string, value: string): void {
  // The first of duplicate names wins (RFC 7235 lets a sender use each name once per challenge).
  if (Object.hasOwn(params, name)) return;
  Object.defineProperty(params, name, { value, enumerable: true, writable: true, configurable: true });
}

/** Whether an `auth-param` (token BWS "=") starts here, after optional spaces and commas. */
function paramAhead(c: Cursor): boolean {
  const save = c.pos;
  c.skipSpaceAndCommas();
  const name = c.readWhile(TCHAR);
  c.skipSpace();
  const yes = name !== '' && c.peek() === '=';
  c.pos = save;
  return yes;
}

/** A token68 here that fills the rest of the challenge (up to OWS then ',' or the end). */
function readToken68(c: Cursor): string | undefined {
  const save = c.pos;
  let t = c.readWhile(TOKEN68_CHAR);
  if (t !== '') t += c.readWhile(/=/);
  c.skipSpace();
  if (t !== '' && (c.done || c.peek() === ',')) return t;
  c.pos = save;
  return undefined;
}

function readParams(c: Cursor, params: Record<string, string>): void {
  while (paramAhead(c)) {
    c.skipSpaceAndCommas();
    const name = c.readWhile(TCHAR).toLowerCase();
    c.skipSpace();
    c.pos++; // '='
    c.skipSpace();
    const value = c.peek() === '"' ? c.readQuoted() : c.readWhile(TCHAR);
    setParam(params, name, value);
    c.skipSpace();
    // Anything other than a ',' or the next param (some servers forget the comma) is junk
    // up to the next comma, unless it is a new challenge, which the caller reads.
    if (c.done || c.peek() === ',' || paramAhead(c)) continue;
    if (TCHAR.test(c.peek())) return;
    c.skipItem();
  }
}

export function parseChallenges(header: string): Challenge[] {
  if (typeof header !== 'string') return [];
  const c = new Cursor(header);
  const out: Challenge[] = [];
  while (true) {
    c.skipSpaceAndCommas();
    if (c.done) break;
    const scheme = c.readWhile(TCHAR);
    if (scheme === '') {
      c.skipItem();
      continue;
    }
    const afterScheme = c.pos;
    c.skipSpace();
    if (c.peek() === '=') {
      // name=value without a scheme before it: nothing to attach it to.
      c.skipItem();
      continue;
    }
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    out.push(challenge);
    // Params or a token68 only after at least one space: "Basic,realm=x" ends Basic at the comma.
    if (c.pos === afterScheme) {
      if (!c.done && c.peek() !== ',') c.skipItem();
      continue;
    }
    const token68 = readToken68(c);
    if (token68 !== undefined) {
      challenge.token68 = token68;
      continue;
    }
    const before = c.pos;
    readParams(c, challenge.params);
    // Not a param, not a token68, not a new scheme: skip it so the loop always moves on.
    if (c.pos === before && !c.done && !TCHAR.test(c.peek())) c.skipItem();
  }
  return out;
}
