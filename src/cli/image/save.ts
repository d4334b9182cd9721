import { createWriteStream, existsSync, renameSync, rmSync } from 'node:fs';
import { isatty } from 'node:tty';
import { parseVerb } from '../args.ts';
import { HakoError } from '../../common/errors.ts';
import { saveImages, saveImagesToDir, type SaveFormat } from '../../engine/image-save.ts';
import type { ImageGlobals } from './index.ts';

/**
 * `hako save [-o FILE] [--format docker|oci|oci-dir] IMAGE...`: a tar to FILE or to stdout
 * (never to a terminal), or with oci-dir an OCI layout directory at -o.
 */
export default async function save(args: string[], g: ImageGlobals): Promise<number> {
  const { values: o, positionals } = parseVerb(
    'save',
    args,
    { output: { type: 'string', short: 'o' }, format: { type: 'string' }, platform: { type: 'string', multiple: true } },
    { min: 1, max: Infinity, usage: 'hako save [OPTIONS] IMAGE [IMAGE...]' },
  );
  const format = (o.format ?? 'docker') as SaveFormat;
  if (!['docker', 'oci', 'oci-dir'].includes(format)) throw new HakoError('invalid-argument', `save: unknown format "${format}" (docker, oci or oci-dir)`);
  for (const ref of positionals) g.svc.resolve(ref); // Docker checks every name before writing anything
  if (format === 'oci-dir') {
    if (!o.output || o.output === '-') throw new HakoError('invalid-argument', 'save --format oci-dir needs -o DIRECTORY');
    if (existsSync(o.output)) throw new HakoError('already-exists', `save: ${o.output} exists; an OCI layout directory is written new`);
    const tmpDir = `${o.output}.hako-${process.pid}.tmp`;
    try {
      await saveImagesToDir(g.svc, positionals, tmpDir);
      renameSync(tmpDir, o.output);
    } catch (e) {
      rmSync(tmpDir, { recursive: true, force: true });
      throw e;
    }
    return 0;
  }
  if (o.output === undefined || o.output === '-') {
    if (isatty(1)) throw new HakoError('invalid-argument', 'cowardly refusing to save to a terminal. Use the -o flag or redirect');
    await saveImages(g.svc, positionals, format as 'docker' | 'oci', process.stdout);
    return 0;
  }
  // written beside the target and renamed: a failed save leaves no half archive behind
  const tmp = `${o.output}.hako-${process.pid}.tmp`;
  try {
    await saveImages(g.svc, positionals, format as 'docker' | 'oci', createWriteStream(tmp));
    renameSync(tmp, o.output);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  return 0;
}
