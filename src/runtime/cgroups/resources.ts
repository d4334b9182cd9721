import { unifiedOf, v2Controllers, type Hierarchy } from './hierarchy.ts';
import { locate } from './locate.ts';
import { bad, parseResources } from './parse.ts';
import type { CgroupPlacement } from './placement.ts';
import { withDefaultDevices } from './devices.ts';
import { applyRdma } from './rdma.ts';
import type { Resources } from './types.ts';
import * as v1blkio from './v1/blkio.ts';
import * as v1cpu from './v1/cpu.ts';
import * as v1cpuset from './v1/cpuset.ts';
import * as v1devices from './v1/devices.ts';
import * as v1hugetlb from './v1/hugetlb.ts';
import * as v1memory from './v1/memory.ts';
import * as v1network from './v1/network.ts';
import * as v1pids from './v1/pids.ts';
import * as v2cpu from './v2/cpu.ts';
import * as v2cpuset from './v2/cpuset.ts';
import { devicesBpfStep } from './v2/devices.ts';
import * as v2hugetlb from './v2/hugetlb.ts';
import * as v2io from './v2/io.ts';
import * as v2memory from './v2/memory.ts';
import * as v2pids from './v2/pids.ts';
import { enableControllers } from './v2/subtree.ts';
import { applyUnified } from './v2/unified.ts';

type Apply = (dir: string, r: Resources) => void;

/** One controller's share of linux.resources, and who writes it on each version. */
interface Part {
  /** the first field set, for "controller missing" errors; undefined = nothing to do */
  field(r: Resources): string | undefined;
  v1?: [controller: string, apply: Apply];
  v2?: [controller: string, apply: Apply];
}

const firstSet = (section: string, o: object | undefined, only?: readonly string[]) => {
  const k = Object.entries(o ?? {}).find(([key, v]) => v !== undefined && (!only || only.includes(key)))?.[0];
  return k === undefined ? undefined : `linux.resources.${section}.${k}`;
};
const CPU_KEYS = ['shares', 'quota', 'burst', 'period', 'realtimeRuntime', 'realtimePeriod', 'idle'];

/** In application order: cpuset first (the others do not depend on it, tasks do). */
const PARTS: Part[] = [
  {
    field: (r) => firstSet('cpu', r.cpu, ['cpus', 'mems']),
    v1: ['cpuset', (d, r) => v1cpuset.applyCpuset(d, r.cpu!)],
    v2: ['cpuset', (d, r) => v2cpuset.applyCpuset(d, r.cpu!)],
  },
  { field: (r) => firstSet('memory', r.memory), v1: ['memory', (d, r) => v1memory.applyMemory(d, r.memory!)], v2: ['memory', (d, r) => v2memory.applyMemory(d, r.memory!)] },
  { field: (r) => firstSet('cpu', r.cpu, CPU_KEYS), v1: ['cpu', (d, r) => v1cpu.applyCpu(d, r.cpu!)], v2: ['cpu', (d, r) => v2cpu.applyCpu(d, r.cpu!)] },
  { field: (r) => (r.pids ? 'linux.resources.pids.limit' : undefined), v1: ['pids', (d, r) => v1pids.applyPids(d, r.pids!)], v2: ['pids', (d, r) => v2pids.applyPids(d, r.pids!)] },
  { field: (r) => firstSet('blockIO', r.blockIO), v1: ['blkio', (d, r) => v1blkio.applyBlkio(d, r.blockIO!)], v2: ['io', (d, r) => v2io.applyIo(d, r.blockIO!)] },
  {
    field: (r) => (r.hugepageLimits?.length ? 'linux.resources.hugepageLimits' : undefined),
    v1: ['hugetlb', (d, r) => v1hugetlb.applyHugetlb(d, r.hugepageLimits!)],
    v2: ['hugetlb', (d, r) => v2hugetlb.applyHugetlb(d, r.hugepageLimits!)],
  },
  { field: (r) => (r.network?.classID !== undefined ? 'linux.resources.network.classID' : undefined), v1: ['net_cls', (d, r) => v1network.applyNetClassId(d, r.network!.classID!)] },
  { field: (r) => (r.network?.priorities?.length ? 'linux.resources.network.priorities' : undefined), v1: ['net_prio', (d, r) => v1network.applyNetPriorities(d, r.network!.priorities!)] },
  { field: (r) => (r.rdma && Object.keys(r.rdma).length ? 'linux.resources.rdma' : undefined), v1: ['rdma', (d, r) => applyRdma(d, r.rdma!)], v2: ['rdma', (d, r) => applyRdma(d, r.rdma!)] },
  // v2 devices are an eBPF program the executor loads: see cgroupParentSteps.
  { field: (r) => (r.devices ? 'linux.resources.devices' : undefined), v1: ['devices', (d, r) => v1devices.applyDevices(d, withDefaultDevices(r.devices!))], v2: ['core', () => {}] },
];

