import { writeCg } from '../files.ts';

/** linux.resources.unified: written as given, after the typed fields (so it can refine them). */
export function applyUnified(dir: string, unified: Record<string, string>): void {
  for (const [k, v] of Object.entries(unified)) writeCg(dir, k, v, `linux.resources.unified.${k}`);
}
