import { parseVerb } from '../args.ts';
import { removeImage } from '../../engine/image-remove.ts';
import { err, out } from '../output.ts';
import { errorText, type ImageGlobals } from './index.ts';

/** `hako rmi [-f] IMAGE...`: every image is tried; exit 1 if any failed. */
export default async function rmi(args: string[], g: ImageGlobals): Promise<number> {
  const { values: o, positionals } = parseVerb(
    'rmi',
    args,
    { force: { type: 'boolean', short: 'f' }, 'no-prune': { type: 'boolean' } },
    { min: 1, max: Infinity, usage: 'hako rmi [OPTIONS] IMAGE [IMAGE...]' },
  );
  let failed = false;
  for (const ref of positionals) {
    try {
      for (const e of await removeImage(g.svc, ref, o.force === true)) out(e.untagged ? `Untagged: ${e.untagged}\n` : `Deleted: ${e.deleted}\n`);
    } catch (e) {
      err(`hako: ${errorText(e)}\n`);
      failed = true;
    }
  }
  return failed ? 1 : 0;
}