/**
 * Writes linux.resources into the container's cgroup (every hierarchy), before the
 * container's process joins it. Everything is validated first; a controller the config
 * needs but this host lacks is an error naming the field.
 */
export function applyResources(placement: CgroupPlacement, raw: Record<string, unknown> | undefined, hs: Hierarchy[]): void {
  write(placement, parseResources(raw), hs, true);
}

/**
 * `update`: the same on a live container, for the fields given. Devices are refused: the
 * v1 list is rebuilt from deny-all, which would cut a running container off for a moment.
 */
export function updateResources(placement: CgroupPlacement, raw: Record<string, unknown>, hs: Hierarchy[]): void {
  const r = parseResources(raw);
  if (r.devices) throw bad('linux.resources.devices', 'cannot be changed on a running container');
  write(placement, r, hs, false);
}

function write(placement: CgroupPlacement, r: Resources, hs: Hierarchy[], fresh: boolean): void {
  const jobs: [string, Apply][] = [];
  const needed = new Map<string, string>();
  for (const part of PARTS) {
    const field = part.field(r);
    if (!field) continue;
    const at = locate(placement, hs, part.v1?.[0], part.v2?.[0]);
    if (!at) throw bad(field, `needs the ${part.v1?.[0] ?? part.v2?.[0]} cgroup controller, which this host does not have${part.v2 ? '' : ' (there is no cgroup v2 equivalent)'}`);
    const [controller, apply] = at.version === 1 ? part.v1! : part.v2!;
    if (at.version === 2) needed.set(controller, field);
    jobs.push([at.dir, apply]);
  }
  const u = unifiedOf(hs);
  if (r.unified && Object.keys(r.unified).length) {
    if (!u) throw bad('linux.resources.unified', 'needs cgroup v2; this host has cgroup v1 only');
    const offered = v2Controllers(u);
    for (const k of Object.keys(r.unified)) {
      const controller = k.slice(0, k.indexOf('.'));
      if (controller === 'cgroup') continue;
      if (!offered.includes(controller)) {
        const onV1 = hs.some((h) => h.version === 1 && h.controllers.includes(controller));
        throw bad(`linux.resources.unified.${k}`, onV1 ? `the ${controller} controller is on cgroup v1 on this host; use the typed linux.resources fields` : `the ${controller} controller is not available on this host`);
      }
      needed.set(controller, `linux.resources.unified.${k}`);
    }
    jobs.push([locate(placement, hs, undefined, 'core')!.dir, (d) => applyUnified(d, r.unified!)]);
  }
  needed.delete('core');
  if (u && fresh) enableControllers(u.mountPoint, locate(placement, hs, undefined, 'core')!.dir, v2Controllers(u), needed);
  for (const [dir, apply] of jobs) apply(dir, r);
}

/**
 * Plan steps the executor runs before clone for the cgroup: cgroup v2's device eBPF
 * program (only native code can load it), whenever there is a cgroup2 hierarchy and
 * the config has a devices list — with the same defaults appended as on v1.
 */
export function cgroupParentSteps(placement: CgroupPlacement, raw: Record<string, unknown> | undefined, hs: Hierarchy[]): string[][] {
  const devices = parseResources(raw).devices;
  const dir = locate(placement, hs, undefined, 'core')?.dir;
  if (!devices || !dir) return [];
  return [devicesBpfStep(dir, withDefaultDevices(devices))];
}
