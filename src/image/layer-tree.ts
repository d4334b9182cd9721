import type { Stats } from 'node:fs';
import { chmod, lstat, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { HakoError, isErrno } from '../common/errors.ts';
import { setxattrOp, whiteoutOp, type NativeBatch } from '../storage/hako-mount.ts';
import type { ApplyMode } from '../storage/snapshots.ts';

/**
 * overlay: the directory holds this layer alone, whiteouts become what overlayfs reads
 * (a 0:0 character device, `trusted.overlay.opaque=y`).
 * flat: the directory already holds the layers below (the copy fallback); a whiteout
 * deletes, an opaque marker empties.
 */
export type { ApplyMode };

const OPAQUE_XATTR = 'trusted.overlay.opaque';

function refuse(name: string, why: string): HakoError {
  return new HakoError('invalid-config', `layer entry "${name}": ${why}`);
}

async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
}

function describe(st: Stats): string {
  if (st.isSymbolicLink()) return 'a symlink';
  if (st.isFile()) return 'a file';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a fifo';
  return 'not a directory';
}

/**
 * The target directory as a layer is being applied to it. Every path is walked from
 * the root one component at a time with lstat: a symlink is never followed, so no
 * entry can reach outside the root. Remembers what this layer wrote, which decides
 * whether an existing entry may be replaced (the layers below: yes, as an upper layer
 * hides them) or must be refused (this layer's own symlink: writing through it is how
 * archives escape).
 */
export class LayerTree {
  readonly root: string;
  readonly mode: ApplyMode;
  private readonly native: NativeBatch;
  /** relative paths this layer has created, including the parents it made */
  private readonly written = new Set<string>();
  /** relative paths known to be real directories right now */
  private readonly dirs = new Set<string>(['']);
  /** overlay whiteout devices this layer made */
  private readonly whiteouts = new Set<string>();
  /** directories about to replace one of those whiteouts: they must hide the layers below */
  private readonly opaqueAfterMkdir = new Set<string>();

  constructor(root: string, mode: ApplyMode, native: NativeBatch) {
    this.root = root;
    this.mode = mode;
    this.native = native;
  }

  abs(parts: readonly string[]): string {
    return parts.length ? join(this.root, ...parts) : this.root;
  }

  /** Every component of `parts` a real directory inside the root; missing ones made 0755 root:root. */
  async ensureDir(parts: readonly string[], entryName: string): Promise<void> {
    for (let i = 1; i <= parts.length; i++) {
      const rel = parts.slice(0, i).join('/');
      if (this.dirs.has(rel)) continue;
      const path = join(this.root, rel);
      const st = await lstatOrUndefined(path);
      if (st?.isDirectory()) {
        this.dirs.add(rel);
        continue;
      }
      let replacedWhiteout = false;
      if (st) {
        if (this.written.has(rel)) {
          const why = st.isSymbolicLink() ? '; a layer may not write through a symlink' : '';
          throw refuse(entryName, `"${rel}" is ${describe(st)} in this layer, not a directory${why}`);
        }
        // a whiteout of ours, or (flat) a lower layer's non-directory: an upper directory hides it
        replacedWhiteout = this.whiteouts.has(rel);
        await this.remove(rel);
      }
      await mkdir(path);
      await chmod(path, 0o755); // whatever the umask
      this.added(rel, true);
      if (replacedWhiteout) await this.setOpaque(rel);
    }
  }

  /**
   * Clears the place for a new entry. An existing directory stays when the entry is a
   * directory too (its contents merge, as tar does); anything else is removed, never
   * written through. Returns whether a directory is already there.
   */
  async makeRoom(parts: readonly string[], isDir: boolean): Promise<boolean> {
    const rel = parts.join('/');
    const st = await lstatOrUndefined(this.abs(parts));
    if (!st) return false;
    if (isDir && st.isDirectory()) return true;
    const wasWhiteout = this.whiteouts.has(rel);
    await this.remove(rel);
    // This layer deleted the lower NAME and then made a directory NAME: the lower
    // directory's contents must not show through it.
    if (isDir && wasWhiteout) this.opaqueAfterMkdir.add(rel);
    return false;
  }

