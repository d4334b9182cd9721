import { writeSync } from 'node:fs';

/**
 * Output through writeSync on fds 1 and 2: the container may share these descriptors,
 * and Node's stream wrappers would switch them to non-blocking under its feet.
 */
export function out(text: string): void {
  writeSync(1, text);
}

export function err(text: string): void {
  writeSync(2, text);
}

/** Go's text/tabwriter with padding 3, as runc's `list` uses. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('') + '\n').join('');
}
