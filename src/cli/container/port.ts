import { parseVerb } from '../args.ts';
import { HakoError } from '../../common/errors.ts';
import { portsOf } from '../../engine/containers/network.ts';
import { out } from '../output.ts';
import type { ContainerGlobals } from './index.ts';

/** `port CONTAINER [PRIVATE_PORT[/PROTO]]`: Docker's `80/tcp -> 0.0.0.0:8080` lines. */
export default async function port(args: string[], g: ContainerGlobals): Promise<number> {
  const { positionals } = parseVerb('port', args, {}, { min: 1, max: 2, usage: 'hako port CONTAINER [PRIVATE_PORT[/PROTO]]' });
  const c = g.eng.resolve(positionals[0]!);
  let ports = portsOf(g.eng, c);
  const want = positionals[1];
  if (want) {
    const [p, proto = 'tcp'] = want.split('/');
    ports = ports.filter((m) => String(m.containerPort) === p && m.protocol === proto);
    if (!ports.length) throw new HakoError('not-found', `No public port '${p}/${proto}' published for ${c.name}`);
    out(ports.map((m) => `${m.hostIP || '0.0.0.0'}:${m.hostPort}\n`).join(''));
    return 0;
  }
  out(ports.map((m) => `${m.containerPort}/${m.protocol} -> ${m.hostIP || '0.0.0.0'}:${m.hostPort}\n`).join(''));
  return 0;
}
