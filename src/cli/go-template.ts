/**
 * A subset of Go's text/template for Docker's --format and inspect -f, run on JSON-shaped
 * values (what Docker's API returns): fields of maps (a missing key is "<no value>"),
 * variables, pipelines, parenthesised calls, if/else if/range/with/else, break/continue,
 * and the functions of go-template-funcs.ts. Output and errors read as Docker's:
 * "template parsing error: template: :1: ..." for both syntax and execution errors.
 */
import { HakoError } from '../common/errors.ts';
import { goString, goStringer, isMap, isStringer, mapKeys, typeName } from './go-fmt.ts';
import { builtins, truth, type GoFunc, type Param } from './go-template-funcs.ts';
import { nodeString, parse, TemplateSyntaxError, type Arg, type Command, type Control, type Node, type Pipe } from './go-template-parse.ts';

export { goStringer, type Stringer } from './go-fmt.ts';
export type { GoFunc } from './go-template-funcs.ts';

export interface ExecOptions {
  /** replacements for functions of the same name (Docker's table headers swap some) */
  funcs?: Record<string, GoFunc>;
  /** return what was written before an execution error instead of throwing, as Docker's headers do */
  partial?: boolean;
}

export interface GoTemplate {
  execute(data: unknown, opts?: ExecOptions): string;
}

/** Parses a template; HakoError('invalid-argument') with Go's message when it is malformed. */
export function parseGoTemplate(text: string): GoTemplate {
  let tree: Node[];
  try {
    tree = parse(text, new Set(Object.keys(builtins)));
  } catch (e) {
    if (e instanceof TemplateSyntaxError) throw new HakoError('invalid-argument', `template parsing error: ${e.message}`);
    throw e;
  }
  return {
    execute(data, opts = {}) {
      const ex = new Exec(text, data, { ...builtins, ...opts.funcs });
      try {
        ex.walk(data, tree);
      } catch (e) {
        if (!(e instanceof ExecError)) throw e;
        if (!opts.partial) throw new HakoError('invalid-argument', `template parsing error: ${e.message}`);
      }
      return ex.out.join('');
    },
  };
}

class ExecError extends Error {}

/** Go's missingVal: "no value from a previous pipeline stage" (distinct from an undefined value). */
const NONE = Symbol('none');
type Final = unknown;
const BREAK = Symbol('break');
const CONTINUE = Symbol('continue');

type At = Arg | Command | Pipe;

class Exec {
  readonly out: string[] = [];
  private readonly vars: { name: string; value: unknown }[];
  /** the node being evaluated, for the position and context of an error */
  private at: At | undefined;
  private readonly text: string;
  private readonly funcs: Record<string, GoFunc>;

  constructor(text: string, data: unknown, funcs: Record<string, GoFunc>) {
    this.text = text;
    this.funcs = funcs;
    this.vars = [{ name: '$', value: data }];
  }

  /** Go's "template: :LINE:COL: executing "" at <NODE>: MSG" (COL is Go's byte offset). */
  private errorf(msg: string): never {
    const pos = this.at?.pos ?? 0;
    const before = Buffer.from(this.text.slice(0, pos));
    const nl = before.lastIndexOf(0x0a);
    const line = 1 + before.filter((b) => b === 0x0a).length;
    const col = nl < 0 ? before.length : before.length - nl - 1;
    throw new ExecError(`template: :${line}:${col}: executing "" at <${this.at ? nodeString(this.at) : ''}>: ${msg}`);
  }

  walk(dot: unknown, nodes: Node[]): void {
    for (const n of nodes) this.walkNode(dot, n);
  }

  private walkNode(dot: unknown, n: Node): void {
    switch (n.k) {
      case 'text':
        this.out.push(n.text);
        return;
      case 'action': {
        const v = this.evalPipeline(dot, n.pipe);
        if (!n.pipe.decl.length) this.out.push(v === undefined ? '<no value>' : goString(v));
        return;
      }
      case 'if':
      case 'with': {
        const mark = this.vars.length;
        try {
          const v = this.evalPipeline(dot, n.pipe);
          if (truth(v)) this.walk(n.k === 'with' ? v : dot, n.list);
          else if (n.elseList) this.walk(dot, n.elseList);
        } finally {
          this.vars.length = mark;
        }
        return;
      }
      case 'range':
        return this.walkRange(dot, n);
      case 'break':
        throw BREAK;
      case 'continue':
        throw CONTINUE;
    }
  }

