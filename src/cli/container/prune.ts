import { parseVerb } from '../args.ts';
import { removeContainer } from '../../engine/containers/lifecycle.ts';
import { out } from '../output.ts';
import type { ContainerGlobals } from './index.ts';

/** `container prune [-f] [--filter until=…|label=…]`: every stopped container. */
export default async function prune(args: string[], g: ContainerGlobals): Promise<number> {
  const { values: o } = parseVerb('container prune', args, { force: { type: 'boolean', short: 'f' }, filter: { type: 'string', multiple: true } }, { min: 0, max: 0, usage: 'hako container prune [OPTIONS]' });
  const removed: string[] = [];
  for (const c of g.eng.list()) {
    const st = g.eng.state(c);
    if (st.Running || st.Restarting || st.Paused) continue;
    const labels = c.settings.Config.Labels ?? {};
    const ok = (o.filter ?? []).every((f) => {
      const [k, v = ''] = [f.slice(0, f.indexOf('=')), f.slice(f.indexOf('=') + 1)];
      if (k === 'label') {
        const i = v.indexOf('=');
        return i < 0 ? v in labels : labels[v.slice(0, i)] === v.slice(i + 1);
      }
      if (k === 'label!') {
        const i = v.indexOf('=');
        return !(i < 0 ? v in labels : labels[v.slice(0, i)] === v.slice(i + 1));
      }
      if (k === 'until') return Date.parse(c.created) < Date.parse(v);
      return true;
    });
    if (!ok) continue;
    await removeContainer(g.eng, c, {});
    removed.push(c.id);
  }
  out(removed.length ? `Deleted Containers:\n${removed.map((id) => `${id}\n`).join('')}\n` : '');
  out('Total reclaimed space: 0B\n');
  return 0;
}
