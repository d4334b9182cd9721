/**
 * The parser of Go's text/template (parse.go), for one template without define/template/
 * block: actions, pipelines with declarations, if/else if/range/with/else, break/continue.
 * Its errors read as Go's ("template: :1: function "foo" not defined"), checking at parse
 * time what Go checks then: function names, variables in scope, {{break}} outside a range.
 */
import { goQuote } from './go-fmt.ts';
import { lex, type Token, type TokenType } from './go-template-lex.ts';

export type Arg =
  | { k: 'field'; pos: number; names: string[] }
  | { k: 'var'; pos: number; name: string; names: string[] }
  | { k: 'dot'; pos: number }
  | { k: 'nil'; pos: number }
  | { k: 'ident'; pos: number; name: string }
  | { k: 'lit'; pos: number; text: string; value: string | number | boolean }
  | { k: 'paren'; pos: number; pipe: Pipe }
  | { k: 'chain'; pos: number; node: Arg; names: string[] };

export interface Command {
  k: 'command';
  pos: number;
  args: Arg[];
}

export interface Pipe {
  k: 'pipeline';
  pos: number;
  decl: string[];
  assign: boolean;
  cmds: Command[];
}

export type Node =
  | { k: 'text'; text: string }
  | { k: 'action'; pos: number; pipe: Pipe }
  | Control
  | { k: 'break' | 'continue'; pos: number };

/** if, with, range: the pipeline, the list to run, the {{else}} list. */
export interface Control {
  k: 'if' | 'with' | 'range';
  pos: number;
  pipe: Pipe;
  list: Node[];
  elseList: Node[] | undefined;
}

type Marker = { k: 'end'; pos: number } | { k: 'else'; pos: number };

/** A template that does not parse; the message is Go's, "template: :LINE: ...". */
export class TemplateSyntaxError extends Error {}

/** Go's String() of a node, the context of execution errors ("at <index .Mounts 3>"). */
export function nodeString(n: Arg | Command | Pipe): string {
  switch (n.k) {
    case 'field':
      return `.${n.names.join('.')}`;
    case 'var':
      return [n.name, ...n.names].join('.');
    case 'dot':
      return '.';
    case 'nil':
      return 'nil';
    case 'ident':
      return n.name;
    case 'lit':
      return n.text;
    case 'paren':
      return `(${nodeString(n.pipe)})`;
    case 'chain':
      return [nodeString(n.node), ...n.names].join('.');
    case 'command':
      return n.args.map(nodeString).join(' ');
    case 'pipeline':
      return (n.decl.length ? `${n.decl.join(', ')} ${n.assign ? '=' : ':='} ` : '') + n.cmds.map(nodeString).join(' | ');
  }
}

export function parse(text: string, funcs: ReadonlySet<string>): Node[] {
  return new Parser(lex(text), funcs).parse();
}

class Parser {
  private i = 0;
  private line = 1;
  private vars = ['$'];
  private rangeDepth = 0;
  private readonly toks: Token[];
  private readonly funcs: ReadonlySet<string>;

  constructor(toks: Token[], funcs: ReadonlySet<string>) {
    this.toks = toks;
    this.funcs = funcs;
  }

  parse(): Node[] {
    const root: Node[] = [];
    while (this.peek().t !== 'eof') {
      const n = this.textOrAction();
      if (n.k === 'end' || n.k === 'else') return this.errorf(`unexpected {{${n.k}}}`);
      root.push(n);
    }
    return root;
  }

  private errorf(msg: string): never {
    throw new TemplateSyntaxError(`template: :${this.line}: ${msg}`);
  }

  private next(): Token {
    const t = this.toks[this.i] ?? this.toks[this.toks.length - 1]!;
    if (this.i < this.toks.length) this.i++;
    this.line = t.line;
    return t;
  }

  private peek(): Token {
    return this.toks[this.i] ?? this.toks[this.toks.length - 1]!;
  }

  private nextNonSpace(): Token {
    let t = this.next();
    while (t.t === 'space') t = this.next();
    return t;
  }

  private peekNonSpace(): Token {
    const t = this.nextNonSpace();
    this.i--;
    return t;
  }

  private unexpected(t: Token, context: string): never {
    if (t.t === 'error') this.errorf(t.val);
    this.errorf(`unexpected ${tokenString(t)} in ${context}`);
  }

  private expect(type: TokenType, context: string): Token {
    const t = this.nextNonSpace();
    if (t.t !== type) this.unexpected(t, context);
    return t;
  }

  private textOrAction(): Node | Marker {
    const t = this.nextNonSpace();
    if (t.t === 'text') return { k: 'text', text: t.val };
    if (t.t === 'left') return this.action();
    this.unexpected(t, 'input');
  }