  private walkRange(dot: unknown, r: Control): void {
    const outer = this.vars.length;
    try {
      const val = this.evalPipeline(dot, r.pipe);
      const mark = this.vars.length;
      const { decl, assign } = r.pipe;
      // As Go: one variable gets the element; with two, the first gets the index or key.
      const one = (index: unknown, elem: unknown) => {
        if (decl.length) {
          if (assign) this.setVar(decl[0]!, decl.length > 1 ? index : elem);
          else this.vars[mark - 1]!.value = elem;
        }
        if (decl.length > 1) {
          if (assign) this.setVar(decl[1]!, elem);
          else this.vars[mark - 2]!.value = index;
        }
        try {
          this.walk(elem, r.list);
        } catch (e) {
          if (e !== CONTINUE) throw e;
        } finally {
          this.vars.length = mark;
        }
      };
      let items: [unknown, unknown][] = [];
      if (Array.isArray(val)) items = val.map((e, i) => [i, e]);
      else if (isMap(val) && !isStringer(val)) items = mapKeys(val).map((k) => [k, val[k]]);
      else if (typeof val === 'number' && Number.isInteger(val)) {
        if (decl.length > 1) this.errorf(`can't use ${val} to iterate over more than one variable`);
        items = Array.from({ length: Math.max(val, 0) }, (_, i) => [i, i]);
      } else if (val !== null && val !== undefined) {
        this.at = r.pipe;
        this.errorf(`range can't iterate over ${goString(val)}`);
      }
      if (items.length) {
        try {
          for (const [i, e] of items) one(i, e);
        } catch (e) {
          if (e !== BREAK) throw e;
        }
      } else if (r.elseList) this.walk(dot, r.elseList);
    } finally {
      this.vars.length = outer;
    }
  }

