import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { HakoError, systemError } from '../common/errors.ts';
import { randomUUID } from 'node:crypto';
import { isAlive, procStat } from '../common/process-info.ts';

/**
 * What hako knows about images, their names and their layers, in one SQLite database
 * (root/metadata.db). Several hako processes use it at once: WAL lets readers go on while
 * one writes, busy_timeout makes a writer wait for another instead of failing, and every
 * change is one `BEGIN IMMEDIATE` transaction (taking the write lock up front, so no
 * read-then-write upgrade can fail with SQLITE_BUSY halfway).
 *
 * Layers are keyed by chain id and counted: refcount = the number of images whose layer
 * list contains the chain. An image that uses a chain uses all of its parents too, so a
 * parent's count is never below its child's, and removing an image frees a top part of
 * its chain at most.
 */

// Storage sits below image/ and does not import it: ids are checked here on their own.
const DIGEST_RE = /^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$/;
const NAME_RE = /^[^\s\x00-\x1f\x7f]{1,1024}$/;
const DEFAULT_BUSY_TIMEOUT_MS = 30_000;

export interface NewImage {
  /** the config digest */
  id: string;
  manifestDigest: string;
  /** the manifest's media type */
  mediaType: string;
  /** the index the manifest was chosen from, when there was one */
  indexDigest?: string;
  /** the image's creation time, from its config */
  created?: string;
  /** defaults to the sum of the layer sizes */
  size?: number;
  os?: string;
  architecture?: string;
  variant?: string;
}

export interface NewLayer {
  chainId: string;
  diffId: string;
  /** unpacked size in bytes, when known */
  size?: number;
}

export interface ImageRecord {
  id: string;
  manifestDigest: string;
  mediaType: string;
  indexDigest: string | null;
  created: string | null;
  /** when this store got it */
  added: string;
  size: number;
  os: string | null;
  architecture: string | null;
  variant: string | null;
  names: string[];
}

export interface NetworkRow {
  id: string;
  name: string;
  created: string;
  config: string;
}

export interface EndpointRow {
  containerId: string;
  networkId: string;
  config: string;
}

function toNetwork(r: Record<string, unknown>): NetworkRow {
  return { id: String(r['id']), name: String(r['name']), created: String(r['created']), config: String(r['config']) };
}

export interface LayerRecord {
  chainId: string;
  diffId: string;
  parent: string | null;
  size: number | null;
  refcount: number;
}

export interface AddImageResult {
  /** false when the image was already there (only its names were added) */
  added: boolean;
  /** names that pointed at another image before and now point at this one */
  retagged: { name: string; previous: string }[];
}

interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Append only: a released migration is never edited; a change is a new version. */
const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'images, names, layers',
    sql: `
      CREATE TABLE images (
        id              TEXT PRIMARY KEY,
        manifest_digest TEXT NOT NULL,
        media_type      TEXT NOT NULL,
        index_digest    TEXT,
        created         TEXT,
        added           TEXT NOT NULL,
        size            INTEGER NOT NULL,
        os              TEXT,
        architecture    TEXT,
        variant         TEXT
      );
      CREATE INDEX images_manifest ON images(manifest_digest);
      CREATE TABLE names (
        name     TEXT PRIMARY KEY,
        image_id TEXT NOT NULL REFERENCES images(id),
        added    TEXT NOT NULL
      );
      CREATE INDEX names_image ON names(image_id);
      CREATE TABLE layers (
        chain_id TEXT PRIMARY KEY,
        diff_id  TEXT NOT NULL,
        parent   TEXT REFERENCES layers(chain_id),
        size     INTEGER,
        refcount INTEGER NOT NULL CHECK (refcount >= 0)
      );
      CREATE TABLE image_layers (
        image_id TEXT NOT NULL REFERENCES images(id),
        idx      INTEGER NOT NULL,
        chain_id TEXT NOT NULL REFERENCES layers(chain_id),
        PRIMARY KEY (image_id, idx)
      );
      CREATE INDEX image_layers_chain ON image_layers(chain_id);
    `,
  },
  {
    version: 2,
    name: 'leases on layers and blobs a load is using',
    sql: `
      CREATE TABLE leases (
        token    TEXT NOT NULL,
        ref      TEXT NOT NULL,
        pid      INTEGER NOT NULL,
        start    TEXT NOT NULL
      );
      CREATE INDEX leases_ref ON leases(ref);
      CREATE INDEX leases_token ON leases(token);
    `,
  },
  {
    version: 3,
    name: 'containers and volumes',
    sql: `
      CREATE TABLE containers (
        id       TEXT PRIMARY KEY,
        name     TEXT NOT NULL UNIQUE,
        image_id TEXT NOT NULL REFERENCES images(id),
        created  TEXT NOT NULL,
        config   TEXT NOT NULL
      );
      CREATE INDEX containers_image ON containers(image_id);
      CREATE TABLE volumes (
        name      TEXT PRIMARY KEY,
        driver    TEXT NOT NULL,
        created   TEXT NOT NULL,
        labels    TEXT NOT NULL,
        options   TEXT NOT NULL,
        anonymous INTEGER NOT NULL
      );
      CREATE TABLE container_volumes (
        container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
        volume       TEXT NOT NULL REFERENCES volumes(name),
        PRIMARY KEY (container_id, volume)
      );
      CREATE INDEX container_volumes_volume ON container_volumes(volume);
    `,
  },
  {
    version: 4,
    name: 'locks between processes; where blobs came from (cross-repository mounts on push)',
    sql: `
      CREATE TABLE locks (
        name  TEXT PRIMARY KEY,
        pid   INTEGER NOT NULL,
        start TEXT NOT NULL
      );
      CREATE TABLE blob_sources (
        digest     TEXT NOT NULL,
        repository TEXT NOT NULL,
        PRIMARY KEY (digest, repository)
      );
    `,
  },
  {
    version: 5,
    name: 'networks and their endpoints',
    sql: `
      CREATE TABLE networks (
        id      TEXT PRIMARY KEY,
        name    TEXT NOT NULL UNIQUE,
        created TEXT NOT NULL,
        config  TEXT NOT NULL
      );
      CREATE TABLE endpoints (
        container_id TEXT NOT NULL,
        network_id   TEXT NOT NULL REFERENCES networks(id),
        config       TEXT NOT NULL,
        PRIMARY KEY (container_id, network_id)
      );
      CREATE INDEX endpoints_network ON endpoints(network_id);
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

function checkDigest(value: unknown, what: string): string {
  if (typeof value !== 'string' || !DIGEST_RE.test(value)) {
    throw new HakoError('invalid-argument', `${what}: invalid digest ${JSON.stringify(String(value)).slice(0, 160)}`);
  }
  return value;
}

function checkName(name: string): string {
  if (!NAME_RE.test(name)) throw new HakoError('invalid-argument', `invalid image name ${JSON.stringify(name).slice(0, 160)}`);
  return name;
}

function checkSize(size: unknown, what: string): void {
  if (size !== undefined && !(Number.isSafeInteger(size) && (size as number) >= 0)) {
    throw new HakoError('invalid-argument', `${what} must be a non-negative integer, got ${JSON.stringify(size)}`);
  }
}

type Row = Record<string, unknown>;

export class MetadataStore {
  readonly path: string;
  private readonly db: DatabaseSync;
  private readonly stmts = new Map<string, StatementSync>();
  private inTx = false;

  constructor(root: string, options: { busyTimeoutMs?: number } = {}) {
    this.path = join(root, 'metadata.db');
    try {
      mkdirSync(root, { recursive: true, mode: 0o711 });
      this.db = new DatabaseSync(this.path, { timeout: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS });
    } catch (err) {
      throw this.wrap(err, 'open');
    }
    try {
      // WAL persists in the file; setting it again is a cheap no-op.
      this.db.exec('PRAGMA journal_mode = WAL');
      // FULL: a commit is on disk when it returns, as the blobs it points to are.
      this.db.exec('PRAGMA synchronous = FULL');
      this.db.exec('PRAGMA foreign_keys = ON');
      this.migrate();
    } catch (err) {
      this.db.close();
      throw this.wrap(err, 'open');
    }
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  schemaVersion(): number {
    return Number((this.q('PRAGMA user_version').get() as Row)['user_version']);
  }

  /**
   * Records an image with its layers (bottom first) and names. The layers' refcounts go
   * up by one each, rows are created for new chains. Adding an image that is already
   * there only adds the names.
   */
  addImage(image: NewImage, layers: readonly NewLayer[], names: readonly string[] = []): AddImageResult {
    checkDigest(image.id, 'image id');
    checkDigest(image.manifestDigest, 'manifest digest');
    if (image.indexDigest !== undefined) checkDigest(image.indexDigest, 'index digest');
    if (typeof image.mediaType !== 'string' || image.mediaType === '') throw new HakoError('invalid-argument', 'image media type is missing');
    checkSize(image.size, 'image size');
    layers.forEach((l, i) => {
      checkDigest(l.chainId, `layers[${i}].chainId`);
      checkDigest(l.diffId, `layers[${i}].diffId`);
      checkSize(l.size, `layers[${i}].size`);
    });
    if (layers[0] && layers[0].chainId !== layers[0].diffId) {
      throw new HakoError('invalid-argument', 'layers[0]: the chain id of the bottom layer is its diff id');
    }
    names.forEach(checkName);

    return this.tx(() => {
      const existing = this.q('SELECT id FROM images WHERE id = ?').get(image.id);
      if (!existing) {
        const size = image.size ?? layers.reduce((sum, l) => sum + (l.size ?? 0), 0);
        this.q(
          `INSERT INTO images (id, manifest_digest, media_type, index_digest, created, added, size, os, architecture, variant)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ).run(
          image.id,
          image.manifestDigest,
          image.mediaType,
          image.indexDigest ?? null,
          image.created ?? null,
          new Date().toISOString(),
          size,
          image.os ?? null,
          image.architecture ?? null,
          image.variant ?? null,
        );
        layers.forEach((l, i) => {
          const parent = i === 0 ? null : layers[i - 1]!.chainId;
          const row = this.q('SELECT diff_id, parent FROM layers WHERE chain_id = ?').get(l.chainId) as Row | undefined;
          if (row) {
            if (row['diff_id'] !== l.diffId || row['parent'] !== parent) {
              throw new HakoError('invalid-state', `layer ${l.chainId} is recorded with another diff id or parent; the metadata database is inconsistent`);
            }
            this.q('UPDATE layers SET refcount = refcount + 1, size = coalesce(size, ?) WHERE chain_id = ?').run(l.size ?? null, l.chainId);
          } else {
            this.q('INSERT INTO layers (chain_id, diff_id, parent, size, refcount) VALUES (?, ?, ?, ?, 1)').run(l.chainId, l.diffId, parent, l.size ?? null);
          }
          this.q('INSERT INTO image_layers (image_id, idx, chain_id) VALUES (?, ?, ?)').run(image.id, i, l.chainId);
        });
      } else {
        const known = this.layersOf(image.id).map((l) => l.chainId);
        if (known.join() !== layers.map((l) => l.chainId).join()) {
          throw new HakoError('invalid-state', `image ${image.id} is already recorded with other layers`);
        }
      }
      const retagged: AddImageResult['retagged'] = [];
      for (const name of names) {
        const previous = this.setName(name, image.id);
        if (previous) retagged.push({ name, previous });
      }
      return { added: !existing, retagged };
    });
  }

  /** Points `name` at an image; returns the image it pointed at before, if another. */
  tag(name: string, imageId: string): string | undefined {
    checkName(name);
    checkDigest(imageId, 'image id');
    return this.tx(() => {
      if (!this.q('SELECT 1 FROM images WHERE id = ?').get(imageId)) throw new HakoError('not-found', `no such image: ${imageId}`);
      return this.setName(name, imageId);
    });
  }

  /** Removes a name; returns the image it pointed at. The image itself stays. */
  untag(name: string): string {
    return this.tx(() => {
      const row = this.q('SELECT image_id FROM names WHERE name = ?').get(name) as Row | undefined;
      if (!row) throw new HakoError('not-found', `no such image: ${name}`);
      this.q('DELETE FROM names WHERE name = ?').run(name);
      return row['image_id'] as string;
    });
  }

  /**
   * Claims layers (chain ids) and blobs (digests) for a load or import in progress:
   * removeImage will not free a leased layer, and blob pruning skips leased blobs. A
   * lease held by a process that has died (pid and start time) no longer counts.
   */
  newLease(): string {
    return randomUUID();
  }

  addToLease(token: string, refs: readonly string[]): void {
    refs.forEach((c, i) => checkDigest(c, `refs[${i}]`));
    const start = procStat(process.pid)?.startTime ?? '';
    this.tx(() => {
      for (const ref of refs) this.q('INSERT INTO leases (token, ref, pid, start) VALUES (?, ?, ?, ?)').run(token, ref, process.pid, start);
    });
  }

  releaseLease(token: string): void {
    this.tx(() => this.q('DELETE FROM leases WHERE token = ?').run(token));
  }

  isLeased(ref: string): boolean {
    const rows = this.q('SELECT pid, start FROM leases WHERE ref = ?').all(ref) as Row[];
    return rows.some((r) => isAlive(Number(r['pid']), String(r['start'])));
  }

  /**
   * Takes the named lock for this process unless a live process holds it (pid and start
   * time, so a crashed holder's lock lapses). Not reentrant.
   */
  tryLock(name: string): boolean {
    const start = procStat(process.pid)?.startTime ?? '';
    return this.tx(() => {
      const row = this.q('SELECT pid, start FROM locks WHERE name = ?').get(name) as Row | undefined;
      if (row && isAlive(Number(row['pid']), String(row['start']))) return false;
      this.q('INSERT OR REPLACE INTO locks (name, pid, start) VALUES (?, ?, ?)').run(name, process.pid, start);
      return true;
    });
  }

  unlock(name: string): void {
    this.tx(() => this.q('DELETE FROM locks WHERE name = ? AND pid = ?').run(name, process.pid));
  }

  /** Remembers that REPOSITORY (host/path) has the blob, so a push elsewhere on that host can mount it. */
  addBlobSource(digest: string, repository: string): void {
    checkDigest(digest, 'blob digest');
    this.tx(() => this.q('INSERT OR IGNORE INTO blob_sources (digest, repository) VALUES (?, ?)').run(digest, repository));
  }

  blobSources(digest: string): string[] {
    return (this.q('SELECT repository FROM blob_sources WHERE digest = ? ORDER BY rowid DESC').all(digest) as Row[]).map((r) => String(r['repository']));
  }

  /** A network's record: CONFIG is the engine's JSON. Names are unique (Docker's conflict error otherwise). */
  addNetwork(row: NetworkRow): void {
    this.tx(() => {
      if (this.q('SELECT 1 FROM networks WHERE name = ?').get(row.name)) throw new HakoError('already-exists', `network with name ${row.name} already exists`);
      this.q('INSERT INTO networks (id, name, created, config) VALUES (?, ?, ?, ?)').run(row.id, row.name, row.created, row.config);
    });
  }

  /** By name, full id or unique id prefix. */
  findNetwork(ref: string): NetworkRow | undefined {
    const exact = this.q('SELECT * FROM networks WHERE name = ? OR id = ?').get(ref, ref) as Row | undefined;
    if (exact) return toNetwork(exact);
    if (/^[0-9a-f]{1,63}$/.test(ref)) {
      const rows = this.q('SELECT * FROM networks WHERE id >= ? AND id < ? LIMIT 2').all(ref, `${ref}g`) as Row[];
      if (rows.length === 1) return toNetwork(rows[0]!);
      if (rows.length > 1) throw new HakoError('invalid-argument', `network ${ref} is ambiguous (${rows.length} matches found based on ID prefix)`);
    }
    return undefined;
  }

  updateNetworkConfig(id: string, config: string): void {
    this.tx(() => this.q('UPDATE networks SET config = ? WHERE id = ?').run(config, id));
  }

  listNetworks(): NetworkRow[] {
    return (this.q('SELECT * FROM networks ORDER BY created').all() as Row[]).map(toNetwork);
  }

  /** Removes a network with no endpoints; false if it has some. */
  removeNetwork(id: string): boolean {
    return this.tx(() => {
      if (this.q('SELECT 1 FROM endpoints WHERE network_id = ?').get(id)) return false;
      this.q('DELETE FROM networks WHERE id = ?').run(id);
      return true;
    });
  }

  setEndpoint(containerId: string, networkId: string, config: string): void {
    this.tx(() => this.q('INSERT OR REPLACE INTO endpoints (container_id, network_id, config) VALUES (?, ?, ?)').run(containerId, networkId, config));
  }

  removeEndpoint(containerId: string, networkId: string): void {
    this.tx(() => this.q('DELETE FROM endpoints WHERE container_id = ? AND network_id = ?').run(containerId, networkId));
  }

  endpoints(where: { containerId?: string; networkId?: string } = {}): EndpointRow[] {
    const rows = (
      where.containerId !== undefined
        ? this.q('SELECT * FROM endpoints WHERE container_id = ? ORDER BY rowid').all(where.containerId)
        : where.networkId !== undefined
          ? this.q('SELECT * FROM endpoints WHERE network_id = ? ORDER BY rowid').all(where.networkId)
          : this.q('SELECT * FROM endpoints ORDER BY rowid').all()
    ) as Row[];
    return rows.map((r) => ({ containerId: String(r['container_id']), networkId: String(r['network_id']), config: String(r['config']) }));
  }

  /** Runs fn holding the database's write lock (e.g. a check and a delete that must not interleave with a lease). */
  exclusive<T>(fn: () => T): T {
    return this.tx(fn);
  }

  /**
   * Removes an image and its names. Returns the chain ids that no image uses any more,
   * top layer first: the caller deletes those snapshots (in that order), and only those.
   * A layer leased by a load in progress is kept (its row stays, refcount 0). detach
   * runs inside the transaction with the freed layers: it takes them out of use (renames
   * them aside) before any other process can lease them again.
   */
  removeImage(id: string, detach?: (freed: string[]) => void): string[] {
    checkDigest(id, 'image id');
    return this.tx(() => {
      const chains = this.layersOf(id).map((l) => l.chainId);
      if (!this.q('SELECT 1 FROM images WHERE id = ?').get(id)) throw new HakoError('not-found', `no such image: ${id}`);
      this.q('DELETE FROM names WHERE image_id = ?').run(id);
      this.q('DELETE FROM image_layers WHERE image_id = ?').run(id);
      this.q('DELETE FROM images WHERE id = ?').run(id);
      const freed: string[] = [];
      for (const chain of chains.reverse()) {
        const row = this.q('UPDATE layers SET refcount = refcount - 1 WHERE chain_id = ? RETURNING refcount').get(chain) as Row;
        if (row['refcount'] === 0 && !this.isLeased(chain)) {
          this.q('DELETE FROM layers WHERE chain_id = ?').run(chain);
          freed.push(chain);
        }
      }
      detach?.(freed);
      return freed;
    });
  }

  getImage(id: string): ImageRecord | undefined {
    const row = this.q('SELECT * FROM images WHERE id = ?').get(id) as Row | undefined;
    return row && this.toImage(row, this.namesOf(id));
  }

  namesOf(id: string): string[] {
    return this.q('SELECT name FROM names WHERE image_id = ? ORDER BY name').all(id).map((r) => (r as Row)['name'] as string);
  }

  /** All images, newest first, each with its names. */
  listImages(): ImageRecord[] {
    const names = new Map<string, string[]>();
    for (const r of this.q('SELECT name, image_id FROM names ORDER BY name').all() as Row[]) {
      const id = r['image_id'] as string;
      names.set(id, [...(names.get(id) ?? []), r['name'] as string]);
    }
    return (this.q('SELECT * FROM images ORDER BY added DESC, id').all() as Row[]).map((r) => this.toImage(r, names.get(r['id'] as string) ?? []));
  }

  /** The image's layers, bottom first. */
  layersOf(id: string): LayerRecord[] {
    return (
      this.q(
        `SELECT l.* FROM image_layers il JOIN layers l ON l.chain_id = il.chain_id
         WHERE il.image_id = ? ORDER BY il.idx`,
      ).all(id) as Row[]
    ).map(toLayer);
  }

  getLayer(chainId: string): LayerRecord | undefined {
    const row = this.q('SELECT * FROM layers WHERE chain_id = ?').get(chainId) as Row | undefined;
    return row && toLayer(row);
  }

  /** Records a layer's unpacked size once it is known. */
  setLayerSize(chainId: string, size: number): void {
    checkSize(size, 'layer size');
    this.tx(() => {
      if (this.q('UPDATE layers SET size = ? WHERE chain_id = ?').run(size, chainId).changes === 0) {
        throw new HakoError('not-found', `no such layer: ${chainId}`);
      }
    });
  }

  /**
   * Finds an image as Docker does: a full id (with or without "sha256:"), then a name
   * (`name` is the reference normalised by the caller, e.g. docker.io/library/busybox:latest;
   * default `ref` itself), then name@digest by the manifest or index digest it was pulled
   * with, then a unique id prefix of at least 4 hex digits.
   */
  resolve(ref: string, name: string = ref): ImageRecord {
    const full = /^[0-9a-f]{64}$/.test(ref) ? `sha256:${ref}` : ref;
    if (DIGEST_RE.test(full)) {
      const img = this.getImage(full);
      if (img) return img;
    }
    const named = this.q('SELECT image_id FROM names WHERE name = ?').get(name) as Row | undefined;
    if (named) return this.getImage(named['image_id'] as string)!;
    const at = name.lastIndexOf('@');
    if (at > 0 && DIGEST_RE.test(name.slice(at + 1))) {
      const [repo, digest] = [name.slice(0, at), name.slice(at + 1)];
      const rows = this.q(
        `SELECT DISTINCT i.id FROM images i JOIN names n ON n.image_id = i.id
         WHERE (i.manifest_digest = ? OR i.index_digest = ?)
           AND (substr(n.name, 1, length(?) + 1) IN (? || ':', ? || '@'))`,
      ).all(digest, digest, repo, repo, repo) as Row[];
      if (rows.length === 1) return this.getImage(rows[0]!['id'] as string)!;
    }
    const prefix = /^(sha256:)?([0-9a-f]{4,63})$/.exec(ref);
    if (prefix) {
      const rows = this.q("SELECT id FROM images WHERE id >= ? AND id < ? ORDER BY id LIMIT 6").all(
        `sha256:${prefix[2]}`,
        `sha256:${prefix[2]}g`, // 'g' sorts after every hex digit: the range is the prefix
      ) as Row[];
      if (rows.length === 1) return this.getImage(rows[0]!['id'] as string)!;
      if (rows.length > 1) {
        const ids = rows.slice(0, 5).map((r) => (r['id'] as string).slice(7, 19));
        throw new HakoError('invalid-argument', `short id "${prefix[2]}" is ambiguous: it matches ${ids.join(', ')}${rows.length > 5 ? ', …' : ''}; give more digits`);
      }
    }
    throw new HakoError('not-found', `no such image: ${ref}`);
  }


  // Containers and volumes: the engine's records. The settings are the engine's JSON;
  // storage only keeps names unique and images in use from going.

  /** Adds a container; its name must be free (Docker's conflict error otherwise), its image recorded. */
  addContainer(c: ContainerRow, volumes: readonly string[] = []): void {
    this.tx(() => {
      const clash = this.q('SELECT id FROM containers WHERE name = ?').get(c.name) as Row | undefined;
      if (clash) {
        throw new HakoError(
          'already-exists',
          `Conflict. The container name "/${c.name}" is already in use by container "${clash['id'] as string}". You have to remove (or rename) that container to be able to reuse that name.`,
        );
      }
      if (!this.q('SELECT 1 FROM images WHERE id = ?').get(c.imageId)) throw new HakoError('not-found', `No such image: ${c.imageId}`);
      this.q('INSERT INTO containers (id, name, image_id, created, config) VALUES (?, ?, ?, ?, ?)').run(c.id, c.name, c.imageId, c.created, c.config);
      for (const v of volumes) this.q('INSERT OR IGNORE INTO container_volumes (container_id, volume) VALUES (?, ?)').run(c.id, v);
    });
  }

  getContainer(id: string): ContainerRow | undefined {
    const r = this.q('SELECT * FROM containers WHERE id = ?').get(id) as Row | undefined;
    return r && toContainer(r);
  }

  /** All containers, newest first. */
  listContainers(): ContainerRow[] {
    return (this.q('SELECT * FROM containers ORDER BY created DESC, id').all() as Row[]).map(toContainer);
  }

  /** Docker's lookup: full id, then exact name, then a unique id prefix. */
  resolveContainer(ref: string): ContainerRow {
    const name = ref.startsWith('/') ? ref.slice(1) : ref;
    const byId = this.getContainer(ref);
    if (byId) return byId;
    const byName = this.q('SELECT * FROM containers WHERE name = ?').get(name) as Row | undefined;
    if (byName) return toContainer(byName);
    if (/^[0-9a-f]{1,63}$/.test(ref)) {
      const rows = this.q('SELECT * FROM containers WHERE id >= ? AND id < ? ORDER BY id LIMIT 2').all(ref, `${ref}g`) as Row[];
      if (rows.length === 1) return toContainer(rows[0]!);
      if (rows.length > 1) throw new HakoError('invalid-argument', `multiple IDs found with provided prefix: ${ref}`);
    }
    throw new HakoError('not-found', `No such container: ${ref}`);
  }

  resolveContainerByName(name: string): ContainerRow | undefined {
    const r = this.q('SELECT * FROM containers WHERE name = ?').get(name) as Row | undefined;
    return r && toContainer(r);
  }

  updateContainerConfig(id: string, config: string): void {
    this.tx(() => {
      if (this.q('UPDATE containers SET config = ? WHERE id = ?').run(config, id).changes === 0) throw new HakoError('not-found', `No such container: ${id}`);
    });
  }

  renameContainer(id: string, name: string): void {
    this.tx(() => {
      const clash = this.q('SELECT id FROM containers WHERE name = ?').get(name) as Row | undefined;
      if (clash && clash['id'] !== id) {
        throw new HakoError('already-exists', `Conflict. The container name "/${name}" is already in use by container "${clash['id'] as string}". You have to remove (or rename) that container to be able to reuse that name.`);
      }
      if (this.q('UPDATE containers SET name = ? WHERE id = ?').run(name, id).changes === 0) throw new HakoError('not-found', `No such container: ${id}`);
    });
  }

  /** Removes the container's row; returns the volumes it used (the caller removes anonymous ones). */
  removeContainer(id: string): string[] {
    return this.tx(() => {
      const vols = (this.q('SELECT volume FROM container_volumes WHERE container_id = ?').all(id) as Row[]).map((r) => r['volume'] as string);
      this.q('DELETE FROM container_volumes WHERE container_id = ?').run(id);
      this.q('DELETE FROM containers WHERE id = ?').run(id);
      return vols;
    });
  }

  /** Ids of the containers made from an image. */
  containersOfImage(imageId: string): string[] {
    return (this.q('SELECT id FROM containers WHERE image_id = ?').all(imageId) as Row[]).map((r) => r['id'] as string);
  }

  /** Creates a volume unless one by that name exists; returns whether it was created. */
  addVolume(v: VolumeRow): boolean {
    return this.tx(() => {
      if (this.q('SELECT 1 FROM volumes WHERE name = ?').get(v.name)) return false;
      this.q('INSERT INTO volumes (name, driver, created, labels, options, anonymous) VALUES (?, ?, ?, ?, ?, ?)').run(
        v.name,
        v.driver,
        v.created,
        JSON.stringify(v.labels),
        JSON.stringify(v.options),
        v.anonymous ? 1 : 0,
      );
      return true;
    });
  }

  getVolume(name: string): VolumeRow | undefined {
    const r = this.q('SELECT * FROM volumes WHERE name = ?').get(name) as Row | undefined;
    return r && toVolume(r);
  }

  listVolumes(): VolumeRow[] {
    return (this.q('SELECT * FROM volumes ORDER BY name').all() as Row[]).map(toVolume);
  }

  /** Containers using the volume. */
  volumeUsers(name: string): string[] {
    return (this.q('SELECT container_id FROM container_volumes WHERE volume = ?').all(name) as Row[]).map((r) => r['container_id'] as string);
  }

  /**
   * Deletes the volume's row if no container uses it, and runs `remove` (its files) in the
   * same transaction, so no container can start using it in between.
   */
  removeVolume(name: string, remove: () => void): void {
    this.tx(() => {
      if (!this.q('SELECT 1 FROM volumes WHERE name = ?').get(name)) throw new HakoError('not-found', `no such volume: ${name}`);
      const users = this.volumeUsers(name);
      if (users.length > 0) throw new HakoError('in-use', `remove ${name}: volume is in use - [${users.join(', ')}]`);
      this.q('DELETE FROM volumes WHERE name = ?').run(name);
      remove();
    });
  }

  private setName(name: string, imageId: string): string | undefined {
    const row = this.q('SELECT image_id FROM names WHERE name = ?').get(name) as Row | undefined;
    if (row?.['image_id'] === imageId) return undefined;
    this.q(
      `INSERT INTO names (name, image_id, added) VALUES (?, ?, ?)
       ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id, added = excluded.added`,
    ).run(name, imageId, new Date().toISOString());
    return row?.['image_id'] as string | undefined;
  }

  private toImage(r: Row, names: string[]): ImageRecord {
    return {
      id: r['id'] as string,
      manifestDigest: r['manifest_digest'] as string,
      mediaType: r['media_type'] as string,
      indexDigest: (r['index_digest'] as string | null) ?? null,
      created: (r['created'] as string | null) ?? null,
      added: r['added'] as string,
      size: Number(r['size']),
      os: (r['os'] as string | null) ?? null,
      architecture: (r['architecture'] as string | null) ?? null,
      variant: (r['variant'] as string | null) ?? null,
      names,
    };
  }

  /** Runs fn in one write transaction: all of it is committed, or none of it. */
  private tx<T>(fn: () => T): T {
    if (this.inTx) return fn();
    try {
      this.db.exec('BEGIN IMMEDIATE');
    } catch (err) {
      throw this.wrap(err, 'begin a transaction in');
    }
    this.inTx = true;
    try {
      const result = fn();
      this.db.exec('COMMIT');
      return result;
    } catch (err) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      throw this.wrap(err, 'update');
    } finally {
      this.inTx = false;
    }
  }

  private migrate(): void {
    const current = this.schemaVersion();
    if (current === SCHEMA_VERSION) return; // the common case: no write lock needed
    this.tx(() => {
      this.db.exec(`CREATE TABLE IF NOT EXISTS migrations (
        version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied TEXT NOT NULL)`);
      // Read again under the lock: another process may have migrated meanwhile.
      const done = Number((this.q('SELECT coalesce(max(version), 0) AS v FROM migrations').get() as Row)['v']);
      if (done > SCHEMA_VERSION) {
        throw new HakoError('unsupported', `${this.path} has schema version ${done}, newer than this hako knows (${SCHEMA_VERSION}); use a newer hako`);
      }
      for (const m of MIGRATIONS) {
        if (m.version <= done) continue;
        this.db.exec(m.sql);
        this.q('INSERT INTO migrations (version, name, applied) VALUES (?, ?, ?)').run(m.version, m.name, new Date().toISOString());
      }
      this.db.exec(`PRAGMA user_version = ${Math.max(done, SCHEMA_VERSION)}`);
    });
  }

  private q(sql: string): StatementSync {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  private wrap(err: unknown, what: string): HakoError {
    if (err instanceof HakoError) return err;
    const e = err as { code?: string; errstr?: string; message?: string };
    if (e?.code === 'ERR_SQLITE_ERROR') return new HakoError('system', `${what} ${this.path}: ${e.message}`, { cause: err });
    return systemError(err, `${what} ${this.path}`);
  }
}

export interface ContainerRow {
  id: string;
  name: string;
  imageId: string;
  created: string;
  /** the engine's JSON */
  config: string;
}

export interface VolumeRow {
  name: string;
  driver: string;
  created: string;
  labels: Record<string, string>;
  options: Record<string, string>;
  anonymous: boolean;
}

function toContainer(r: Row): ContainerRow {
  return { id: r['id'] as string, name: r['name'] as string, imageId: r['image_id'] as string, created: r['created'] as string, config: r['config'] as string };
}

function toVolume(r: Row): VolumeRow {
  return {
    name: r['name'] as string,
    driver: r['driver'] as string,
    created: r['created'] as string,
    labels: JSON.parse(r['labels'] as string) as Record<string, string>,
    options: JSON.parse(r['options'] as string) as Record<string, string>,
    anonymous: r['anonymous'] === 1,
  };
}

function toLayer(r: Row): LayerRecord {
  return {
    chainId: r['chain_id'] as string,
    diffId: r['diff_id'] as string,
    parent: (r['parent'] as string | null) ?? null,
    size: r['size'] === null ? null : Number(r['size']),
    refcount: Number(r['refcount']),
  };
}