  /** Records a new entry; call after creating it. */
  async created(parts: readonly string[], isDir: boolean): Promise<void> {
    const rel = parts.join('/');
    this.added(rel, isDir);
    if (isDir && this.opaqueAfterMkdir.delete(rel)) await this.setOpaque(rel);
  }

  /**
   * The existing file a hard link points at: reached without crossing a symlink,
   * written earlier in this layer, and not a directory.
   */
  async linkTarget(linkParts: readonly string[], entryName: string): Promise<string> {
    const linkName = linkParts.join('/');
    for (let i = 1; i < linkParts.length; i++) {
      const rel = linkParts.slice(0, i).join('/');
      if (this.dirs.has(rel)) continue;
      const st = await lstatOrUndefined(join(this.root, rel));
      if (!st) throw refuse(entryName, `hard link target "${linkName}" does not exist in this layer`);
      if (!st.isDirectory()) throw refuse(entryName, `hard link target "${linkName}" goes through "${rel}", which is ${describe(st)}`);
      this.dirs.add(rel);
    }
    const st = await lstatOrUndefined(this.abs(linkParts));
    if (!st || !this.written.has(linkName) || this.whiteouts.has(linkName)) {
      throw refuse(entryName, `hard link target "${linkName}" does not exist in this layer`);
    }
    if (st.isDirectory()) throw refuse(entryName, `hard link target "${linkName}" is a directory`);
    return this.abs(linkParts);
  }

  /** `.wh.NAME` in directory `dir` (which exists: ensureDir first). */
  async whiteout(dir: readonly string[], name: string): Promise<void> {
    const parts = [...dir, name];
    const rel = parts.join('/');
    const st = await lstatOrUndefined(this.abs(parts));
    // The spec: a whiteout hides the layers below, never an entry of its own layer.
    const own = this.written.has(rel);
    if (this.mode === 'overlay') {
      if (!st) {
        await this.native.run(whiteoutOp(this.abs(parts)));
        this.whiteouts.add(rel);
      } else if (own && st.isDirectory()) {
        await this.setOpaque(rel);
      }
      return;
    }
    if (!st) return;
    if (!own) await this.remove(rel);
    else if (st.isDirectory()) await this.clearLower(rel);
  }

  /** `.wh..wh..opq` in directory `dir` (which exists: ensureDir first). */
  async opaque(dir: readonly string[]): Promise<void> {
    const rel = dir.join('/');
    if (this.mode === 'overlay') await this.setOpaque(rel);
    else await this.clearLower(rel);
  }

  private async setOpaque(rel: string): Promise<void> {
    await this.native.run(setxattrOp(rel ? join(this.root, rel) : this.root, OPAQUE_XATTR, Buffer.from('y')));
  }

  /** flat: removes what the layers below left in a directory, keeping this layer's entries. */
  private async clearLower(rel: string): Promise<void> {
    const path = rel ? join(this.root, rel) : this.root;
    for (const d of await readdir(path, { withFileTypes: true })) {
      const child = rel ? `${rel}/${d.name}` : d.name;
      if (!this.written.has(child)) await this.remove(child);
      else if (d.isDirectory()) await this.clearLower(child);
    }
  }

  private added(rel: string, isDir: boolean): void {
    this.written.add(rel);
    if (isDir) this.dirs.add(rel);
  }

  /** Removes an entry (a directory with its contents; rm does not follow symlinks) and forgets it. */
  private async remove(rel: string): Promise<void> {
    await rm(join(this.root, rel), { recursive: true, force: true });
    const under = `${rel}/`;
    for (const set of [this.written, this.dirs, this.whiteouts]) {
      for (const p of set) if (p === rel || p.startsWith(under)) set.delete(p);
    }
  }
}