  private action(): Node | Marker {
    const t = this.nextNonSpace();
    if (t.t === 'keyword') {
      switch (t.val) {
        case 'if':
        case 'range':
        case 'with':
          return this.control(t.val);
        case 'else':
          return this.elseControl(t.pos);
        case 'end':
          this.expect('right', 'end');
          return { k: 'end', pos: t.pos };
        case 'break':
        case 'continue':
          if (this.rangeDepth === 0) this.errorf(`{{${t.val}}} outside {{range}}`);
          this.expect('right', t.val);
          return { k: t.val, pos: t.pos };
        default:
          this.errorf(`{{${t.val}}} is not supported`);
      }
    }
    this.i--;
    const pos = this.peekNonSpace().pos;
    return { k: 'action', pos, pipe: this.pipeline('command', 'right') };
  }

  private elseControl(pos: number): Marker {
    // "else if" and "else with" leave the keyword to control(), which nests the chain.
    const p = this.peekNonSpace();
    if (p.t !== 'keyword' || (p.val !== 'if' && p.val !== 'with')) this.expect('right', 'else');
    return { k: 'else', pos };
  }

  private control(context: 'if' | 'range' | 'with'): Node {
    const saved = this.vars.length;
    const pipe = this.pipeline(context, 'right');
    if (context === 'range') this.rangeDepth++;
    let [list, next] = this.itemList();
    if (context === 'range') this.rangeDepth--;
    let elseList: Node[] | undefined;
    if (next.k === 'else') {
      const p = this.peek();
      if (context !== 'range' && p.t === 'keyword' && p.val === context) {
        this.next();
        elseList = [this.control(context)];
      } else {
        [elseList, next] = this.itemList();
        if (next.k !== 'end') this.errorf(`expected end; found {{${next.k}}}`);
      }
    }
    this.vars.length = saved;
    return { k: context, pos: pipe.pos, pipe, list, elseList };
  }

  private itemList(): [Node[], Marker] {
    const list: Node[] = [];
    while (this.peekNonSpace().t !== 'eof') {
      const n = this.textOrAction();
      if (n.k === 'end' || n.k === 'else') return [list, n];
      list.push(n);
    }
    this.errorf('unexpected EOF');
  }

  private pipeline(context: string, end: 'right' | 'rparen'): Pipe {
    const pipe: Pipe = { k: 'pipeline', pos: this.peekNonSpace().pos, decl: [], assign: false, cmds: [] };
    // Declarations: "$x :=", "$x =", and in a range "$i, $v :=".
    for (;;) {
      const v = this.peekNonSpace();
      if (v.t !== 'var') break;
      const mark = this.i;
      this.next();
      const after = this.peekNonSpace();
      if (after.t === 'assign' || after.t === 'declare') {
        this.nextNonSpace();
        pipe.assign = after.t === 'assign';
        pipe.decl.push(v.val);
        this.vars.push(v.val);
        break;
      }
      if (after.t === 'char' && after.val === ',') {
        this.nextNonSpace();
        pipe.decl.push(v.val);
        this.vars.push(v.val);
        if (context === 'range' && pipe.decl.length < 2) {
          const p = this.peekNonSpace();
          if (p.t === 'var' || p.t === 'right' || p.t === 'rparen') continue;
          this.errorf('range can only initialize variables');
        }
        this.errorf(`too many declarations in ${context}`);
      }
      this.i = mark;
      break;
    }
    for (;;) {
      const t = this.nextNonSpace();
      if (t.t === end) {
        this.checkPipeline(pipe, context);
        return pipe;
      }
      switch (t.t) {
        case 'bool':
        case 'charconst':
        case 'dot':
        case 'field':
        case 'ident':
        case 'number':
        case 'nil':
        case 'raw':
        case 'string':
        case 'var':
        case 'lparen':
          this.i--;
          pipe.cmds.push(this.command());
          break;
        default:
          this.unexpected(t, context);
      }
    }
  }

  private checkPipeline(pipe: Pipe, context: string): void {
    if (!pipe.cmds.length) this.errorf(`missing value for ${context}`);
    pipe.cmds.slice(1).forEach((c, i) => {
      const k = c.args[0]!.k;
      if (k === 'lit' || k === 'dot' || k === 'nil') this.errorf(`non executable command in pipeline stage ${i + 2}`);
    });
  }

  private command(): Command {
    const cmd: Command = { k: 'command', pos: this.peekNonSpace().pos, args: [] };
    for (;;) {
      this.peekNonSpace();
      const op = this.operand();
      if (op) cmd.args.push(op);
      const t = this.next();
      if (t.t === 'space') continue;
      if (t.t === 'right' || t.t === 'rparen') this.i--;
      else if (t.t !== 'pipe') this.unexpected(t, 'operand');
      break;
    }
    if (!cmd.args.length) this.errorf('empty command');
    return cmd;
  }

