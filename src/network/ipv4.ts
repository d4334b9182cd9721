import { HakoError } from '../common/errors.ts';

/** IPv4 subnets as integers: enough arithmetic for pools, gateways and overlap checks. */
export interface Subnet {
  base: number;
  bits: number;
}

export function parseIPv4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

const mask = (bits: number) => (bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0);

export function parseSubnet(s: string, what = 'subnet'): Subnet {
  const [ip, len] = s.split('/');
  const base = parseIPv4(ip ?? '');
  const bits = Number(len);
  if (base === undefined || len === undefined || !/^\d+$/.test(len) || bits > 32) throw new HakoError('invalid-argument', `invalid ${what} ${JSON.stringify(s)}: an IPv4 CIDR such as 10.1.0.0/24`);
  if (bits > 30) throw new HakoError('invalid-argument', `${what} ${s}: too small for a network (at most /30)`);
  if ((base & mask(bits)) >>> 0 !== base) throw new HakoError('invalid-argument', `${what} ${s}: the address has host bits set (did you mean ${formatIPv4((base & mask(bits)) >>> 0)}/${bits}?)`);
  return { base, bits };
}

export const formatSubnet = (s: Subnet) => `${formatIPv4(s.base)}/${s.bits}`;

export function contains(s: Subnet, ip: number): boolean {
  return (ip & mask(s.bits)) >>> 0 === s.base;
}

export function overlaps(a: Subnet, b: Subnet): boolean {
  const bits = Math.min(a.bits, b.bits);
  return (a.base & mask(bits)) >>> 0 === (b.base & mask(bits)) >>> 0;
}

/** The first host address: the gateway Docker gives a network by default. */
export const firstHost = (s: Subnet) => formatIPv4(s.base + 1);
