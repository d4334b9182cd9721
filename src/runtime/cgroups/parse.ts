import { HakoError } from '../../common/errors.ts';
import { THROTTLE_KEYS, type BlockIOResources, type CpuResources, type DeviceRule, type MemoryResources, type Resources } from './types.ts';

type Obj = Record<string, unknown>;

export const bad = (field: string, msg: string) => new HakoError('invalid-config', `${field}: ${msg}`);

/**
 * Validates linux.resources before anything is written, so that a bad value fails the
 * create with the field's name and leaves no half-configured cgroup behind.
 */
export function parseResources(raw: unknown, field = 'linux.resources'): Resources {
  const o = obj(raw, field) ?? {};
  keys(o, ['devices', 'memory', 'cpu', 'pids', 'blockIO', 'hugepageLimits', 'network', 'rdma', 'unified'], field);
  const r: Resources = {};
  const devices = list(o, 'devices', field);
  if (devices) r.devices = devices.map((d, i) => deviceRule(d, `${field}.devices[${i}]`));
  const memory = obj(o['memory'], `${field}.memory`);
  if (memory) r.memory = parseMemory(memory, `${field}.memory`);
  const cpu = obj(o['cpu'], `${field}.cpu`);
  if (cpu) r.cpu = parseCpu(cpu, `${field}.cpu`);
  const pids = obj(o['pids'], `${field}.pids`);
  if (pids) {
    keys(pids, ['limit'], `${field}.pids`);
    const limit = int(pids, 'limit', `${field}.pids`, -1);
    if (limit !== undefined) r.pids = { limit };
  }
  const blockIO = obj(o['blockIO'], `${field}.blockIO`);
  if (blockIO) r.blockIO = parseBlockIO(blockIO, `${field}.blockIO`);
  const huge = list(o, 'hugepageLimits', field);
  if (huge) {
    r.hugepageLimits = huge.map((h, i) => {
      const f = `${field}.hugepageLimits[${i}]`;
      const e = obj(h, f) ?? {};
      keys(e, ['pageSize', 'limit'], f);
      const pageSize = str(e, 'pageSize', f);
      if (!pageSize || !/^\d+[KMGT]B$/.test(pageSize)) throw bad(`${f}.pageSize`, `must be a size like "2MB" or "1GB" (got ${JSON.stringify(e['pageSize'])})`);
      return { pageSize, limit: int(e, 'limit', f, -1) ?? 0 };
    });
  }
  const network = obj(o['network'], `${field}.network`);
  if (network) {
    const f = `${field}.network`;
    keys(network, ['classID', 'priorities'], f);
    r.network = {};
    const classID = int(network, 'classID', f, 0, 0xffffffff);
    if (classID !== undefined) r.network.classID = classID;
    const prios = list(network, 'priorities', f);
    if (prios) {
      r.network.priorities = prios.map((p, i) => {
        const pf = `${f}.priorities[${i}]`;
        const e = obj(p, pf) ?? {};
        keys(e, ['name', 'priority'], pf);
        const name = str(e, 'name', pf);
        if (!name || /\s/.test(name)) throw bad(`${pf}.name`, 'must be an interface name');
        return { name, priority: int(e, 'priority', pf, 0, 0xffffffff) ?? 0 };
      });
    }
  }
  const rdma = obj(o['rdma'], `${field}.rdma`);
  if (rdma) {
    r.rdma = {};
    for (const [dev, v] of Object.entries(rdma)) {
      const f = `${field}.rdma.${dev}`;
      if (!/^[\w.-]+$/.test(dev)) throw bad(f, 'invalid device name');
      const e = obj(v, f) ?? {};
      keys(e, ['hcaHandles', 'hcaObjects'], f);
      r.rdma[dev] = { ...defined('hcaHandles', int(e, 'hcaHandles', f, 0)), ...defined('hcaObjects', int(e, 'hcaObjects', f, 0)) };
    }
  }
  const unified = obj(o['unified'], `${field}.unified`);
  if (unified) {
    r.unified = {};
    for (const [k, v] of Object.entries(unified)) {
      // A file name in the container's own cgroup directory, nothing else.
      if (!/^[a-z0-9_]+\.[\w.]+$/.test(k)) throw bad(`${field}.unified`, `invalid key ${JSON.stringify(k)}: must name a cgroup v2 interface file such as "memory.high"`);
      if (typeof v !== 'string') throw bad(`${field}.unified.${k}`, 'must be a string');
      r.unified[k] = v;
    }
  }
  return r;
}

function parseMemory(m: Obj, f: string): MemoryResources {
  keys(m, ['limit', 'reservation', 'swap', 'kernel', 'kernelTCP', 'swappiness', 'disableOOMKiller', 'useHierarchy', 'checkBeforeUpdate'], f);
  return {
    ...defined('limit', int(m, 'limit', f, -1)),
    ...defined('reservation', int(m, 'reservation', f, -1)),
    ...defined('swap', int(m, 'swap', f, -1)),
    ...defined('kernel', int(m, 'kernel', f, -1)),
    ...defined('kernelTCP', int(m, 'kernelTCP', f, -1)),
    ...defined('swappiness', int(m, 'swappiness', f, 0, 100)),
    ...defined('disableOOMKiller', bool(m, 'disableOOMKiller', f)),
    ...defined('useHierarchy', bool(m, 'useHierarchy', f)),
    ...defined('checkBeforeUpdate', bool(m, 'checkBeforeUpdate', f)),
  };
}

