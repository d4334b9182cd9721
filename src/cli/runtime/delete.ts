import { parseVerb } from '../args.ts';
import { deleteContainer } from '../../runtime/container-delete.ts';
import type { RuntimeGlobals } from './index.ts';

export default async function del(args: string[], g: RuntimeGlobals): Promise<number> {
  const { values, positionals } = parseVerb('delete', args, { force: { type: 'boolean', short: 'f' } }, {
    min: 1,
    max: 1 << 16,
    usage: 'delete [--force] CONTAINER_ID...',
  });
  for (const id of positionals) await deleteContainer(g.store, id, !!values.force, g.log);
  return 0;
}