  private setVar(name: string, value: unknown): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i]!.name === name) {
        this.vars[i]!.value = value;
        return;
      }
    }
    this.errorf(`undefined variable: ${name}`);
  }

  private varValue(name: string): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.name === name) return this.vars[i]!.value;
    this.errorf(`undefined variable: ${name}`);
  }

  private evalPipeline(dot: unknown, pipe: Pipe): unknown {
    this.at = pipe;
    let value: unknown = NONE;
    for (const cmd of pipe.cmds) value = this.evalCommand(dot, cmd, value);
    for (const name of pipe.decl) {
      if (pipe.assign) this.setVar(name, value);
      else this.vars.push({ name, value });
    }
    return value;
  }

  private evalCommand(dot: unknown, cmd: Command, final: Final): unknown {
    const first = cmd.args[0]!;
    switch (first.k) {
      case 'field':
        return this.evalFieldChain(dot, first, first.names, cmd.args, final);
      case 'chain':
        return this.evalChain(dot, first, cmd.args, final);
      case 'ident':
        return this.evalFunction(dot, first, cmd, cmd.args, final);
      case 'var':
        return this.evalVariable(first, cmd.args, final);
    }
    this.at = first;
    this.notAFunction(cmd.args, final);
    switch (first.k) {
      case 'paren':
        return this.evalPipeline(dot, first.pipe);
      case 'lit':
        return first.value;
      case 'dot':
        return dot;
      case 'nil':
        this.errorf('nil is not a command');
    }
  }

  private notAFunction(args: Arg[], final: Final): void {
    if (args.length > 1 || final !== NONE) this.errorf(`can't give argument to non-function ${nodeString(args[0]!)}`);
  }

  /** .A.B.C on a receiver; only the last field sees the command's arguments. */
  private evalFieldChain(receiver: unknown, node: Arg, names: string[], args: Arg[], final: Final): unknown {
    let v = receiver;
    names.forEach((name, i) => {
      this.at = node;
      const last = i === names.length - 1;
      v = this.evalField(name, last ? args : [], last ? final : NONE, v);
    });
    return v;
  }

  private evalField(name: string, args: Arg[], final: Final, receiver: unknown): unknown {
    // As Go with missingkey=default: past a missing key everything is "no value".
    if (receiver === undefined) return undefined;
    if (receiver === null) this.errorf(`nil pointer evaluating interface {}.${name}`);
    if (!isMap(receiver)) this.errorf(`can't evaluate field ${name} in type ${typeName(receiver)}`);
    if (args.length > 1 || final !== NONE) this.errorf(`${name} is not a method but has arguments`);
    return Object.hasOwn(receiver, name) ? receiver[name] : undefined;
  }

  private evalChain(dot: unknown, chain: Extract<Arg, { k: 'chain' }>, args: Arg[], final: Final): unknown {
    this.at = chain;
    if (chain.node.k === 'nil') this.errorf(`indirection through explicit nil in ${nodeString(chain)}`);
    const v = this.evalArg(dot, chain.node);
    return this.evalFieldChain(v, chain, chain.names, args, final);
  }

  private evalVariable(v: Extract<Arg, { k: 'var' }>, args: Arg[], final: Final): unknown {
    this.at = v;
    const value = this.varValue(v.name);
    if (!v.names.length) {
      this.notAFunction(args, final);
      return value;
    }
    return this.evalFieldChain(value, v, v.names, args, final);
  }

  private evalArg(dot: unknown, n: Arg): unknown {
    this.at = n;
    switch (n.k) {
      case 'dot':
        return dot;
      case 'nil':
        return null;
      case 'lit':
        return n.value;
      case 'field':
        return this.evalFieldChain(dot, n, n.names, [n], NONE);
      case 'var':
        return this.evalVariable(n, [n], NONE);
      case 'paren':
        return this.evalPipeline(dot, n.pipe);
      case 'chain':
        return this.evalChain(dot, n, [n], NONE);
      case 'ident':
        return this.evalFunction(dot, n, n, [n], NONE);
    }
  }

  private evalFunction(dot: unknown, ident: Extract<Arg, { k: 'ident' }>, cmd: At, args: Arg[], final: Final): unknown {
    this.at = ident;
    const name = ident.name;
    const f = this.funcs[name]!;
    const argNodes = args.slice(1);
    const numIn = argNodes.length + (final === NONE ? 0 : 1);
    if (f.variadic && numIn < f.params.length) this.errorf(`wrong number of args for ${name}: want at least ${f.params.length} got ${argNodes.length}`);
    if (!f.variadic && numIn !== f.params.length) this.errorf(`wrong number of args for ${name}: want ${f.params.length} got ${numIn}`);
    if ((name === 'and' || name === 'or') && f === builtins[name]) {
      // Short-circuit: the arguments after the deciding one are not evaluated.
      let v: unknown;
      for (const a of argNodes) {
        v = this.evalArg(dot, a);
        if (truth(v) === (name === 'or')) return v;
      }
      return final === NONE ? v : final;
    }
    const param = (i: number): Param => f.params[i] ?? f.variadic ?? 'any';
    const values = argNodes.map((a, i) => this.convert(param(i), this.evalArg(dot, a), a));
    if (final !== NONE) values.push(this.convert(param(values.length), final, cmd));
    try {
      return f.fn(...(values as never[]));
    } catch (e) {
      this.at = cmd;
      this.errorf(`error calling ${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** Go's validateType: the value as the parameter's type, or Go's error. */
  private convert(param: Param, v: unknown, node: At): unknown {
    this.at = node;
    const s = isStringer(v) ? v[goStringer]() : v;
    switch (param) {
      case 'any':
        return v === undefined ? null : v;
      case 'string':
        if (typeof s === 'string') return s;
        break;
      case 'int':
        if (typeof v === 'number' && Number.isInteger(v)) return v;
        break;
      case 'strings':
        if (v === null) return [];
        if (Array.isArray(v)) return v.map((x) => (typeof x === 'string' ? x : goString(x)));
        break;
    }
    const want = param === 'strings' ? '[]string' : param;
    if (v === undefined) this.errorf(`invalid value; expected ${want}`);
    this.errorf(`wrong type for value; expected ${want}; got ${typeName(v)}`);
  }
}