function parseCpu(c: Obj, f: string): CpuResources {
  keys(c, ['shares', 'quota', 'burst', 'period', 'realtimeRuntime', 'realtimePeriod', 'cpus', 'mems', 'idle'], f);
  const list = (k: string) => {
    const v = str(c, k, f);
    if (v !== undefined && !/^[\d,\-\s]*$/.test(v)) throw bad(`${f}.${k}`, `must be a list like "0-3,5" (got ${JSON.stringify(v)})`);
    return v;
  };
  return {
    ...defined('shares', int(c, 'shares', f, 0)),
    ...defined('quota', int(c, 'quota', f, -1)),
    ...defined('burst', int(c, 'burst', f, 0)),
    ...defined('period', int(c, 'period', f, 0)),
    ...defined('realtimeRuntime', int(c, 'realtimeRuntime', f, -1)),
    ...defined('realtimePeriod', int(c, 'realtimePeriod', f, 0)),
    ...defined('cpus', list('cpus')),
    ...defined('mems', list('mems')),
    ...defined('idle', int(c, 'idle', f, 0, 1)),
  };
}

function parseBlockIO(b: Obj, f: string): BlockIOResources {
  keys(b, ['weight', 'leafWeight', 'weightDevice', ...THROTTLE_KEYS], f);
  const weight = (o: Obj, k: string, field: string) => {
    const w = int(o, k, field, 0, 1000);
    if (w !== undefined && w !== 0 && w < 10) throw bad(`${field}.${k}`, `must be between 10 and 1000 (got ${w})`);
    return w;
  };
  const r: BlockIOResources = { ...defined('weight', weight(b, 'weight', f)), ...defined('leafWeight', weight(b, 'leafWeight', f)) };
  const wd = list(b, 'weightDevice', f);
  if (wd) {
    r.weightDevice = wd.map((d, i) => {
      const df = `${f}.weightDevice[${i}]`;
      const e = obj(d, df) ?? {};
      keys(e, ['major', 'minor', 'weight', 'leafWeight'], df);
      return { ...majorMinor(e, df), ...defined('weight', weight(e, 'weight', df)), ...defined('leafWeight', weight(e, 'leafWeight', df)) };
    });
  }
  for (const k of THROTTLE_KEYS) {
    const t = list(b, k, f);
    if (!t) continue;
    r[k] = t.map((d, i) => {
      const df = `${f}.${k}[${i}]`;
      const e = obj(d, df) ?? {};
      keys(e, ['major', 'minor', 'rate'], df);
      return { ...majorMinor(e, df), rate: int(e, 'rate', df, 0) ?? 0 };
    });
  }
  return r;
}

function majorMinor(e: Obj, f: string): { major: number; minor: number } {
  const major = int(e, 'major', f, 0);
  const minor = int(e, 'minor', f, 0);
  if (major === undefined || minor === undefined) throw bad(f, 'major and minor are required');
  return { major, minor };
}

function deviceRule(raw: unknown, f: string): DeviceRule {
  const d = obj(raw, f) ?? {};
  keys(d, ['allow', 'type', 'major', 'minor', 'access'], f);
  const allow = bool(d, 'allow', f);
  if (allow === undefined) throw bad(`${f}.allow`, 'is required');
  const type = str(d, 'type', f) ?? 'a';
  if (type !== 'a' && type !== 'c' && type !== 'b') throw bad(`${f}.type`, `must be "a", "c" or "b" (got ${JSON.stringify(type)})`);
  const access = str(d, 'access', f) || 'rwm';
  if (!/^[rwm]{1,3}$/.test(access) || new Set(access).size !== access.length) throw bad(`${f}.access`, `must combine r, w and m (got ${JSON.stringify(access)})`);
  return { allow, type, major: int(d, 'major', f, -1) ?? -1, minor: int(d, 'minor', f, -1) ?? -1, access };
}

// --- field readers: each names the field it refuses ---

export function obj(v: unknown, f: string): Obj | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw bad(f, 'must be an object');
  return v as Obj;
}

export function keys(o: Obj, known: readonly string[], f: string): void {
  for (const k of Object.keys(o)) if (!known.includes(k)) throw bad(`${f}.${k}`, `unknown field (known: ${known.join(', ')})`);
}

export function int(o: Obj, k: string, f: string, min: number, max = Number.MAX_VALUE): number | undefined {
  const v = o[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw bad(`${f}.${k}`, `must be an integer (got ${JSON.stringify(v)})`);
  if (v < min || v > max) {
    const range = max === Number.MAX_VALUE ? `>= ${min}` : `between ${min} and ${max}`;
    throw bad(`${f}.${k}`, `must be ${range}${min === -1 ? ' (-1: unlimited)' : ''} (got ${v})`);
  }
  return v;
}

function str(o: Obj, k: string, f: string): string | undefined {
  const v = o[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw bad(`${f}.${k}`, 'must be a string');
  return v;
}

function bool(o: Obj, k: string, f: string): boolean | undefined {
  const v = o[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw bad(`${f}.${k}`, 'must be true or false');
  return v;
}

function list(o: Obj, k: string, f: string): unknown[] | undefined {
  const v = o[k];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw bad(`${f}.${k}`, 'must be an array');
  return v;
}

/** `{k: v}` when v is set, `{}` otherwise: keeps absent fields absent. */
function defined<K extends string, V>(k: K, v: V | undefined): { [P in K]?: V } {
  return (v === undefined ? {} : { [k]: v }) as { [P in K]?: V };
}
