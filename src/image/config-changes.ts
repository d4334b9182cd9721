import { posix } from 'node:path';
import { HakoError } from '../common/errors.ts';
import { quote } from './digest.ts';
import { DEFAULT_SHELL, envKey, optionalString, stringList, type ImageRuntimeConfig } from './runtime-config.ts';
import { parsePortSpec, parseStopSignal, volumePath } from './container-settings.ts';

// ---------------------------------------------------------------------------------------
// --change: Dockerfile instructions applied to an image config (moby's BuildFromConfig)

const CHANGE_INSTRUCTIONS = ['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'LABEL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR'];

function changeError(line: string, msg: string, code: 'invalid-argument' | 'unsupported' = 'invalid-argument'): HakoError {
  return new HakoError(code, `--change ${quote(line)}: ${msg}`);
}

/**
 * Docker joins all changes with newlines and parses them as a Dockerfile: `\` at a line's
 * end continues it, `#` lines are comments.
 */
function instructionLines(changes: readonly string[]): string[] {
  const out: string[] = [];
  let pending = '';
  for (const raw of changes.join('\n').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const cont = /\\\s*$/.exec(line);
    if (cont !== null) {
      pending += line.slice(0, cont.index);
      continue;
    }
    out.push(pending + line);
    pending = '';
  }
  if (pending.trim() !== '') out.push(pending);
  return out;
}

/** Splits on unquoted whitespace, keeping quotes and escapes for expandWord (buildkit's parseWords). */
function splitWords(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let q: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (q === undefined && /\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === '\\' && q !== "'" && i + 1 < text.length) {
      word += c + text[++i];
      continue;
    }
    if (q === undefined && (c === '"' || c === "'")) q = c;
    else if (c === q) q = undefined;
    word += c;
  }
  if (inWord) words.push(word);
  return words;
}

/**
 * One shell word, as the Dockerfile lexer reads it: quotes removed, `\` escapes,
 * `$NAME`, `${NAME}` and `${NAME:-word}`, `-`, `:+`, `+`, `:?`, `?` from `env`.
 * Nothing is executed and nothing is split.
 */
