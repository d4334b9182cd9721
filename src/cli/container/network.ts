import { parseVerb } from '../args.ts';
import { HakoError } from '../../common/errors.ts';
import { dockerTable, formatRows } from '../docker-args.ts';
import { attachOne, detachOne, networks, ownsNetwork } from '../../engine/containers/network.ts';
import type { ContainerEngine } from '../../engine/containers/engine.ts';
import { BUILTIN, type Network } from '../../engine/networks.ts';
import { err, out } from '../output.ts';
import { errorText } from '../image/index.ts';
import { inspectEach, type ContainerGlobals } from './index.ts';

const USAGE = `Usage: hako network COMMAND

Manage networks

Commands:
  connect     Connect a container to a network
  create      Create a network
  disconnect  Disconnect a container from a network
  inspect     Display detailed information on one or more networks
  ls          List networks
  prune       Remove all unused networks
  rm          Remove one or more networks
`;

/** Docker's network inspect object. */
function networkView(eng: ContainerEngine, net: Network): Record<string, unknown> {
  const n = networks(eng);
  const containers: Record<string, unknown> = {};
  for (const m of n.members(net)) {
    const c = eng.get(m.containerId);
    containers[m.containerId] = {
      Name: c?.name ?? '',
      EndpointID: '',
      MacAddress: m.endpoint.MacAddress,
      IPv4Address: m.endpoint.IPAddress ? `${m.endpoint.IPAddress}/${m.endpoint.IPPrefixLen}` : '',
      IPv6Address: m.endpoint.GlobalIPv6Address ? `${m.endpoint.GlobalIPv6Address}/${m.endpoint.GlobalIPv6PrefixLen}` : '',
    };
  }
  const c = net.config;
  return {
    Name: net.name,
    Id: net.id,
    Created: net.created,
    Scope: 'local',
    Driver: c.Driver,
    EnableIPv6: c.EnableIPv6,
    IPAM: { Driver: 'default', Options: {}, Config: [...(c.Subnet ? [{ Subnet: c.Subnet, Gateway: c.Gateway }] : []), ...(c.Subnet6 ? [{ Subnet: c.Subnet6, Gateway: c.Gateway6 }] : [])] },
    Internal: c.Internal,
    Attachable: false,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: containers,
    Options: { ...c.Options, ...(c.Bridge ? { 'com.docker.network.bridge.name': c.Bridge } : {}) },
    Labels: c.Labels,
  };
}

