/**
 * The container's cgroup on v1, hybrid and v2 hosts: placement (create, join, list,
 * remove), resources, freezer and stats. One file per controller per version under
 * v1/ and v2/; this index keeps the names the rest of the runtime imports.
 */
export { layoutOf, readHierarchies, type CgroupLayout, type Hierarchy } from './hierarchy.ts';
export { cgroupPathFor, cgroupPids, createCgroup, joinCgroup, removeCgroup, returnToOwnCgroup, type CgroupPlacement } from './placement.ts';
export { applyResources, cgroupParentSteps, updateResources } from './resources.ts';
export { freezerOf, isFrozen } from './freezer.ts';
export { collectStats, oomKillCount } from './stats.ts';
export { DEFAULT_DEVICE_RULES } from './devices.ts';
export type { Resources } from './types.ts';
