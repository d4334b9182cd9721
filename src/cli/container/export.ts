import { createWriteStream, renameSync, rmSync } from 'node:fs';
import { parseVerb } from '../args.ts';
import { HakoError } from '../../common/errors.ts';
import { exportTree } from '../../image/layer-diff.ts';
import type { ContainerGlobals } from './index.ts';

/** `export [-o FILE] CONTAINER`: the container's file system as a tar (to stdout unless -o). */
export default async function exportCmd(args: string[], g: ContainerGlobals): Promise<number> {
  const { values: o, positionals } = parseVerb('export', args, { output: { type: 'string', short: 'o' } }, { min: 1, max: 1, usage: 'hako export [OPTIONS] CONTAINER' });
  if (!o.output && process.stdout.isTTY) throw new HakoError('invalid-argument', 'cowardly refusing to save to a terminal. Use the -o flag or redirect');
  const c = g.eng.resolve(positionals[0]!);
  const root = await g.eng.images.snapshots.mount(c.id);
  const tmp = o.output ? `${o.output}.tmp-${process.pid}` : undefined;
  const dest = tmp ? createWriteStream(tmp, { mode: 0o644 }) : process.stdout;
  try {
    await exportTree(root, dest);
    if (tmp) renameSync(tmp, o.output!);
  } catch (err) {
    if (tmp) rmSync(tmp, { force: true });
    throw err;
  }
  return 0;
}
