import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { applyLayer } from '../../src/image/layer-apply.ts';
import type { Snapshotter } from '../../src/storage/snapshots.ts';

/** One entry for makeTar: tar-stream's header plus a body for files. */
export interface FixtureEntry {
  name: string;
  type?: 'file' | 'link' | 'symlink' | 'directory' | 'block-device' | 'character-device' | 'fifo';
  body?: string | Buffer;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  pax?: Record<string, string>;
}

const EPOCH = new Date(1_600_000_000_000);

/** A tar archive (uncompressed) holding ENTRIES in order. */
export async function makeTar(entries: FixtureEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    pack.on('data', (c) => chunks.push(c as Buffer));
    pack.on('end', () => resolve());
    pack.on('error', reject);
  });
  for (const e of entries) {
    const type = e.type ?? (e.name.endsWith('/') ? 'directory' : 'file');
    const body = e.body === undefined ? undefined : Buffer.from(e.body);
    await new Promise<void>((resolve, reject) => {
      const header = {
        name: e.name,
        type,
        mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644),
        uid: e.uid ?? 0,
        gid: e.gid ?? 0,
        mtime: e.mtime ?? EPOCH,
        ...(e.linkname !== undefined ? { linkname: e.linkname } : {}),
        ...(e.devmajor !== undefined ? { devmajor: e.devmajor, devminor: e.devminor ?? 0 } : {}),
        ...(e.pax ? { pax: e.pax } : {}),
      };
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (body) pack.entry(header, body, cb);
      else pack.entry(header, cb);
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** ENTRIES as a readable stream, split into small chunks to exercise the parser's buffering. */
export function tarStream(buf: Buffer, chunk = 7000): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += chunk) parts.push(buf.subarray(i, i + chunk));
  return Readable.from(parts);
}

/** A directory tree as tar entries (files, dirs, symlinks, hard links), as `docker save` would list it. */
export function dirEntries(root: string): FixtureEntry[] {
  const out: FixtureEntry[] = [];
  const seen = new Map<string, string>();
  const walk = (rel: string) => {
    const st = lstatSync(join(root, rel));
    const common = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime };
    if (st.isDirectory()) {
      if (rel) out.push({ name: `${rel}/`, type: 'directory', ...common });
      for (const name of readdirSync(join(root, rel)).sort()) walk(rel ? `${rel}/${name}` : name);
    } else if (st.isSymbolicLink()) {
      out.push({ name: rel, type: 'symlink', linkname: readlinkSync(join(root, rel)), ...common });
    } else if (st.isFile()) {
      const key = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1 ? seen.get(key) : undefined;
      if (first) out.push({ name: rel, type: 'link', linkname: first, ...common });
      else {
        seen.set(key, rel);
        out.push({ name: rel, type: 'file', body: readFileSync(join(root, rel)), ...common });
      }
    }
  };
  walk('');
  return out;
}

export function sha256(data: string | Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** The OCI chain id of a layer: its diff id on top of nothing, else sha256("PARENT DIFFID"). */
export function chainId(parent: string | undefined, diffId: string): string {
  return parent === undefined ? diffId : sha256(`${parent} ${diffId}`);
}

/** Prepares LAYERS (tar buffers, bottom first) in SNAP; returns their chain ids. */
export async function prepareImage(snap: Snapshotter, layers: Buffer[]): Promise<string[]> {
  const chain: string[] = [];
  let parent: string | undefined;
  for (const buf of layers) {
    const diffId = sha256(buf);
    const id = chainId(parent, diffId);
    const r = await snap.prepareLayer(id, parent, (dir, mode) => applyLayer(tarStream(buf), dir, { mode }));
    if (r.created && r.applied?.diffId !== diffId) throw new Error(`layer ${chain.length + 1}: diff id ${r.applied?.diffId}, expected ${diffId}`);
    chain.push(id);
    parent = id;
  }
  return chain;
}

/** A directory as path → what is there: `dir`, `file:CONTENT`, `symlink:TARGET`, `char:MAJOR:MINOR`… */
export function treeOf(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const p = rel ? `${rel}/${name}` : name;
      const st = lstatSync(join(root, p));
      if (st.isDirectory()) {
        out[p] = 'dir';
        walk(p);
      } else if (st.isSymbolicLink()) out[p] = `symlink:${readlinkSync(join(root, p))}`;
      else if (st.isFile()) out[p] = `file:${readFileSync(join(root, p), 'utf8')}`;
      else if (st.isCharacterDevice()) out[p] = `char:${st.rdev >> 8}:${st.rdev & 0xff}`;
      else out[p] = 'other';
    }
  };
  walk('');
  return out;
}
