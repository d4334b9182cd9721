/**
 * Docker's output conventions shared by the image commands: human sizes and durations
 * (go-units), tabwriter tables, and --format templates (Go's text/template, go-template.ts).
 */
import { goStringer, parseGoTemplate, type GoFunc, type Stringer } from './go-template.ts';

/** go-units HumanSizeWithPrecision(size, 3): decimal units, "4.86MB". */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
  let size = bytes;
  let i = 0;
  while (size >= 1000 && i < units.length - 1) {
    size /= 1000;
    i++;
  }
  return `${formatG(size, 3)}${units[i]}`;
}

/** Go's %.Ng: N significant digits, no trailing zeros. */
function formatG(n: number, digits: number): string {
  if (n === 0) return '0';
  return String(Number(n.toPrecision(digits)));
}

/** go-units HumanDuration. */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.trunc(ms / 3600_000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(ms / 3600_000 / 24 / 365)} years`;
}

/** "2 hours ago", or "N/A" when the time is unknown. */
export function createdSince(created: string | null | undefined, now = Date.now()): string {
  const t = created ? Date.parse(created) : NaN;
  if (!Number.isFinite(t) || t <= 0) return 'N/A';
  return `${humanDuration(Math.max(0, now - t))} ago`;
}

/** Go's time.Time.String() in UTC: "2024-01-02 03:04:05 +0000 UTC". */
export function goTime(created: string | null | undefined): string {
  const t = created ? new Date(created) : undefined;
  if (!t || Number.isNaN(t.getTime())) return '';
  return `${t.toISOString().slice(0, 19).replace('T', ' ')} +0000 UTC`;
}

/** Docker's tabwriter: minwidth 10, padding 3. */
export function dockerTable(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length + 3, 10)));
  return rows.map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('') + '\n').join('');
}

/** Docker's Ellipsis: at most N characters, the last one "…" when cut. */
export function ellipsis(s: string, n: number): string {
  const chars = [...s];
  return chars.length <= n ? s : `${chars.slice(0, n - 1).join('')}…`;
}

/**
 * A --format string: Go's text/template (go-template.ts) with Docker's conventions: "json"
 * alone means {{json .}}, \t and \n are escapes, and a `table` prefix asks for a header
 * row. Returns the header (table form) and a renderer for one object.
 */
export function compileFormat(format: string): { header?: string; render: (obj: unknown) => string } {
  let f = format === 'json' ? '{{json .}}' : format;
  let table = false;
  if (f.startsWith('table')) {
    table = true;
    f = f.slice(5).trimStart();
  }
  f = f.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  const tpl = parseGoTemplate(f);
  const render = (obj: unknown) => tpl.execute(obj);
  if (!table) return { render };
  // As Docker: the template runs on a header object (each field is its column name), with
  // the string functions made no-ops so the names stay intact, and errors are not fatal.
  return { header: tpl.execute(headerObject([]), { funcs: HEADER_FUNCS, partial: true }), render };
}

const same: GoFunc = { params: ['string'], fn: ((v: string) => v) as GoFunc['fn'] };
const sameOf2: GoFunc = { params: ['string', 'any'], fn: same.fn };
const HEADER_FUNCS: Record<string, GoFunc> = { json: same, title: same, lower: same, upper: same, split: sameOf2, join: sameOf2, truncate: sameOf2 };

/** A map whose every field, however deep (.A.B), prints as the header name of its path. */
function headerObject(path: string[]): Stringer {
  const target: Stringer = { [goStringer]: () => headerName(path.join('.')) };
  return new Proxy(target, {
    get: (t, k) => (typeof k === 'symbol' ? t[k as typeof goStringer] : headerObject([...path, k])),
    getOwnPropertyDescriptor: (t, k) =>
      typeof k === 'symbol' ? Reflect.getOwnPropertyDescriptor(t, k) : { value: headerObject([...path, k]), enumerable: true, configurable: true, writable: false },
  });
}

function headerName(path: string): string {
  const known: Record<string, string> = { ID: 'IMAGE ID', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY' };
  return known[path] ?? path.replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase();
}

/** A table or template output: rows through --format, else the default table. */
export function formatRows(format: string | undefined, rows: Record<string, unknown>[], table: () => string): string {
  if (!format || format === 'table') return table();
  const { header, render } = compileFormat(format);
  if (header !== undefined) return dockerTable([header, ...rows.map(render)].map((l) => l.split('\t')));
  return rows.map((r) => `${render(r)}\n`).join('');
}
