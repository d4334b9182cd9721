import { HakoError } from '../common/errors.ts';
import { readHierarchies, updateResources } from './cgroups.ts';
import type { StateStore } from './state-store.ts';

type Obj = Record<string, unknown>;

/**
 * `update`: writes the given linux.resources fields to the live cgroup, then records
 * them in the container's spec, so that state.json says what the cgroup holds.
 */
export function updateContainer(store: StateStore, id: string, changes: Obj): void {
  const rec = store.load(id);
  if (store.status(rec) === 'stopped') throw new HakoError('invalid-state', `cannot update container "${id}": it is stopped`);
  updateResources(rec.cgroup, changes, readHierarchies());
  const linux = (rec.spec.linux ??= {});
  linux.resources = mergeResources(linux.resources ?? {}, changes);
  store.save(rec);
}

/** Field by field within each section (memory, cpu, …); lists are replaced whole. */
export function mergeResources(old: Obj, changes: Obj): Obj {
  const out: Obj = { ...old };
  for (const [k, v] of Object.entries(changes)) {
    const prev = out[k];
    out[k] = isObj(prev) && isObj(v) ? { ...prev, ...v } : v;
  }
  return out;
}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
