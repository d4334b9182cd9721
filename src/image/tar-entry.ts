import type { Header } from 'tar-stream';
import { HakoError } from '../common/errors.ts';

export type EntryKind = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';

/** One tar header, checked and reduced to what applying it needs. */
export interface LayerEntry {
  /** the name as the archive spells it, for messages */
  name: string;
  /** the path's components below the layer root: no "", "." or ".." */
  parts: string[];
  kind: EntryKind;
  /** permission bits including setuid, setgid and sticky */
  mode: number;
  uid: number;
  gid: number;
  /** seconds since the epoch, fractions from PAX kept */
  mtime: number;
  atime: number;
  /** a symlink's target, verbatim (it is never followed while applying) */
  symlinkTarget: string;
  /** a hard link's target, as components below the layer root */
  linkParts: string[];
  devMajor: number;
  devMinor: number;
  size: number;
  xattrs: Map<string, Buffer>;
}

const KINDS: Record<string, EntryKind> = {
  file: 'file',
  'contiguous-file': 'file',
  directory: 'dir',
  symlink: 'symlink',
  link: 'hardlink',
  'character-device': 'char',
  'block-device': 'block',
  fifo: 'fifo',
};

/** overlayfs keeps its own state in these; a layer that sets them could redirect lookups */
const FORBIDDEN_XATTR = /^trusted\.overlay\./;

function refuse(name: string, why: string): HakoError {
  return new HakoError('invalid-config', `layer entry "${name}": ${why}`);
}

/**
 * The components of an archive path. A leading "/" is dropped, as Docker, containerd
 * and GNU tar do (a layer's names are relative to its root whatever they say); "."
 * and empty components are dropped; ".." anywhere is refused — no tool that writes
 * layers produces it, so it can only be an attempt to climb out.
 */
export function splitPath(name: string, entryName = name): string[] {
  if (name.includes('\0')) throw refuse(entryName, 'the name contains a NUL byte');
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw refuse(entryName, `"${name}" has a ".." component`);
  return parts;
}

function paxNumber(pax: Record<string, string>, key: string, name: string): number | undefined {
  const v = pax[key];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw refuse(name, `PAX ${key}="${v}" is not a number`);
  return n;
}

function integer(n: number | undefined | null, what: string, name: string, max = 0xffff_fffe): number {
  if (n === undefined || n === null || !Number.isSafeInteger(n) || n < 0 || n > max) throw refuse(name, `bad ${what} ${n}`);
  return n;
}

export function toLayerEntry(h: Header): LayerEntry {
  const name = h.name;
  const kind = h.type ? KINDS[h.type] : undefined;
  if (!kind) throw refuse(name, `unsupported entry type ${h.type ?? 'unknown (GNU sparse, multi-volume or another extension)'}`);
  const pax = (h.pax ?? {}) as Record<string, string>;
  const mtime = paxNumber(pax, 'mtime', name) ?? (h.mtime ? h.mtime.getTime() / 1000 : 0);
  const xattrs = new Map<string, Buffer>();
  for (const [key, value] of Object.entries(pax)) {
    if (!key.startsWith('SCHILY.xattr.')) continue;
    const attr = key.slice('SCHILY.xattr.'.length);
    if (FORBIDDEN_XATTR.test(attr)) throw refuse(name, `sets the overlay filesystem's own attribute ${attr}`);
    // tar-stream decodes PAX values as UTF-8: a binary value that is not valid UTF-8
    // arrives with U+FFFD in it and cannot be restored. Refuse rather than write a wrong one.
    if (value.includes('\uFFFD')) throw refuse(name, `the value of xattr ${attr} is binary and cannot be read exactly`);
    xattrs.set(attr, Buffer.from(value, 'utf8'));
  }
  const entry: LayerEntry = {
    name,
    parts: splitPath(name),
    kind,
    mode: integer(h.mode ?? 0, 'mode', name, Number.MAX_SAFE_INTEGER) & 0o7777,
    uid: integer(paxNumber(pax, 'uid', name) ?? h.uid, 'uid', name),
    gid: integer(paxNumber(pax, 'gid', name) ?? h.gid, 'gid', name),
    mtime,
    atime: paxNumber(pax, 'atime', name) ?? mtime,
    symlinkTarget: '',
    linkParts: [],
    devMajor: 0,
    devMinor: 0,
    size: integer(h.size ?? 0, 'size', name, Number.MAX_SAFE_INTEGER),
    xattrs,
  };
  if (kind === 'symlink') {
    entry.symlinkTarget = h.linkname ?? '';
    if (entry.symlinkTarget === '') throw refuse(name, 'symlink with an empty target');
    if (entry.symlinkTarget.includes('\0')) throw refuse(name, 'the symlink target contains a NUL byte');
  }
  if (kind === 'hardlink') {
    entry.linkParts = splitPath(h.linkname ?? '', name);
    if (!entry.linkParts.length) throw refuse(name, 'hard link to the layer root');
  }
  if (kind === 'char' || kind === 'block') {
    entry.devMajor = integer(h.devmajor ?? 0, 'device major', name, 0xfffff);
    entry.devMinor = integer(h.devminor ?? 0, 'device minor', name, 0xfffff);
  }
  if (!entry.parts.length && kind !== 'dir') throw refuse(name, `a ${kind} cannot replace the layer root`);
  return entry;
}
