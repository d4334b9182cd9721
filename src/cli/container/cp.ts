import { parseVerb } from '../args.ts';
import { HakoError } from '../../common/errors.ts';
import { copyFromContainer, copyToContainer } from '../../engine/container-cp.ts';
import type { ContainerGlobals } from './index.ts';

/** `cp [-a] [-L] CONTAINER:SRC DEST|-` and `cp [-a] [-L] SRC|- CONTAINER:DEST`. */
export default async function cp(args: string[], g: ContainerGlobals): Promise<number> {
  const { values: o, positionals } = parseVerb(
    'cp',
    args,
    { archive: { type: 'boolean', short: 'a' }, 'follow-link': { type: 'boolean', short: 'L' }, quiet: { type: 'boolean', short: 'q' } },
    { min: 2, max: 2, usage: 'hako cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n       hako cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH' },
  );
  const [src, dst] = positionals as [string, string];
  const split = (p: string) => {
    // Docker: a colon before any slash names a container (./a:b is a local path)
    const colon = p.indexOf(':');
    if (colon <= 0 || p.startsWith('/') || p.startsWith('.') || p.slice(0, colon).includes('/')) return undefined;
    return { ref: p.slice(0, colon), path: p.slice(colon + 1) || '/' };
  };
  const from = split(src);
  const to = split(dst);
  if (from && to) throw new HakoError('invalid-argument', 'copying between containers is not supported');
  if (!from && !to) throw new HakoError('invalid-argument', 'must specify at least one container source');
  const opts = { archive: !!o.archive, followLink: !!o['follow-link'] };
  const c = g.eng.resolve((from ?? to)!.ref);
  const root = await g.eng.images.snapshots.mount(c.id);
  if (from) await copyFromContainer(root, from.path, dst === '-' ? '-' : dst, dst === '-' ? process.stdout : undefined, opts);
  else await copyToContainer(root, src === '-' ? '-' : src, to!.path, src === '-' ? process.stdin : undefined, opts);
  return 0;
}
