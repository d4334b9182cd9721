import type { DeviceRule } from './types.ts';

const rule = (type: 'c' | 'b', major: number, minor: number, access: string): DeviceRule => ({ allow: true, type, major, minor, access });

/**
 * runc's default allowlist, appended after the user's rules: the nodes the runtime's
 * default /dev creates must work, and mknod of any node is allowed (using it is not).
 * As with runc, a user rule cannot deny these: they come last and the last match wins.
 */
export const DEFAULT_DEVICE_RULES: readonly DeviceRule[] = [
  rule('c', -1, -1, 'm'),
  rule('b', -1, -1, 'm'),
  rule('c', 1, 3, 'rwm'), // null
  rule('c', 1, 8, 'rwm'), // random
  rule('c', 1, 7, 'rwm'), // full
  rule('c', 5, 0, 'rwm'), // tty
  rule('c', 5, 1, 'rwm'), // console
  rule('c', 1, 5, 'rwm'), // zero
  rule('c', 1, 9, 'rwm'), // urandom
  rule('c', 136, -1, 'rwm'), // pts
  rule('c', 5, 2, 'rwm'), // ptmx
  rule('c', 10, 200, 'rwm'), // net/tun
];

export function withDefaultDevices(rules: readonly DeviceRule[]): DeviceRule[] {
  return [...rules, ...DEFAULT_DEVICE_RULES];
}