  /** A term and the fields right after it: .A.B, $x.A, (pipeline).A. */
  private operand(): Arg | undefined {
    const node = this.term();
    if (!node || this.peek().t !== 'field') return node;
    const names: string[] = [];
    while (this.peek().t === 'field') names.push(this.next().val.slice(1));
    switch (node.k) {
      case 'field':
      case 'var':
        return { ...node, names: [...node.names, ...names] };
      case 'lit':
      case 'nil':
      case 'dot':
        this.errorf(`unexpected . after term ${goQuote(nodeString(node))}`);
      default:
        return { k: 'chain', pos: node.pos, node, names };
    }
  }

  private term(): Arg | undefined {
    const t = this.nextNonSpace();
    switch (t.t) {
      case 'ident':
        if (!this.funcs.has(t.val)) this.errorf(`function ${goQuote(t.val)} not defined`);
        return { k: 'ident', pos: t.pos, name: t.val };
      case 'dot':
        return { k: 'dot', pos: t.pos };
      case 'nil':
        return { k: 'nil', pos: t.pos };
      case 'var':
        if (!this.vars.includes(t.val)) this.errorf(`undefined variable ${goQuote(t.val)}`);
        return { k: 'var', pos: t.pos, name: t.val, names: [] };
      case 'field':
        return { k: 'field', pos: t.pos, names: [t.val.slice(1)] };
      case 'bool':
        return { k: 'lit', pos: t.pos, text: t.val, value: t.val === 'true' };
      case 'number':
      case 'charconst': {
        const value = t.t === 'charconst' ? unquote(t.val) : parseNumber(t.val);
        if (typeof value === 'string' && [...value].length === 1) return { k: 'lit', pos: t.pos, text: t.val, value: value.codePointAt(0)! };
        if (typeof value !== 'number') this.errorf(t.t === 'charconst' ? `malformed character constant: ${t.val}` : `illegal number syntax: ${goQuote(t.val)}`);
        return { k: 'lit', pos: t.pos, text: t.val, value };
      }
      case 'lparen':
        return { k: 'paren', pos: t.pos, pipe: this.pipeline('parenthesized pipeline', 'rparen') };
      case 'string':
      case 'raw': {
        const value = t.t === 'raw' ? t.val.slice(1, -1) : unquote(t.val);
        if (value === undefined) this.errorf('invalid syntax');
        return { k: 'lit', pos: t.pos, text: t.val, value };
      }
    }
    this.i--;
    return undefined;
  }
}

/** Go's item.String(): EOF, <keyword>, or the quoted value (cut at 10 characters). */
function tokenString(t: Token): string {
  if (t.t === 'eof') return 'EOF';
  if (t.t === 'keyword') return `<${t.val}>`;
  return t.val.length > 10 ? `${goQuote(t.val.slice(0, 10))}...` : goQuote(t.val);
}

/** An integer or float literal: decimal, 0x, 0o, 0b, legacy 0-octal, underscores. */
function parseNumber(text: string): number | undefined {
  const neg = text.startsWith('-');
  const s = text.replace(/^[+-]/, '').replace(/_/g, '');
  let n: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(s)) n = parseInt(s.slice(2), 16);
  else if (/^0[bB][01]+$/.test(s)) n = parseInt(s.slice(2), 2);
  else if (/^0[oO]?[0-7]+$/.test(s)) n = parseInt(s.replace(/^0[oO]?/, ''), 8);
  else if (/^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) n = Number(s);
  else return undefined;
  return neg ? -n : n;
}

const ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };

/** strconv.Unquote of a "..." or '...' literal; undefined when malformed. */
function unquote(lit: string): string | undefined {
  const q = lit[0]!;
  const body = lit.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      if (c === q) return undefined;
      out += c;
      continue;
    }
    const e = body[++i];
    if (e === undefined) return undefined;
    if (ESCAPES[e]) out += ESCAPES[e];
    else if (e === q) out += q;
    else {
      const m = e === 'x' ? /^[0-9a-fA-F]{2}/ : e === 'u' ? /^[0-9a-fA-F]{4}/ : e === 'U' ? /^[0-9a-fA-F]{8}/ : /[0-7]/.test(e) ? /^[0-7]{3}/ : undefined;
      const digits = m?.exec(body.slice(e >= '0' && e <= '7' ? i : i + 1))?.[0];
      if (!digits) return undefined;
      const code = parseInt(digits, e >= '0' && e <= '7' ? 8 : 16);
      if (code > 0x10ffff) return undefined;
      out += String.fromCodePoint(code);
      i += e >= '0' && e <= '7' ? digits.length - 1 : digits.length;
    }
  }
  return out;
}
