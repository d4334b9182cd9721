import { constants } from 'node:os';
import { HakoError } from '../common/errors.ts';

const byNumber = new Map<number, string>(Object.entries(constants.signals).map(([name, n]) => [n, name]));

/** Accepts "KILL", "SIGKILL", "kill" and "9", as runc does. */
export function parseSignal(text: string): number {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n >= 1 && n <= 64) return n;
  } else {
    const name = text.toUpperCase().startsWith('SIG') ? text.toUpperCase() : `SIG${text.toUpperCase()}`;
    const n = (constants.signals as Record<string, number>)[name];
    if (n !== undefined) return n;
  }
  throw new HakoError('invalid-argument', `unknown signal "${text}"`);
}

export function signalName(n: number): string {
  return byNumber.get(n) ?? `SIG${n}`;
}
