import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HakoError, isErrno } from '../common/errors.ts';
import { deleteBridge } from './bridge.ts';
import { formatSubnet, overlaps, parseSubnet, type Subnet } from './ipv4.ts';
import { formatSubnet6, overlaps6, parseSubnet6, pool6, type Subnet6 } from './ipv6.ts';

/**
 * Subnets are host-wide: two data roots (or a data root and the host's own routes) must
 * never hand out the same one. A claim is a file named for the subnet in CLAIMS_DIR,
 * made with O_EXCL; the host's routes (/proc/net/route) are avoided too.
 */
export const CLAIMS_DIR = process.env['HAKO_SUBNET_CLAIMS'] || '/run/hako/subnets';

const fileOf = (s: Subnet) => join(CLAIMS_DIR, formatSubnet(s).replace('/', '_'));

/** Subnets the host routes already (its own networks, other engines' bridges). */
export function hostRoutes(): Subnet[] {
  let text = '';
  try {
    text = readFileSync('/proc/net/route', 'utf8');
  } catch {
    return [];
  }
  const out: Subnet[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8 || f[1] === '00000000') continue; // the default route overlaps everything
    const le = (hex: string) => Buffer.from(hex, 'hex').readUInt32LE(0);
    const dest = le(f[1]!);
    const m = le(f[7]!);
    const bits = m.toString(2).replace(/0/g, '').length;
    out.push({ base: dest >>> 0, bits });
  }
  return out;
}

function claims(): { subnet: Subnet; owner: string }[] {
  let names: string[] = [];
  try {
    names = readdirSync(CLAIMS_DIR);
  } catch {
    return [];
  }
  return names.flatMap((n) => {
    try {
      return [{ subnet: parseSubnet(n.replace('_', '/')), owner: readFileSync(join(CLAIMS_DIR, n), 'utf8') }];
    } catch {
      return [];
    }
  });
}

/** Claims SUBNET for OWNER (e.g. "ROOT network-id"); an owner claiming again is fine. */
export async function claimSubnet(subnet: Subnet, owner: string, ownRoutes: Subnet[] = []): Promise<void> {
  mkdirSync(CLAIMS_DIR, { recursive: true, mode: 0o755 });
  for (const c of claims()) {
    if (c.owner === owner && formatSubnet(c.subnet) === formatSubnet(subnet)) return;
    if (overlaps(c.subnet, subnet) && staleClaim(c.owner)) {
      // Its data root is gone: so is every use of its bridge, which would still route the subnet.
      const netId = c.owner.split(' ')[1] ?? '';
      if (/^[0-9a-f]{12,}$/.test(netId)) await deleteBridge(`hk-${netId.slice(0, 12)}`).catch(() => {});
      rmSync(fileOf(c.subnet), { force: true });
      continue;
    }
    if (overlaps(c.subnet, subnet)) throw new HakoError('in-use', `subnet ${formatSubnet(subnet)} overlaps ${formatSubnet(c.subnet)}, already used by another network`);
  }
  const routed = hostRoutes().find((r) => overlaps(r, subnet) && !ownRoutes.some((o) => formatSubnet(o) === formatSubnet(r)));
  if (routed) throw new HakoError('in-use', `subnet ${formatSubnet(subnet)} overlaps ${formatSubnet(routed)}, a network the host already routes`);
  try {
    writeFileSync(fileOf(subnet), owner, { flag: 'wx' });
  } catch (err) {
    if (isErrno(err, 'EEXIST') && readFileSync(fileOf(subnet), 'utf8') === owner) return;
    if (isErrno(err, 'EEXIST')) throw new HakoError('in-use', `subnet ${formatSubnet(subnet)} is already used by another network`);
    throw err;
  }
}

/** A claim whose data root is gone (a test's temp store, deleted): nothing can use it. */
function staleClaim(owner: string): boolean {
  const root = owner.split(' ')[0] ?? '';
  return root.startsWith('/') && !existsSync(join(root, 'metadata.db'));
}

export function releaseSubnet(subnet: Subnet, owner: string): void {
  try {
    if (readFileSync(fileOf(subnet), 'utf8') === owner) rmSync(fileOf(subnet), { force: true });
  } catch {
    // not claimed
  }
}

/** The first free subnet of the pools (default network: 10.88.0.0/16; others 10.89.N.0/24 …). */
export async function allocateSubnet(owner: string, preferDefault: boolean): Promise<Subnet> {
  const candidates: Subnet[] = [];
  if (preferDefault) candidates.push({ base: ((10 << 24) | (88 << 16)) >>> 0, bits: 16 });
  for (let second = 89; second <= 95; second++) for (let third = 0; third < 256; third++) candidates.push({ base: ((10 << 24) | (second << 16) | (third << 8)) >>> 0, bits: 24 });
  for (const c of candidates) {
    try {
      await claimSubnet(c, owner);
      return c;
    } catch (err) {
      if (!(err instanceof HakoError && err.code === 'in-use')) throw err;
    }
  }
  throw new HakoError('in-use', 'could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network');
}

/** IPv6 claims: files named v6_<subnet>, the same O_EXCL rule; the host's own v6 routes are not consulted. */
const file6 = (s: Subnet6) => join(CLAIMS_DIR, `v6_${formatSubnet6(s).replace(/[:/]/g, '_')}`);

export async function claimSubnet6(subnet: Subnet6, owner: string): Promise<void> {
  mkdirSync(CLAIMS_DIR, { recursive: true, mode: 0o755 });
  for (const n of readdirSync(CLAIMS_DIR).filter((x) => x.startsWith('v6_'))) {
    let other: Subnet6;
    let who = '';
    try {
      who = readFileSync(join(CLAIMS_DIR, n), 'utf8');
      const text = n.slice(3);
      const cut = text.lastIndexOf('_');
      other = parseSubnet6(`${text.slice(0, cut).replace(/_/g, ':')}/${text.slice(cut + 1)}`);
    } catch {
      continue;
    }
    if (!overlaps6(other, subnet)) continue;
    if (who === owner && other.base === subnet.base && other.bits === subnet.bits) return;
    if (staleClaim(who)) {
      rmSync(join(CLAIMS_DIR, n), { force: true });
      continue;
    }
    throw new HakoError('in-use', `subnet ${formatSubnet6(subnet)} overlaps ${formatSubnet6(other)}, already used by another network`);
  }
  try {
    writeFileSync(file6(subnet), owner, { flag: 'wx' });
  } catch (err) {
    if (isErrno(err, 'EEXIST') && readFileSync(file6(subnet), 'utf8') === owner) return;
    if (isErrno(err, 'EEXIST')) throw new HakoError('in-use', `subnet ${formatSubnet6(subnet)} is already used by another network`);
    throw err;
  }
}

export function releaseSubnet6(subnet: Subnet6, owner: string): void {
  try {
    if (readFileSync(file6(subnet), 'utf8') === owner) rmSync(file6(subnet), { force: true });
  } catch {
    // not claimed
  }
}

export async function allocateSubnet6(owner: string): Promise<Subnet6> {
  for (let n = 0; n < 65536; n++) {
    try {
      await claimSubnet6(pool6(n), owner);
      return pool6(n);
    } catch (err) {
      if (!(err instanceof HakoError && err.code === 'in-use')) throw err;
    }
  }
  throw new HakoError('in-use', 'could not find an available IPv6 pool for the network');
}
