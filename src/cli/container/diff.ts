import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseVerb } from '../args.ts';
import { containerChanges, type Change } from '../../image/layer-diff.ts';
import { out } from '../output.ts';
import type { ContainerGlobals } from './index.ts';

const KIND = ['C', 'A', 'D'];

/**
 * The files the engine bind-mounts over (etc-files.ts): the runtime creates them as empty
 * mount points in the container's layer. Docker keeps those in an "init" layer below the
 * container's, so its diff never shows them; neither does this one.
 */
const ENGINE_MOUNT_POINTS = ['/etc/hostname', '/etc/hosts', '/etc/resolv.conf'];

/** `diff CONTAINER`: A/C/D lines, as Docker. */
export default async function diff(args: string[], g: ContainerGlobals): Promise<number> {
  const { positionals } = parseVerb('diff', args, {}, { min: 1, max: 1, usage: 'hako diff CONTAINER' });
  const c = g.eng.resolve(positionals[0]!);
  const snaps = g.eng.images.snapshots;
  const layer = await snaps.containerLayer(c.id);
  const lowers = await snaps.lowerDirs(g.eng.meta.layersOf(c.imageId).map((l) => l.chainId));
  const changes = await withoutEngineMountPoints(await containerChanges(layer, lowers), layer.upper, lowers);
  out(changes.map((ch) => `${KIND[ch.Kind]} ${ch.Path}\n`).join(''));
  return 0;
}

/**
 * Drops the engine's mount points (added, still empty files), then each directory that
 * shows as changed only because of them: nothing else changed below it and its mode and
 * owner are the image's (its mtime moved when the mount point was made).
 */
async function withoutEngineMountPoints(changes: Change[], upper: string, lowers: readonly string[]): Promise<Change[]> {
  const hidden = new Set<string>();
  for (const ch of changes) {
    if (ch.Kind !== 1 || !ENGINE_MOUNT_POINTS.includes(ch.Path)) continue;
    const st = await lstat(join(upper, ch.Path)).catch(() => undefined);
    if (st?.isFile() && st.size === 0) hidden.add(ch.Path);
  }
  if (hidden.size === 0) return changes;
  const kept = changes.filter((ch) => !hidden.has(ch.Path));
  const parents = new Set([...hidden].map((p) => p.slice(0, p.lastIndexOf('/')) || '/'));
  const result: Change[] = [];
  for (const ch of kept) {
    if (ch.Kind === 0 && parents.has(ch.Path) && !kept.some((o) => o.Path.startsWith(`${ch.Path}/`)) && (await sameAsImage(ch.Path, upper, lowers))) continue;
    result.push(ch);
  }
  return result;
}

async function sameAsImage(path: string, upper: string, lowers: readonly string[]): Promise<boolean> {
  const now = await lstat(join(upper, path)).catch(() => undefined);
  if (!now?.isDirectory()) return false;
  for (const lower of lowers) {
    const was = await lstat(join(lower, path)).catch(() => undefined);
    if (!was) continue;
    return was.isDirectory() && was.mode === now.mode && was.uid === now.uid && was.gid === now.gid;
  }
  return false;
}
