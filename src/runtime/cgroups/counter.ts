/**
 * A kernel counter for JSON output. Limits such as v1's "unlimited"
 * (9223372036854771712) do not fit a double; JSON.rawJSON prints their digits exactly.
 */
export type Counter = number | object;

const rawJSON = (JSON as unknown as { rawJSON(text: string): object }).rawJSON;

/** 2^64-1, what runc reports for a v2 "max" */
export const MAX_U64: Counter = rawJSON('18446744073709551615');

export function counter(text: string | undefined): Counter {
  const t = text?.trim() ?? '';
  if (t === 'max') return MAX_U64;
  if (!/^\d+$/.test(t)) return 0;
  const n = Number(t);
  return Number.isSafeInteger(n) ? n : rawJSON(t);
}

/** The "key value" lines of a stat file, every value a counter. */
export function counters(kv: Map<string, string>): Record<string, Counter> {
  const out: Record<string, Counter> = {};
  for (const [k, v] of kv) out[k] = counter(v);
  return out;
}
