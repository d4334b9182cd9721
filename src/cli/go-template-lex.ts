/**
 * The lexer of Go's text/template (lex.go), with the fixed delimiters {{ }}: text between
 * actions, the trim markers "{{- " and " -}}", comments, and the tokens inside an action.
 * A lexing error ends the list with an 'error' token, which the parser reports where it
 * reaches it, as Go's does.
 */

export type TokenType =
  | 'text'
  | 'left'
  | 'right'
  | 'space'
  | 'ident'
  | 'keyword'
  | 'field'
  | 'var'
  | 'string'
  | 'raw'
  | 'charconst'
  | 'number'
  | 'bool'
  | 'nil'
  | 'dot'
  | 'lparen'
  | 'rparen'
  | 'pipe'
  | 'declare'
  | 'assign'
  | 'char'
  | 'eof'
  | 'error';

export interface Token {
  t: TokenType;
  val: string;
  pos: number;
  line: number;
}

const KEYWORDS = new Set(['block', 'break', 'continue', 'define', 'else', 'end', 'if', 'range', 'template', 'with']);

const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const isAlnum = (c: string | undefined) => c !== undefined && /^[\p{L}\p{Nd}_]$/u.test(c);

/** Go's %#U: U+007D '}'. */
function runeName(c: string): string {
  return `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} '${c}'`;
}

export function lex(input: string): Token[] {
  const toks: Token[] = [];
  let pos = 0;
  const lineAt = (p: number) => 1 + (input.slice(0, p).match(/\n/g)?.length ?? 0);
  const push = (t: TokenType, start: number, val: string) => toks.push({ t, val, pos: start, line: lineAt(start) });
  const fail = (msg: string) => {
    push('error', pos, msg);
    return toks;
  };
  const charAt = (p: number) => (p < input.length ? String.fromCodePoint(input.codePointAt(p)!) : undefined);
  // " -}}" (a space, the marker, the delimiter) or "}}": the length to skip and whether to trim.
  const rightDelim = (p: number): { len: number; trim: boolean } | undefined => {
    if (isSpace(input[p]) && input.startsWith('-}}', p + 1)) return { len: 4, trim: true };
    if (input.startsWith('}}', p)) return { len: 2, trim: false };
    return undefined;
  };
  const skipSpace = (p: number) => {
    while (isSpace(input[p])) p++;
    return p;
  };
  const atTerminator = (p: number) => {
    const c = input[p];
    return c === undefined || isSpace(c) || '.,|:()'.includes(c) || input.startsWith('}}', p);
  };
  const scanWhile = (p: number, ok: (c: string | undefined) => boolean) => {
    for (let c = charAt(p); ok(c); c = charAt(p)) p += c!.length;
    return p;
  };

  for (;;) {
    const open = input.indexOf('{{', pos);
    let text = input.slice(pos, open < 0 ? input.length : open);
    const trimLeft = open >= 0 && input[open + 2] === '-' && isSpace(input[open + 3]);
    if (trimLeft) text = text.replace(/[ \t\r\n]+$/, '');
    if (text) push('text', pos, text);
    if (open < 0) {
      pos = input.length;
      push('eof', pos, '');
      return toks;
    }
    pos = open + 2 + (trimLeft ? 2 : 0);
    if (input.startsWith('/*', pos)) {
      const close = input.indexOf('*/', pos + 2);
      if (close < 0) return fail('unclosed comment');
      pos = close + 2;
      const rd = rightDelim(pos);
      if (!rd) return fail('comment ends before closing delimiter');
      pos += rd.len;
      if (rd.trim) pos = skipSpace(pos);
      continue;
    }
    push('left', open, '{{');
    let depth = 0;
    for (;;) {
      const rd = rightDelim(pos);
      if (rd) {
        if (depth > 0) return fail('unclosed left paren');
        push('right', pos, '}}');
        pos += rd.len;
        if (rd.trim) pos = skipSpace(pos);
        break;
      }
      const start = pos;
      const c = charAt(pos);
      if (c === undefined) return fail('unclosed action');
      if (isSpace(c)) {
        // A run of spaces, leaving the one that belongs to a " -}}" after it.
        let end = skipSpace(pos);
        if (input.startsWith('-}}', end)) end--;
        if (end > pos) push('space', pos, input.slice(pos, end));
        pos = end;
        continue;
      }
      pos += c.length;
      switch (true) {
        case c === '=':
          push('assign', start, '=');
          break;
        case c === ':':
          if (input[pos] !== '=') return fail('expected :=');
          pos++;
          push('declare', start, ':=');
          break;
        case c === '|':
          push('pipe', start, '|');
          break;
        case c === '"' || c === "'": {
          for (;;) {
            const d = input[pos++];
            if (d === '\\' && input[pos] !== undefined && input[pos] !== '\n') pos++;
            else if (d === undefined || d === '\n' || d === '\\') return fail(c === '"' ? 'unterminated quoted string' : 'unterminated character constant');
            else if (d === c) break;
          }
          push(c === '"' ? 'string' : 'charconst', start, input.slice(start, pos));
          break;
        }
        case c === '`': {
          const end = input.indexOf('`', pos);
          if (end < 0) return fail('unterminated raw quoted string');
          pos = end + 1;
          push('raw', start, input.slice(start, pos));
          break;
        }
        case c === '$' || (c === '.' && !/[0-9]/.test(input[pos] ?? '')): {
          pos = scanWhile(pos, isAlnum);
          if (!atTerminator(pos)) return fail(`bad character ${runeName(charAt(pos)!)}`);
          const val = input.slice(start, pos);
          push(c === '$' ? 'var' : val === '.' ? 'dot' : 'field', start, val);
          break;
        }
        case c === '.' || c === '+' || c === '-' || /[0-9]/.test(c): {
          pos = scanNumber(input, start);
          if (isAlnum(charAt(pos))) {
            pos += charAt(pos)!.length;
            return fail(`bad number syntax: "${input.slice(start, pos)}"`);
          }
          push('number', start, input.slice(start, pos));
          break;
        }
        case isAlnum(c): {
          pos = scanWhile(pos, isAlnum);
          if (!atTerminator(pos)) return fail(`bad character ${runeName(charAt(pos)!)}`);
          const word = input.slice(start, pos);
          push(KEYWORDS.has(word) ? 'keyword' : word === 'true' || word === 'false' ? 'bool' : word === 'nil' ? 'nil' : 'ident', start, word);
          break;
        }
        case c === '(':
          depth++;
          push('lparen', start, c);
          break;
        case c === ')':
          if (--depth < 0) return fail('unexpected right paren');
          push('rparen', start, c);
          break;
        case c <= '\x7f' && c >= ' ':
          push('char', start, c);
          break;
        default:
          return fail(`unrecognized character in action: ${runeName(c)}`);
      }
    }
  }
}

/** Go's scanNumber: sign, 0x/0o/0b prefixes, underscores, a fraction, an exponent. */
function scanNumber(input: string, p: number): number {
  const run = (set: string) => {
    while (p < input.length && set.includes(input[p]!)) p++;
  };
  const accept = (set: string) => (p < input.length && set.includes(input[p]!) ? (p++, true) : false);
  accept('+-');
  let digits = '0123456789_';
  if (accept('0')) {
    if (accept('xX')) digits = '0123456789abcdefABCDEF_';
    else if (accept('oO')) digits = '01234567_';
    else if (accept('bB')) digits = '01_';
  }
  run(digits);
  if (accept('.')) run(digits);
  if (digits.length === 11 && accept('eE')) {
    accept('+-');
    run('0123456789_');
  }
  return p;
}
