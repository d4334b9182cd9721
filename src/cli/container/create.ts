import { writeFileSync } from 'node:fs';
import { HakoError } from '../../common/errors.ts';
import { err } from '../output.ts';
import { createContainer } from '../../engine/containers/create.ts';
import { out } from '../output.ts';
import type { ContainerGlobals } from './index.ts';
import { parseRunFlags, runHelp, type RunFlags } from './run-flags.ts';

/** `create [OPTIONS] IMAGE [COMMAND] [ARG...]`: prints the new container's id. */
export default async function create(args: string[], g: ContainerGlobals): Promise<number> {
  const flags = parseRunFlags(args, 'create');
  if (flags.help) {
    out(runHelp('create'));
    return 0;
  }
  const c = await createFromFlags(g, flags);
  out(`${c.id}\n`);
  return 0;
}

export async function createFromFlags(g: ContainerGlobals, flags: RunFlags) {
  const req = flags.request;
  await pullIfNeeded(g, flags);
  if (flags.command.length) req.config.Cmd = flags.command;
  const c = await createContainer(g.eng, req);
  if (flags.cidfile) writeFileSync(flags.cidfile, c.id, { flag: 'wx' });
  return c;
}

/** --pull: always, or when the image is missing (Docker says so on stderr first), or never. */
async function pullIfNeeded(g: ContainerGlobals, flags: RunFlags): Promise<void> {
  const image = flags.request.image;
  if (flags.pull === 'never') return;
  if (flags.pull === 'missing') {
    try {
      g.eng.images.resolve(image);
      return;
    } catch (e) {
      if (!(e instanceof HakoError && e.code === 'not-found')) throw e;
    }
    err(`Unable to find image '${image}' locally\n`);
  }
  // Loaded only for a pull: the registry client brings node:http(s), ~35 ms of start-up.
  const { pullImage } = await import('../../engine/image-pull.ts');
  const { ProgressPrinter, progressMode } = await import('../image/progress.ts');
  // Progress goes to stderr: stdout is the container's (or the id).
  const printer = new ProgressPrinter(2, progressMode(2, { quiet: flags.quiet ?? false }));
  await pullImage(g.eng.images, image, { ...(flags.platform ? { platform: flags.platform } : {}), onEvent: printer.event });
}
