import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { chmod, chown, lstat, mkdir, mkdtemp, readFile, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { HakoError, isErrno, systemError } from '../common/errors.ts';
import { atomicWriteFile } from '../common/fs.ts';
import { copyTree } from './copy-snapshot.ts';
import { hakoMount } from './hako-mount.ts';
import { createLink, isMountPoint, overlayOptions, probeOverlay, removeLink, unmountAll } from './overlay.ts';

/**
 * Layers and container file systems, keyed by chain id (containerd's snapshotter, cut
 * down). Two drivers, chosen once per root and remembered in ROOT/snapshotter.json:
 *
 * overlay  ROOT/overlay/layers/<hex>/diff    one layer's own files, whiteouts as overlayfs reads them
 *          ROOT/overlay/l/<ID> → ../layers/<hex>/diff   short names: 130 lowerdirs fit in a page
 *          ROOT/overlay/containers/<key>/{upper,work,merged}
 * copy     ROOT/copy/layers/<hex>/diff       the whole file system up to this layer (flattened)
 *          ROOT/copy/containers/<key>/merged a full copy of the top layer
 *
 * Layers are applied in ROOT/<driver>/tmp and renamed into place: a layer directory
 * exists complete or not at all, and of two processes preparing the same chain id,
 * one rename wins and the other discards its copy.
 */
export type SnapshotDriver = 'overlay' | 'copy';

/** How a layer directory is to be filled: see applyLayer (src/image/layer-apply.ts). */
export type ApplyMode = 'overlay' | 'flat';

export interface Mount {
  type: string;
  source: string;
  target: string;
  options: string;
  /** directory to mount from: the options' relative paths are relative to it */
  cwd: string;
}

export interface ContainerLayer {
  key: string;
  driver: SnapshotDriver;
  /** where the container's changes land (the merged directory itself for copy) */
  upper: string;
  /** overlay's work directory; '' for copy */
  work: string;
  /** the container's root file system once mounted */
  merged: string;
  /** what mount(key) carries out; none for copy */
  mounts: Mount[];
}

export interface PreparedLayer<T> {
  chainId: string;
  /** the layer's directory (diff) */
  dir: string;
  /** false when the layer was already there (or another process made it first): `apply` did not run, or its work was discarded */
  created: boolean;
  applied?: T;
}

export interface SnapshotterOptions {
  /** force a driver on a new root (else HAKO_SNAPSHOTTER, else a probe) */
  driver?: SnapshotDriver;
}

const CHAIN_ID = /^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$/;
const KEY = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const STATE_FILE = 'snapshotter.json';

function hexOf(chainId: string): string {
  if (!CHAIN_ID.test(chainId)) throw new HakoError('invalid-argument', `invalid chain id "${chainId}": expected sha256:<64 hex digits>`);
  return chainId.slice(chainId.indexOf(':') + 1);
}

function checkKey(key: string): string {
  if (!KEY.test(key)) throw new HakoError('invalid-argument', `invalid snapshot key "${key}": use up to 128 letters, digits, _ . and -`);
  return key;
}

function parseDriver(value: string | undefined, from: string): SnapshotDriver | undefined {
  if (value === undefined || value === '') return undefined;
  if (value !== 'overlay' && value !== 'copy') throw new HakoError('invalid-argument', `${from}: unknown snapshotter "${value}" (overlay or copy)`);
  return value;
}

/** A layer taken out of use and renamed aside, waiting for finishRemoval. */
export interface DetachedLayer {
  base: string;
  aside: string;
  link: string | undefined;
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
}

/** Mount points for /etc/{hostname,hosts,resolv.conf}; /etc as the image has it (top layer first). */
export const INIT_FILES = ['etc/hostname', 'etc/hosts', 'etc/resolv.conf'];

async function makeInitLayer(dir: string, lowers: string[]): Promise<void> {
  let etc = { mode: 0o755, uid: 0, gid: 0 };
  for (const l of lowers) {
    const st = await lstat(join(l, 'etc')).catch(() => undefined);
    if (!st) continue;
    if (st.isDirectory()) etc = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
    else return; // /etc is not a directory in this image: leave it to the runtime
    break;
  }
  await mkdirExact(dir, 0o755);
  await mkdirExact(join(dir, 'etc'), etc.mode);
  await chown(join(dir, 'etc'), etc.uid, etc.gid);
  // A fixed time, not now: every container's placeholders are the same files, so two
  // containers of one image (or an image and its commit) look alike under the mounts.
  for (const f of INIT_FILES) {
    await writeFile(join(dir, f), '', { mode: 0o644 });
    await utimes(join(dir, f), 0, 0);
  }
}

export class Snapshotter {
  readonly root: string;
  private readonly forced: SnapshotDriver | undefined;
  private chosen: Promise<{ driver: SnapshotDriver; reason?: string }> | undefined;

  constructor(root: string, opts: SnapshotterOptions = {}) {
    this.root = resolve(root);
    this.forced = opts.driver ?? parseDriver(process.env['HAKO_SNAPSHOTTER'], 'HAKO_SNAPSHOTTER');
  }

  /** overlay or copy (for `hako info`); decided on first use of a root and kept. */
  async driver(): Promise<SnapshotDriver> {
    return (await this.driverInfo()).driver;
  }

  /** The driver and, for copy, why overlay was not used. */
  driverInfo(): Promise<{ driver: SnapshotDriver; reason?: string }> {
    if (!this.chosen) {
      this.chosen = this.chooseDriver();
      this.chosen.catch(() => (this.chosen = undefined)); // a failed probe is tried again next time
    }
    return this.chosen;
  }

  private async chooseDriver(): Promise<{ driver: SnapshotDriver; reason?: string }> {
    const file = join(this.root, STATE_FILE);
    const saved = await readText(file);
    if (saved !== undefined) {
      const info = JSON.parse(saved) as { driver: string; reason?: string };
      const driver = parseDriver(info.driver, file)!;
      if (this.forced && this.forced !== driver) {
        throw new HakoError('invalid-state', `${this.root} holds ${driver} snapshots; the ${this.forced} snapshotter cannot use it`);
      }
      return info.reason ? { driver, reason: info.reason } : { driver };
    }
    let chosen: { driver: SnapshotDriver; reason?: string };
    if (this.forced) chosen = this.forced === 'copy' ? { driver: 'copy', reason: 'chosen by configuration' } : { driver: 'overlay' };
    else {
      const reason = await probeOverlay(this.root);
      chosen = reason === undefined ? { driver: 'overlay' } : { driver: 'copy', reason };
    }
    await mkdir(this.root, { recursive: true, mode: 0o711 });
    atomicWriteFile(file, `${JSON.stringify(chosen)}\n`);
    return chosen;
  }

  private base(driver: SnapshotDriver): string {
    return join(this.root, driver);
  }

  private layerPath(driver: SnapshotDriver, chainId: string): string {
    return join(this.base(driver), 'layers', hexOf(chainId));
  }

  /** The directory of a prepared layer, or undefined. */
  async layerDir(chainId: string): Promise<string | undefined> {
    const diff = join(this.layerPath(await this.driver(), chainId), 'diff');
    return existsSync(diff) ? diff : undefined;
  }

  /**
   * Makes the layer CHAIN_ID on top of PARENT (which must exist) unless it exists.
   * APPLY fills an empty directory ('overlay') or, for copy, a copy of the parent
   * ('flat'). Safe to call from several processes at once: both succeed, one stays.
   * PARENT_READY (the parent's own prepareLayer, running meanwhile): an overlay layer
   * needs nothing of its parent to be unpacked, so it is applied at once and only its
   * rename waits for the parent; a copy layer starts from the parent, so it waits first.
   */
  async prepareLayer<T>(
    chainId: string,
    parentChainId: string | undefined,
    apply: (dir: string, mode: ApplyMode) => Promise<T>,
    parentReady?: Promise<unknown>,
  ): Promise<PreparedLayer<T>> {
    const driver = await this.driver();
    const final = this.layerPath(driver, chainId);
    const diff = join(final, 'diff');
    if (existsSync(diff)) return { chainId, dir: diff, created: false };
    const parentDiff = parentChainId === undefined ? undefined : join(this.layerPath(driver, parentChainId), 'diff');
    const checkParent = () => {
      if (parentDiff && !existsSync(parentDiff)) throw new HakoError('not-found', `parent layer ${parentChainId} of ${chainId} is not prepared`);
    };
    if (driver === 'copy' && parentReady) await parentReady;
    if (driver === 'copy' || !parentReady) checkParent();

    const base = this.base(driver);
    for (const d of ['tmp', 'layers', ...(driver === 'overlay' ? ['l'] : [])]) await mkdir(join(base, d), { recursive: true, mode: 0o700 });
    const tmp = await mkdtemp(join(base, 'tmp', 'layer-'));
    let link: string | undefined;
    try {
      const tmpDiff = join(tmp, 'diff');
      if (driver === 'copy' && parentDiff) await copyTree(parentDiff, tmpDiff);
      else await mkdirExact(tmpDiff, 0o755);
      const applied = await apply(tmpDiff, driver === 'overlay' ? 'overlay' : 'flat');
      if (parentReady && driver === 'overlay') {
        await parentReady;
        checkParent();
      }
      await writeFile(join(tmp, 'parent'), parentChainId ?? '');
      if (driver === 'overlay') {
        link = await createLink(join(base, 'l'), `../layers/${hexOf(chainId)}/diff`);
        await writeFile(join(tmp, 'link'), link);
      }
      try {
        await rename(tmp, final);
      } catch (err) {
        if (!isErrno(err, 'ENOTEMPTY') && !isErrno(err, 'EEXIST')) throw err;
        // Another process made this layer first: keep theirs.
        if (link) await removeLink(join(base, 'l'), link);
        await rm(tmp, { recursive: true, force: true });
        return { chainId, dir: diff, created: false };
      }
      return { chainId, dir: diff, created: true, applied };
    } catch (err) {
      if (link) await removeLink(join(base, 'l'), link).catch(() => {});
      await rm(tmp, { recursive: true, force: true });
      throw err instanceof HakoError ? err : systemError(err, `prepare layer ${chainId}`);
    }
  }

  /**
   * A container's file system on the layers CHAIN_IDS (bottom first: each one's parent
   * is the one before it). Not mounted yet: see mount(key).
   */
  async createContainerLayer(key: string, chainIds: readonly string[]): Promise<ContainerLayer> {
    checkKey(key);
    const driver = await this.driver();
    if (!chainIds.length) throw new HakoError('invalid-argument', `container ${key}: an image needs at least one layer`);
    let parent = '';
    for (const id of chainIds) {
      const layer = this.layerPath(driver, id);
      const recorded = await readText(join(layer, 'parent'));
      if (recorded === undefined) throw new HakoError('not-found', `layer ${id} is not prepared`);
      if (recorded !== parent) throw new HakoError('invalid-argument', `layer ${id} sits on ${recorded || 'nothing'}, not on ${parent || 'nothing'}`);
      parent = id;
    }
    const base = this.base(driver);
    await mkdir(join(base, 'containers'), { recursive: true, mode: 0o700 });
    const dir = join(base, 'containers', key);
    try {
      await mkdir(dir, { mode: 0o711 });
    } catch (err) {
      if (isErrno(err, 'EEXIST')) throw new HakoError('already-exists', `container layer ${key} already exists`);
      throw systemError(err, `create ${dir}`);
    }
    try {
      if (driver === 'overlay') {
        const links: string[] = [];
        for (const id of [...chainIds].reverse()) links.push((await readText(join(this.layerPath(driver, id), 'link')))!);
        // The init layer (Docker's): the mount points the engine binds over, so that they
        // are never created in the container's own layer (and never end up in a commit).
        await makeInitLayer(join(dir, 'init'), links.map((l) => join(base, 'l', l)));
        links.unshift(`containers/${key}/init`);
        const lower = links.join(':');
        overlayOptions(links, `containers/${key}/upper`, `containers/${key}/work`); // too many layers: refuse now, not at mount time
        // the merged root takes the upper dir's owner and mode: a container user must be able to enter it
        await mkdirExact(join(dir, 'upper'), 0o755);
        await mkdirExact(join(dir, 'work'), 0o700);
        await mkdirExact(join(dir, 'merged'), 0o755);
        await writeFile(join(dir, 'lower'), lower);
      } else {
        await copyTree(join(this.layerPath(driver, chainIds.at(-1)!), 'diff'), join(dir, 'merged'));
      }
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err instanceof HakoError ? err : systemError(err, `create container layer ${key}`);
    }
    return this.containerLayer(key);
  }

  /**
   * What a container on CHAIN_IDS (bottom first) is compared with to find its changes
   * (src/image/layer-diff.ts), top first: overlay, each layer's own directory; copy, the
   * top layer's alone, which holds the whole file system.
   */
  async lowerDirs(chainIds: readonly string[]): Promise<string[]> {
    const driver = await this.driver();
    const ids = driver === 'copy' ? chainIds.slice(-1) : [...chainIds].reverse();
    return ids.map((id) => {
      const diff = join(this.layerPath(driver, id), 'diff');
      if (!existsSync(diff)) throw new HakoError('not-found', `layer ${id} is not prepared`);
      return diff;
    });
  }

  /** An existing container layer's paths and mounts. */
  async containerLayer(key: string): Promise<ContainerLayer> {
    checkKey(key);
    const driver = await this.driver();
    const base = this.base(driver);
    const dir = join(base, 'containers', key);
    const merged = join(dir, 'merged');
    if (driver === 'copy') {
      if (!existsSync(merged)) throw new HakoError('not-found', `container layer ${key} does not exist`);
      return { key, driver, upper: merged, work: '', merged, mounts: [] };
    }
    const lower = await readText(join(dir, 'lower'));
    if (lower === undefined) throw new HakoError('not-found', `container layer ${key} does not exist`);
    const rel = `containers/${key}`;
    const options = overlayOptions(lower.split(':'), `${rel}/upper`, `${rel}/work`);
    return {
      key,
      driver,
      upper: join(dir, 'upper'),
      work: join(dir, 'work'),
      merged,
      mounts: [{ type: 'overlay', source: 'overlay', target: merged, options, cwd: base }],
    };
  }

  /** Mounts the container's file system (overlay; nothing to do for copy) and returns its path. */
  async mount(key: string): Promise<string> {
    const layer = await this.containerLayer(key);
    for (const m of layer.mounts) {
      if (isMountPoint(m.target)) continue;
      await hakoMount(['mount', m.type, m.source, m.target, m.options, m.cwd]);
    }
    return layer.merged;
  }

  async unmount(key: string): Promise<void> {
    const layer = await this.containerLayer(key);
    for (const m of [...layer.mounts].reverse()) await unmountAll(m.target);
  }

  /** Unmounts and deletes a container's file system with its changes. */
  async removeContainerLayer(key: string): Promise<void> {
    await this.unmount(key);
    const base = this.base(await this.driver());
    await this.discard(base, join(base, 'containers', key));
  }

  /** Deletes a layer no other layer or container builds on. */
  async removeLayer(chainId: string): Promise<void> {
    const detached = this.detachLayerSync(await this.driver(), chainId);
    if (!detached) throw new HakoError('not-found', `layer ${chainId} does not exist`);
    await this.finishRemoval(detached);
  }

  /**
   * The synchronous half of removeLayer: checks that nothing builds on the layer and
   * renames it aside. Synchronous so that it can run inside a metadata transaction: a
   * concurrent load then either sees the layer leased, or its directory gone.
   */
  detachLayerSync(driver: SnapshotDriver, chainId: string): DetachedLayer | undefined {
    const base = this.base(driver);
    const layer = this.layerPath(driver, chainId);
    if (!existsSync(join(layer, 'diff'))) return undefined;
    for (const hex of readdirSync(join(base, 'layers'))) {
      const parent = readTextSync(join(base, 'layers', hex, 'parent'));
      if (parent === chainId) throw new HakoError('invalid-state', `layer ${chainId} is the parent of layer ${chainId.split(':')[0]}:${hex}`);
    }
    const link = readTextSync(join(layer, 'link'));
    if (driver === 'overlay' && link) {
      const containers = join(base, 'containers');
      for (const key of existsSync(containers) ? readdirSync(containers) : []) {
        const lower = readTextSync(join(containers, key, 'lower'));
        if (lower?.split(':').includes(link)) throw new HakoError('invalid-state', `layer ${chainId} is in use by container layer ${key}`);
      }
    }
    mkdirSync(join(base, 'tmp'), { recursive: true, mode: 0o700 });
    const aside = join(base, 'tmp', `rm-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
    try {
      renameSync(layer, aside);
    } catch (err) {
      throw systemError(err, `remove ${layer}`);
    }
    return { base, aside, link };
  }

  /** Deletes what detachLayerSync set aside, and the layer's short link. */
  async finishRemoval(d: DetachedLayer): Promise<void> {
    await rm(d.aside, { recursive: true, force: true });
    if (d.link) await removeLink(join(d.base, 'l'), d.link);
  }

  /** Renamed aside first, so that no one sees a half-deleted directory under its name. */
  private async discard(base: string, dir: string): Promise<void> {
    await mkdir(join(base, 'tmp'), { recursive: true, mode: 0o700 });
    const aside = join(base, 'tmp', `rm-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
    try {
      await rename(dir, aside);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw new HakoError('not-found', `${dir} does not exist`);
      throw systemError(err, `remove ${dir}`);
    }
    await rm(aside, { recursive: true, force: true });
  }
}

/** mkdir with MODE exactly, whatever the umask. */
async function mkdirExact(path: string, mode: number): Promise<void> {
  await mkdir(path);
  await chmod(path, mode);
}

function readTextSync(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
}