function keyValues(list: string[] | undefined): Record<string, string> {
  const o: Record<string, string> = {};
  for (const kv of list ?? []) {
    const eq = kv.indexOf('=');
    if (eq < 0) o[kv] = '';
    else o[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return o;
}

const isUnused = (eng: ContainerEngine, net: Network) => !BUILTIN.includes(net.name) && networks(eng).members(net).length === 0 && !eng.list().some((c) => c.settings.Networks?.[net.name] || c.settings.HostConfig.NetworkMode === net.name);

/** `network create|ls|inspect|rm|connect|disconnect|prune` */
export default async function network(args: string[], g: ContainerGlobals): Promise<number> {
  const [sub, ...rest] = args;
  const n = networks(g.eng);
  switch (sub) {
    case 'create': {
      const { values: o, positionals } = parseVerb(
        'network create',
        rest,
        {
          driver: { type: 'string', short: 'd' },
          subnet: { type: 'string', multiple: true },
          gateway: { type: 'string', multiple: true },
          internal: { type: 'boolean' },
          ipv6: { type: 'boolean' },
          label: { type: 'string', multiple: true },
          attachable: { type: 'boolean' },
        },
        { min: 1, max: 1, usage: 'hako network create [OPTIONS] NETWORK' },
      );
      // One IPv4 and (with --ipv6) one IPv6 subnet; each gateway goes with the subnet of its family.
      const v6 = (x: string) => x.includes(':');
      const subnets = o.subnet ?? [];
      const gateways = o.gateway ?? [];
      if (subnets.filter((x) => !v6(x)).length > 1 || subnets.filter(v6).length > 1 || gateways.filter((x) => !v6(x)).length > 1 || gateways.filter(v6).length > 1) {
        throw new HakoError('unsupported', 'one IPv4 and one IPv6 --subnet (and --gateway) per network');
      }
      const subnet = subnets.find((x) => !v6(x));
      const subnet6 = subnets.find(v6);
      const gateway = gateways.find((x) => !v6(x));
      const gateway6 = gateways.find(v6);
      if (subnet6 && !o.ipv6) throw new HakoError('invalid-argument', `subnet ${subnet6} is IPv6: add --ipv6`);
      const net = await n.create(positionals[0]!, {
        ...(subnet ? { subnet } : {}),
        ...(gateway ? { gateway } : {}),
        ...(subnet6 ? { subnet6 } : {}),
        ...(gateway6 ? { gateway6 } : {}),
        internal: !!o.internal,
        ipv6: !!o.ipv6,
        labels: keyValues(o.label),
        ...(o.driver ? { driver: o.driver } : {}),
      });
      out(`${net.id}\n`);
      return 0;
    }
    case 'ls':
    case 'list': {
      const { values: o } = parseVerb(
        'network ls',
        rest,
        { quiet: { type: 'boolean', short: 'q' }, format: { type: 'string' }, filter: { type: 'string', short: 'f', multiple: true }, 'no-trunc': { type: 'boolean' } },
        { min: 0, max: 0, usage: 'hako network ls [OPTIONS]' },
      );
      let list = n.list();
      for (const f of o.filter ?? []) {
        const eq = f.indexOf('=');
        const [k, v] = [f.slice(0, eq), f.slice(eq + 1)];
        if (k === 'name') list = list.filter((x) => x.name.includes(v));
        else if (k === 'id') list = list.filter((x) => x.id.startsWith(v));
        else if (k === 'driver') list = list.filter((x) => x.config.Driver === v);
        else if (k === 'type') list = list.filter((x) => (v === 'builtin') === BUILTIN.includes(x.name));
        else if (k === 'label') {
          const i = v.indexOf('=');
          list = list.filter((x) => (i < 0 ? v in x.config.Labels : x.config.Labels[v.slice(0, i)] === v.slice(i + 1)));
        } else throw new HakoError('invalid-argument', `invalid filter '${k}'`);
      }
      const id = (x: Network) => (o['no-trunc'] ? x.id : x.id.slice(0, 12));
      if (o.quiet) {
        out(list.map((x) => `${id(x)}\n`).join(''));
        return 0;
      }
      const rows = list.map((x) => ({ ID: id(x), Name: x.name, Driver: x.config.Driver, Scope: 'local', IPv6: String(x.config.EnableIPv6), Internal: String(x.config.Internal), CreatedAt: x.created, Labels: Object.entries(x.config.Labels).map(([k, v]) => `${k}=${v}`).join(',') }));
      out(formatRows(o.format, rows, () => dockerTable([['NETWORK ID', 'NAME', 'DRIVER', 'SCOPE'], ...rows.map((r) => [r.ID, r.Name, r.Driver, r.Scope])])));
      return 0;
    }
    case 'inspect': {
      const { values: o, positionals } = parseVerb('network inspect', rest, { format: { type: 'string', short: 'f' } }, { min: 1, max: Infinity, usage: 'hako network inspect [OPTIONS] NETWORK [NETWORK...]' });
      return inspectEach(positionals, (ref) => networkView(g.eng, n.get(ref)), o.format);
    }
    case 'rm':
    case 'remove': {
      const { positionals } = parseVerb('network rm', rest, { force: { type: 'boolean', short: 'f' } }, { min: 1, max: Infinity, usage: 'hako network rm NETWORK [NETWORK...]' });
      let status = 0;
      for (const ref of positionals) {
        try {
          const net = n.get(ref);
          const users = g.eng.list().filter((c) => c.settings.Networks?.[net.name]);
          if (users.length && !BUILTIN.includes(net.name)) {
            throw new HakoError('in-use', `error while removing network: network ${net.name} id ${net.id} has active endpoints (${users.map((c) => c.name).join(', ')})`);
          }
          await n.remove(ref);
          out(`${ref}\n`);
        } catch (e) {
          err(`hako: ${errorText(e)}\n`);
          status = 1;
        }
      }
      return status;
    }
    case 'prune': {
      parseVerb('network prune', rest, { force: { type: 'boolean', short: 'f' }, filter: { type: 'string', multiple: true } }, { min: 0, max: 0, usage: 'hako network prune [OPTIONS]' });
      const removed: string[] = [];
      for (const net of n.list()) {
        if (!isUnused(g.eng, net)) continue;
        await n.remove(net.id);
        removed.push(net.name);
      }
      out(removed.length ? `Deleted Networks:\n${removed.map((x) => `${x}\n`).join('')}\n` : '');
      return 0;
    }
    case 'connect':
    case 'disconnect': {
      const { values: o, positionals } = parseVerb(
        `network ${sub}`,
        rest,
        sub === 'connect' ? { alias: { type: 'string', multiple: true } } : { force: { type: 'boolean', short: 'f' } },
        { min: 2, max: 2, usage: `hako network ${sub} [OPTIONS] NETWORK CONTAINER` },
      );
      const net = n.get(positionals[0]!);
      const c = g.eng.resolve(positionals[1]!);
      if (!ownsNetwork(c.settings.HostConfig.NetworkMode) || net.config.Driver !== 'bridge') {
        throw new HakoError('invalid-argument', `container ${c.name} cannot be ${sub}ed ${sub === 'connect' ? 'to' : 'from'} network ${net.name}: it uses the ${c.settings.HostConfig.NetworkMode} network mode`);
      }
      if (sub === 'connect') await attachOne(g.eng, c, net, ((o as { alias?: string[] }).alias) ?? []);
      else await detachOne(g.eng, c, net);
      return 0;
    }
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      out(USAGE);
      return sub === undefined ? 1 : 0;
    default:
      err(`hako: 'network ${sub}' is not a hako command.\nSee 'hako network --help'\n`);
      return 1;
  }
}