function expandWord(word: string, env: ReadonlyMap<string, string>): string {
  let out = '';
  let i = 0;
  const n = word.length;
  const variable = (): string => {
    i++; // the $
    if (word[i] !== '{') {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(word.slice(i));
      if (m === null) return '$';
      i += m[0].length;
      return env.get(m[0]) ?? '';
    }
    let depth = 1;
    let end = i + 1;
    for (; end < n && depth > 0; end++) {
      if (word[end] === '{') depth++;
      else if (word[end] === '}') depth--;
    }
    if (depth > 0) throw new Error(`missing "}" in ${quote(word)}`);
    const inner = word.slice(i + 1, end - 1);
    i = end;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?::?[-+?])?/.exec(inner);
    if (m === null || m[1] === undefined) throw new Error(`bad substitution ${quote(`\${${inner}}`)}`);
    const name = m[1];
    const op = m[0].slice(name.length);
    const rest = inner.slice(m[0].length);
    if (op === '' && rest !== '') throw new Error(`unsupported substitution ${quote(`\${${inner}}`)}`);
    const value = env.get(name);
    const unset = op.startsWith(':') ? !value : value === undefined;
    switch (op.replace(':', '')) {
      case '':
        return value ?? '';
      case '-':
        return unset ? expandWord(rest, env) : value!;
      case '+':
        return unset ? '' : expandWord(rest, env);
      default: // ?
        if (unset) throw new Error(`${name}: ${rest === '' ? 'is not allowed to be unset' : expandWord(rest, env)}`);
        return value!;
    }
  };
  while (i < n) {
    const c = word[i]!;
    if (c === "'") {
      const end = word.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated quote in ${quote(word)}`);
      out += word.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      for (i++; ; ) {
        if (i >= n) throw new Error(`unterminated quote in ${quote(word)}`);
        const d = word[i]!;
        if (d === '"') {
          i++;
          break;
        }
        if (d === '\\' && i + 1 < n && '"$\\'.includes(word[i + 1]!)) {
          out += word[i + 1];
          i += 2;
        } else if (d === '$') out += variable();
        else {
          out += d;
          i++;
        }
      }
    } else if (c === '\\') {
      out += word[i + 1] ?? '';
      i += 2;
    } else if (c === '$') out += variable();
    else {
      out += c;
      i++;
    }
  }
  return out;
}

/** The JSON (exec) form if `rest` is a JSON array, else undefined; non-string elements are an error. */
function jsonForm(rest: string): string[] | undefined {
  if (!rest.startsWith('[')) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(rest);
  } catch {
    return undefined; // not JSON after all: Docker takes it as the shell form
  }
  if (!Array.isArray(v)) return undefined;
  if (!v.every((s) => typeof s === 'string')) throw new Error('a JSON array must hold only strings');
  return v;
}

/** `KEY=VALUE …` or the legacy `KEY VALUE WITH SPACES` (ENV, LABEL). */
function keyValues(instr: string, rest: string, env: ReadonlyMap<string, string>): [string, string][] {
  const words = splitWords(rest);
  if (words.length === 0) throw new Error(`${instr} needs at least one argument`);
  if (!words[0]!.includes('=')) {
    const value = rest.slice(words[0]!.length).trim();
    if (value === '') throw new Error(`${instr} needs a value: ${instr} NAME=VALUE`);
    return [[expandWord(words[0]!, env), expandWord(value, env)]];
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq < 0) throw new Error(`${quote(w)} is not of the form NAME=VALUE`);
    const key = expandWord(w.slice(0, eq), env);
    if (key === '') throw new Error(`${quote(w)} has an empty name`);
    return [key, expandWord(w.slice(eq + 1), env)];
  });
}

/**
 * Applies Docker's `--change` instructions (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL,
 * STOPSIGNAL, USER, VOLUME, WORKDIR) to a copy of `image`, in order. Variables in all
 * but CMD/ENTRYPOINT are expanded from the config's Env as it stands before each one.
 */
export function applyConfigChanges<T extends ImageRuntimeConfig>(image: T, changes: readonly string[]): T & ImageRuntimeConfig {
  const copy = structuredClone(image);
  const out: ImageRuntimeConfig = copy; // only strings, lists and objects of {} are written: they fit T

  let cmdSet = false;
  for (const line of instructionLines(changes)) {
    const m = /^(\S+)\s*(.*)$/s.exec(line)!;
    const instr = m[1]!.toUpperCase();
    const rest = m[2]!.trim();
    if (instr === 'HEALTHCHECK' || instr === 'ONBUILD') throw changeError(line, `${instr} is not supported by hako yet`, 'unsupported');
    if (!CHANGE_INSTRUCTIONS.includes(instr)) {
      throw changeError(line, `${m[1]} is not a valid change command (valid: ${CHANGE_INSTRUCTIONS.join(', ')})`);
    }
    const env = new Map<string, string>();
    for (const e of stringList(out.Env, 'Env') ?? []) env.set(envKey(e), e.slice(envKey(e).length + 1));
    try {
      applyOne(out, instr, rest, env, cmdSet);
    } catch (err) {
      if (err instanceof HakoError) throw err;
      throw changeError(line, (err as Error).message);
    }
    if (instr === 'CMD') cmdSet = true;
  }
  return copy;
}

function applyOne(out: ImageRuntimeConfig, instr: string, rest: string, env: ReadonlyMap<string, string>, cmdSet: boolean): void {
  const single = () => {
    if (rest === '') throw new Error(`${instr} needs exactly one argument`);
    return expandWord(rest, env);
  };
  switch (instr) {
    case 'CMD':
    case 'ENTRYPOINT': {
      if (rest === '') throw new Error(`${instr} needs at least one argument`);
      const shell = stringList(out.Shell, 'Shell') ?? [];
      const args = jsonForm(rest) ?? [...(shell.length > 0 ? shell : DEFAULT_SHELL), rest];
      if (instr === 'CMD') out.Cmd = args;
      else {
        out.Entrypoint = args;
        // Docker: an ENTRYPOINT without a CMD in the same build (here: the same changes) resets Cmd
        if (!cmdSet) delete out.Cmd;
      }
      return;
    }
    case 'ENV': {
      const list = [...(stringList(out.Env, 'Env') ?? [])];
      for (const [key, value] of keyValues(instr, rest, env)) {
        const i = list.findIndex((e) => envKey(e) === key);
        if (i < 0) list.push(`${key}=${value}`);
        else list[i] = `${key}=${value}`;
      }
      out.Env = list;
      return;
    }
    case 'LABEL':
      out.Labels = { ...(out.Labels ?? {}), ...Object.fromEntries(keyValues(instr, rest, env)) };
      return;
    case 'EXPOSE': {
      const words = splitWords(rest).map((w) => expandWord(w, env));
      if (words.length === 0) throw new Error('EXPOSE needs at least one port');
      const ports = { ...(out.ExposedPorts ?? {}) };
      for (const w of words) for (const p of parsePortSpec(w)) ports[`${p.port}/${p.proto}`] = {};
      out.ExposedPorts = ports;
      return;
    }
    case 'VOLUME': {
      const words = (jsonForm(rest) ?? splitWords(rest)).map((w) => expandWord(w, env));
      if (words.length === 0) throw new Error('VOLUME needs at least one path');
      const volumes = { ...(out.Volumes ?? {}) };
      for (const w of words) {
        if (w === '') throw new Error('VOLUME specified can not be an empty string');
        volumePath(w);
        volumes[w] = {};
      }
      out.Volumes = volumes;
      return;
    }
    case 'USER':
      out.User = single();
      return;
    case 'WORKDIR': {
      const dir = single();
      // relative: from the current WorkingDir, as a Dockerfile's WORKDIR
      out.WorkingDir = dir.startsWith('/') ? dir : posix.join('/', optionalString(out.WorkingDir, 'WorkingDir'), dir);
      return;
    }
    case 'STOPSIGNAL': {
      const sig = single();
      parseStopSignal(sig);
      out.StopSignal = sig;
      return;
    }
  }
}
