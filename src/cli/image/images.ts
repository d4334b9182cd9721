import { parseVerb } from '../args.ts';
import { createdSince, dockerTable, formatRows, goTime, humanSize } from '../docker-args.ts';
import { listImages, parseListFilters } from '../../engine/image-list.ts';
import { shortId } from '../../image/digest.ts';
import { out } from '../output.ts';
import type { ImageGlobals } from './index.ts';

const USAGE = 'hako images [OPTIONS] [REPOSITORY[:TAG]]';

/** `hako images` / `hako image ls`: Docker's columns, flags and JSON rows. */
export default async function images(args: string[], g: ImageGlobals): Promise<number> {
  const { values: o, positionals } = parseVerb(
    'images',
    args,
    {
      quiet: { type: 'boolean', short: 'q' },
      all: { type: 'boolean', short: 'a' },
      digests: { type: 'boolean' },
      'no-trunc': { type: 'boolean' },
      format: { type: 'string' },
      filter: { type: 'string', short: 'f', multiple: true },
      tree: { type: 'boolean' },
    },
    { min: 0, max: 1, usage: USAGE },
  );
  const filters = parseListFilters([...(o.filter ?? []), ...(positionals[0] ? [`reference=${positionals[0]}`] : [])]);
  const rows = listImages(g.svc, filters);
  const id = (d: string) => (o['no-trunc'] ? d : shortId(d));
  if (o.quiet) {
    out(rows.map((r) => `${id(r.ID)}\n`).join(''));
    return 0;
  }
  const now = Date.now();
  const view = rows.map((r) => ({
    Containers: 'N/A',
    CreatedAt: goTime(r.Created),
    CreatedSince: createdSince(r.Created, now),
    Digest: r.Digest,
    ID: id(r.ID),
    Repository: r.Repository,
    SharedSize: 'N/A',
    Size: humanSize(r.Size),
    Tag: r.Tag,
    UniqueSize: 'N/A',
    VirtualSize: humanSize(r.Size),
  }));
  out(
    formatRows(o.format, view, () =>
      dockerTable([
        ['REPOSITORY', 'TAG', ...(o.digests ? ['DIGEST'] : []), 'IMAGE ID', 'CREATED', 'SIZE'],
        ...view.map((v) => [v.Repository, v.Tag, ...(o.digests ? [v.Digest] : []), v.ID, v.CreatedSince, v.Size]),
      ]),
    ),
  );
  return 0;
}
