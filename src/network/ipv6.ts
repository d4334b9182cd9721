import { isIPv6 } from 'node:net';
import { HakoError } from '../common/errors.ts';

/** IPv6 subnets as BigInts: parsing, the first host (the gateway), overlap. */
export interface Subnet6 {
  base: bigint;
  bits: number;
}

export function parseIPv6(s: string): bigint | undefined {
  if (!isIPv6(s) || s.includes('.')) return undefined; // no IPv4-mapped tails in a subnet
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g || '0', 16)), 0n);
}

export function formatIPv6(n: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(112 - 16 * i)) & 0xffffn).toString(16));
  // the longest run of zero groups becomes "::"
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

const mask6 = (bits: number) => (bits === 0 ? 0n : ((1n << BigInt(bits)) - 1n) << BigInt(128 - bits));

export function parseSubnet6(s: string, what = 'subnet'): Subnet6 {
  const [ip, len] = s.split('/');
  const base = parseIPv6(ip ?? '');
  const bits = Number(len);
  if (base === undefined || len === undefined || !/^\d+$/.test(len) || bits > 128) throw new HakoError('invalid-argument', `invalid ${what} ${JSON.stringify(s)}: an IPv6 CIDR such as fd00:1::/64`);
  if (bits > 126) throw new HakoError('invalid-argument', `${what} ${s}: too small for a network (at most /126)`);
  if ((base & mask6(bits)) !== base) throw new HakoError('invalid-argument', `${what} ${s}: the address has host bits set`);
  return { base, bits };
}

export const formatSubnet6 = (s: Subnet6) => `${formatIPv6(s.base)}/${s.bits}`;
export const firstHost6 = (s: Subnet6) => formatIPv6(s.base + 1n);
export const contains6 = (s: Subnet6, ip: bigint) => (ip & mask6(s.bits)) === s.base;

export function overlaps6(a: Subnet6, b: Subnet6): boolean {
  const m = mask6(Math.min(a.bits, b.bits));
  return (a.base & m) === (b.base & m);
}

/** hako's pool of unique local /64s: fd68:616b:6f00:N::/64 ("hako" in hex). */
export function pool6(n: number): Subnet6 {
  return { base: (0xfd68616b6f00n << 80n) | (BigInt(n) << 64n), bits: 64 };
}
