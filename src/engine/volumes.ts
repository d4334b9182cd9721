import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { HakoError, systemError } from '../common/errors.ts';
import type { MetadataStore, VolumeRow } from '../storage/metadata.ts';

const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export interface Volume extends VolumeRow {
  mountpoint: string;
}

/**
 * Named and anonymous volumes: local directories ROOT/volumes/NAME/_data, as Docker's
 * local driver. The database row and the directory are made and removed together.
 */
export class Volumes {
  private readonly meta: MetadataStore;
  private readonly root: string;

  constructor(meta: MetadataStore, root: string) {
    this.meta = meta;
    this.root = root;
  }

  path(name: string): string {
    return join(this.root, name, '_data');
  }

  /** Creates NAME (or an anonymous volume named by 64 random hex digits); an existing one is returned as it is. */
  create(name: string | undefined, opts: { labels?: Record<string, string>; driver?: string; options?: Record<string, string> } = {}): { volume: Volume; created: boolean } {
    const anonymous = !name;
    const n = name || randomBytes(32).toString('hex');
    if (!VOLUME_NAME.test(n)) {
      throw new HakoError('invalid-argument', `create ${n}: "${n}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed`);
    }
    const driver = opts.driver ?? 'local';
    if (driver !== 'local') throw new HakoError('unsupported', `volume driver "${driver}" is not supported: only "local"`);
    for (const k of Object.keys(opts.options ?? {})) throw new HakoError('unsupported', `volume option "${k}" is not supported by the local driver here`);
    const dir = this.path(n);
    try {
      mkdirSync(dir, { recursive: true, mode: 0o755 });
    } catch (err) {
      throw systemError(err, `create volume directory ${dir}`);
    }
    const created = this.meta.addVolume({ name: n, driver, created: new Date().toISOString(), labels: opts.labels ?? {}, options: opts.options ?? {}, anonymous });
    return { volume: this.get(n)!, created };
  }

  get(name: string): Volume | undefined {
    const row = this.meta.getVolume(name);
    return row && { ...row, mountpoint: this.path(row.name) };
  }

  inspect(name: string): Volume {
    const v = this.get(name);
    if (!v) throw new HakoError('not-found', `get ${name}: no such volume`);
    return v;
  }

  list(): Volume[] {
    return this.meta.listVolumes().map((r) => ({ ...r, mountpoint: this.path(r.name) }));
  }

  /** Removes a volume no container uses (force: a missing one is not an error). */
  remove(name: string, force = false): void {
    if (force && !this.meta.getVolume(name)) return;
    this.meta.removeVolume(name, () => rmSync(join(this.root, name), { recursive: true, force: true }));
  }

  /** Volumes no container uses; all: named ones too (Docker prunes only anonymous ones by default). */
  prune(all: boolean, labelFilter?: (labels: Record<string, string>) => boolean): { removed: string[]; } {
    const removed: string[] = [];
    for (const v of this.meta.listVolumes()) {
      if (!all && !v.anonymous) continue;
      if (labelFilter && !labelFilter(v.labels)) continue;
      if (this.meta.volumeUsers(v.name).length > 0) continue;
      try {
        this.remove(v.name);
        removed.push(v.name);
      } catch (err) {
        if (!(err instanceof HakoError && (err.code === 'in-use' || err.code === 'not-found'))) throw err;
      }
    }
    return { removed };
  }

  isEmpty(name: string): boolean {
    const dir = this.path(name);
    return !existsSync(dir) || readdirSync(dir).length === 0;
  }
}
