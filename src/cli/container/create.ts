import { writeFileSync } from 'node:fs';
import { HakoError } from '../../common/errors.ts';
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
  if (flags.pull === 'always') throw new HakoError('unsupported', '--pull always needs the registry client, which is not there yet');
  const req = flags.request;
  if (flags.command.length) req.config.Cmd = flags.command;
  const c = await createContainer(g.eng, req);
  if (flags.cidfile) writeFileSync(flags.cidfile, c.id, { flag: 'wx' });
  return c;
}
