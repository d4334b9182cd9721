import { parseVerb } from '../args.ts';
import { createdSince, dockerTable, ellipsis, formatRows, goTime, humanSize } from '../docker-args.ts';
import { imageHistory } from '../../engine/image-list.ts';
import { shortId } from '../../image/digest.ts';
import { out } from '../output.ts';
import type { ImageGlobals } from './index.ts';

/** `hako history [--no-trunc] [-q] [--format F] IMAGE`. */
export default async function history(args: string[], g: ImageGlobals): Promise<number> {
  const { values: o, positionals } = parseVerb(
    'history',
    args,
    { 'no-trunc': { type: 'boolean' }, quiet: { type: 'boolean', short: 'q' }, human: { type: 'boolean', short: 'H' }, format: { type: 'string' } },
    { min: 1, max: 1, usage: 'hako history [OPTIONS] IMAGE' },
  );
  const noTrunc = o['no-trunc'] === true;
  const rows = imageHistory(g.svc, positionals[0]!).map((r) => ({
    ID: r.ID === '<missing>' || noTrunc ? r.ID : shortId(r.ID),
    CreatedAt: goTime(r.CreatedAt),
    CreatedSince: createdSince(r.CreatedAt),
    CreatedBy: noTrunc ? r.CreatedBy : ellipsis(r.CreatedBy.replace(/\t/g, ' '), 45),
    Size: humanSize(r.Size),
    Comment: r.Comment,
  }));
  if (o.quiet) {
    out(rows.map((r) => `${r.ID}\n`).join(''));
    return 0;
  }
  out(formatRows(o.format, rows, () => dockerTable([['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT'], ...rows.map((r) => [r.ID, r.CreatedSince, r.CreatedBy, r.Size, r.Comment])])));
  return 0;
}
