import { HakoError } from '../../common/errors.ts';

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** Docker's RAMInBytes: 10m, 1.5g, 512k, 100 (bytes); binary units. */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtb]?)b?$/i.exec(text.trim());
  if (!m) throw new HakoError('invalid-argument', `invalid size: '${text}'`);
  return Math.floor(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!);
}

const DECIMAL: Record<string, number> = { '': 1, b: 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12 };

/** go-units FromHumanSize (decimal: 10m = 10,000,000), what the json-file driver reads max-size with. */
export function parseDecimalSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtb]?)b?$/i.exec(text.trim());
  if (!m) throw new HakoError('invalid-argument', `invalid size: '${text}'`);
  return Math.floor(Number(m[1]) * DECIMAL[m[2]!.toLowerCase()]!);
}
