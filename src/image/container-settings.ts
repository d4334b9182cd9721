import { constants } from 'node:os';
import { posix } from 'node:path';
import { quote } from './digest.ts';
import { imageError, optionalString, type ImageHealthcheck, type ImageRuntimeConfig } from './runtime-config.ts';

// ---------------------------------------------------------------------------------------
// Container settings: ports, volumes, labels, stop signal, healthcheck

export type PortProto = 'tcp' | 'udp' | 'sctp';
export interface ExposedPort {
  port: number;
  proto: PortProto;
}

export interface ContainerSettings {
  /** by port, then protocol */
  exposedPorts: ExposedPort[];
  /** absolute, normalized container paths */
  volumes: string[];
  labels: Record<string, string>;
  /** a canonical name: SIGTERM, SIGRTMIN+3 … */
  stopSignal: string;
  healthcheck?: ImageHealthcheck;
}

/** `80`, `80/tcp`, `53/UDP`, `8000-8002/tcp` (a range is every port in it), as go-connections/nat. */
export function parsePortSpec(spec: string): ExposedPort[] {
  const slash = spec.indexOf('/');
  const ports = slash < 0 ? spec : spec.slice(0, slash);
  const proto = (slash < 0 ? '' : spec.slice(slash + 1)).toLowerCase() || 'tcp';
  if (proto !== 'tcp' && proto !== 'udp' && proto !== 'sctp') throw new Error(`unknown protocol ${quote(proto)} (tcp, udp or sctp)`);
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(ports);
  if (m === null) throw new Error('a port is a number or a range like 8000-8010');
  const first = Number(m[1]);
  const last = m[2] === undefined ? first : Number(m[2]);
  if (first < 1 || last > 65535) throw new Error('ports are 1 to 65535');
  if (last < first) throw new Error('the range ends before it starts');
  const out: ExposedPort[] = [];
  for (let port = first; port <= last; port++) out.push({ port, proto });
  return out;
}

export function volumePath(v: string): string {
  if (!v.startsWith('/')) throw new Error('a volume is an absolute path in the container');
  const p = posix.normalize(v).replace(/(.)\/$/, '$1');
  if (p === '/') throw new Error('a volume cannot be the root directory');
  return p;
}

const SIGNAL_NAMES = new Map<number, string>();
for (const [name, n] of Object.entries(constants.signals)) if (!SIGNAL_NAMES.has(n)) SIGNAL_NAMES.set(n, name);
const SIGRTMIN = 34; // glibc's; 32 and 33 are taken by the C library's threads
const SIGRTMAX = 64;

function signalName(n: number): string | undefined {
  if (n >= SIGRTMIN && n <= SIGRTMAX) {
    if (n === SIGRTMIN) return 'SIGRTMIN';
    if (n === SIGRTMAX) return 'SIGRTMAX';
    return n - SIGRTMIN <= 15 ? `SIGRTMIN+${n - SIGRTMIN}` : `SIGRTMAX-${SIGRTMAX - n}`;
  }
  return n >= 1 && n < 32 ? SIGNAL_NAMES.get(n) : undefined;
}

/** Docker's signal.ParseSignal: `SIGTERM`, `term`, `15`, `RTMIN+3` → number and canonical name. */
export function parseStopSignal(text: string): { name: string; number: number } {
  let n: number | undefined;
  const upper = text.toUpperCase().replace(/^SIG/, '');
  const rt = /^RT(MIN|MAX)(?:([+-])(\d{1,2}))?$/.exec(upper);
  if (/^\d+$/.test(text)) n = Number(text);
  else if (rt !== null) {
    const offset = rt[2] === undefined ? 0 : Number(rt[3]) * (rt[2] === '+' ? 1 : -1);
    n = (rt[1] === 'MIN' ? SIGRTMIN : SIGRTMAX) + offset;
  } else n = (constants.signals as Record<string, number>)[`SIG${upper}`];
  const name = n === undefined ? undefined : signalName(n);
  if (n === undefined || name === undefined) throw new Error(`invalid signal ${quote(text)}`);
  return { name, number: n };
}

function mapKeys(v: unknown, field: string): string[] {
  if (v === undefined || v === null) return [];
  if (typeof v !== 'object' || Array.isArray(v)) throw imageError(`${field} must be an object`);
  return Object.keys(v);
}

/** The container settings an image brings, validated (the image is untrusted input). */
export function containerConfigFor(image: ImageRuntimeConfig): ContainerSettings {
  const seen = new Set<string>();
  const exposedPorts: ExposedPort[] = [];
  for (const key of mapKeys(image.ExposedPorts, 'ExposedPorts')) {
    let ports: ExposedPort[];
    try {
      ports = parsePortSpec(key);
    } catch (err) {
      throw imageError(`ExposedPorts ${quote(key)}: ${(err as Error).message}`);
    }
    for (const p of ports) {
      if (!seen.has(`${p.port}/${p.proto}`)) exposedPorts.push(p);
      seen.add(`${p.port}/${p.proto}`);
    }
  }

  const volumes = new Set<string>();
  for (const key of mapKeys(image.Volumes, 'Volumes')) {
    try {
      volumes.add(volumePath(key));
    } catch (err) {
      throw imageError(`Volumes ${quote(key)}: ${(err as Error).message}`);
    }
  }

  const labels: Record<string, string> = {};
  for (const key of mapKeys(image.Labels, 'Labels')) {
    const value = (image.Labels as Record<string, unknown>)[key];
    if (typeof value !== 'string') throw imageError(`Labels ${quote(key)} must be a string`);
    labels[key] = value;
  }

  let stopSignal = 'SIGTERM';
  const sig = optionalString(image.StopSignal, 'StopSignal');
  if (sig !== '') {
    try {
      stopSignal = parseStopSignal(sig).name;
    } catch (err) {
      throw imageError(`StopSignal: ${(err as Error).message}`);
    }
  }

  // sorted: key order in the JSON is no order (integer-like keys even come first in JS)
  exposedPorts.sort((a, b) => a.port - b.port || a.proto.localeCompare(b.proto));
  const out: ContainerSettings = { exposedPorts, volumes: [...volumes], labels, stopSignal };
  const hc = image.Healthcheck;
  if (hc !== undefined && hc !== null) {
    if (typeof hc !== 'object' || Array.isArray(hc)) throw imageError('Healthcheck must be an object');
    const test: unknown = hc.Test;
    if (test !== undefined && test !== null && !(Array.isArray(test) && test.every((s) => typeof s === 'string'))) {
      throw imageError('Healthcheck.Test must be a list of strings');
    }
    out.healthcheck = hc;
  }
  return out;
}
