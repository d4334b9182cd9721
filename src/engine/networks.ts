import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HakoError } from '../common/errors.ts';
import { deleteBridge, deleteRulesMatching } from '../network/bridge.ts';
import { addNetwork, delNetwork, type CniResult, type NetworkList } from '../network/cni.ts';
import { firstHost, formatSubnet, parseIPv4, parseSubnet, contains } from '../network/ipv4.ts';
import { createNetns, deleteNetns, netnsPath } from '../network/netns.ts';
import type { PortMapping } from '../network/ports.ts';
import { allocateSubnet, allocateSubnet6, claimSubnet, claimSubnet6, releaseSubnet, releaseSubnet6 } from '../network/subnets.ts';
import { contains6, firstHost6, formatSubnet6, parseIPv6, parseSubnet6, type Subnet6 } from '../network/ipv6.ts';
import type { MetadataStore, NetworkRow } from '../storage/metadata.ts';

/** A network as the engine keeps it (Docker's network inspect fields it needs). */
export interface NetworkConfig {
  Driver: 'bridge' | 'host' | 'null';
  Subnet: string;
  Gateway: string;
  /** with --ipv6: the IPv6 subnet and gateway beside the IPv4 ones */
  Subnet6?: string;
  Gateway6?: string;
  Internal: boolean;
  EnableIPv6: boolean;
  /** the Linux bridge: hako0 for the default network of the default data root, else hk-ID */
  Bridge: string;
  Labels: Record<string, string>;
  Options: Record<string, string>;
}

export interface Network {
  id: string;
  name: string;
  created: string;
  config: NetworkConfig;
}

/** One container on one network: what CNI gave it. */
export interface Endpoint {
  IfName: string;
  IPAddress: string;
  IPPrefixLen: number;
  Gateway: string;
  GlobalIPv6Address?: string;
  GlobalIPv6PrefixLen?: number;
  IPv6Gateway?: string;
  MacAddress: string;
  Aliases: string[];
  Ports: PortMapping[];
  Netns: string;
  Result: CniResult;
}

export const BUILTIN = ['bridge', 'host', 'none'];
const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const DEFAULT_ROOT = '/var/lib/hako';

/** The network namespace pinned for a container with a network of its own (not none/host). */
export const containerNetns = (id: string) => `hako-${id.slice(0, 12)}`;

/**
 * Networks of one data root: the default `bridge` (made on first use), user networks,
 * and the attachment of containers through CNI (bridge, portmap, firewall plugins). Every
 * change to a network's endpoints holds the network's lock (several hako processes).
 */
export class Networks {
  private readonly meta: MetadataStore;
  private readonly root: string;

  constructor(meta: MetadataStore, dataRoot: string) {
    this.meta = meta;
    this.root = dataRoot;
  }

  private get owner(): string {
    return this.root;
  }

  /** bridge, host and none exist in every store, as in Docker. */
  ensureBuiltins(): void {
    if (this.meta.findNetwork('none') && this.meta.findNetwork('host') && this.meta.findNetwork('bridge')) return;
    for (const [name, driver] of [['bridge', 'bridge'], ['host', 'host'], ['none', 'null']] as const) {
      if (this.meta.findNetwork(name)) continue;
      const config: NetworkConfig = { Driver: driver, Subnet: '', Gateway: '', Internal: false, EnableIPv6: false, Bridge: '', Labels: {}, Options: {} };
      try {
        this.meta.addNetwork({ id: randomBytes(32).toString('hex'), name, created: new Date().toISOString(), config: JSON.stringify(config) });
      } catch (err) {
        if (!(err instanceof HakoError && err.code === 'already-exists')) throw err;
      }
    }
  }

  list(): Network[] {
    this.ensureBuiltins();
    return this.meta.listNetworks().map(toNetwork);
  }

  get(ref: string): Network {
    this.ensureBuiltins();
    const row = this.meta.findNetwork(ref);
    if (!row) throw new HakoError('not-found', `network ${ref} not found`);
    return toNetwork(row);
  }

  async create(
    name: string,
    opts: { subnet?: string; gateway?: string; subnet6?: string; gateway6?: string; internal?: boolean; ipv6?: boolean; labels?: Record<string, string>; driver?: string },
  ): Promise<Network> {
    this.ensureBuiltins();
    if (!NAME_RE.test(name)) throw new HakoError('invalid-argument', `invalid network name ${JSON.stringify(name)}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    if (BUILTIN.includes(name)) throw new HakoError('invalid-argument', `${name} is a pre-defined network and cannot be created`);
    if (opts.driver && opts.driver !== 'bridge') throw new HakoError('unsupported', `network driver ${opts.driver}: only bridge is supported`);
    if ((opts.subnet6 || opts.gateway6) && !opts.ipv6) throw new HakoError('invalid-argument', 'an IPv6 subnet needs --ipv6');
    if (this.meta.findNetwork(name)) throw new HakoError('already-exists', `network with name ${name} already exists`);
    if (opts.gateway && !opts.subnet) throw new HakoError('invalid-argument', 'a gateway needs a subnet (--subnet)');
    const id = randomBytes(32).toString('hex');
    const claimOwner = `${this.owner} ${id}`;
    const subnet = opts.subnet ? parseSubnet(opts.subnet) : await allocateSubnet(claimOwner, false);
    if (opts.subnet) await claimSubnet(subnet, claimOwner);
    let subnet6: Subnet6 | undefined;
    try {
      if (opts.ipv6) {
        subnet6 = opts.subnet6 ? parseSubnet6(opts.subnet6) : await allocateSubnet6(claimOwner);
        if (opts.subnet6) await claimSubnet6(subnet6, claimOwner);
      }
    } catch (err) {
      releaseSubnet(subnet, claimOwner);
      throw err;
    }
    try {
      let gateway6 = subnet6 ? firstHost6(subnet6) : undefined;
      if (subnet6 && opts.gateway6) {
        const g = parseIPv6(opts.gateway6);
        if (g === undefined || !contains6(subnet6, g) || g === subnet6.base) throw new HakoError('invalid-argument', `invalid gateway ${opts.gateway6}: not a host address in ${formatSubnet6(subnet6)}`);
        gateway6 = opts.gateway6;
      }
      let gateway = firstHost(subnet);
      if (opts.gateway) {
        const g = parseIPv4(opts.gateway);
        if (g === undefined || !contains(subnet, g) || g === subnet.base) throw new HakoError('invalid-argument', `invalid gateway ${opts.gateway}: not a host address in ${formatSubnet(subnet)}`);
        gateway = opts.gateway;
      }
      const config: NetworkConfig = {
        Driver: 'bridge',
        Subnet: formatSubnet(subnet),
        Gateway: gateway,
        ...(subnet6 ? { Subnet6: formatSubnet6(subnet6), Gateway6: gateway6! } : {}),
        Internal: !!opts.internal,
        EnableIPv6: !!subnet6,
        Bridge: `hk-${id.slice(0, 12)}`,
        Labels: opts.labels ?? {},
        Options: {},
      };
      this.meta.addNetwork({ id, name, created: new Date().toISOString(), config: JSON.stringify(config) });
      return { id, name, created: '', config };
    } catch (err) {
      releaseSubnet(subnet, claimOwner);
      if (subnet6) releaseSubnet6(subnet6, claimOwner);
      throw err;
    }
  }

  /** Removes a user network with no containers: its bridge, rules, addresses and subnet claim. */
  async remove(ref: string): Promise<Network> {
    const net = this.get(ref);
    if (BUILTIN.includes(net.name)) throw new HakoError('invalid-state', `${net.name} is a pre-defined network and cannot be removed`);
    return this.withLock(net, async () => {
      if (!this.meta.removeNetwork(net.id)) throw new HakoError('in-use', `error while removing network: network ${net.name} id ${net.id} has active endpoints`);
      await this.dropBridge(net);
      releaseSubnet(parseSubnet(net.config.Subnet), `${this.owner} ${net.id}`);
      if (net.config.Subnet6) releaseSubnet6(parseSubnet6(net.config.Subnet6), `${this.owner} ${net.id}`);
      return net;
    });
  }

  /** The default network's subnet and bridge, chosen at its first use. */
  private async defaultBridge(net: Network): Promise<Network> {
    if (net.config.Subnet) return net;
    const subnet = await allocateSubnet(`${this.owner} ${net.id}`, true);
    const config: NetworkConfig = {
      ...net.config,
      Subnet: formatSubnet(subnet),
      Gateway: firstHost(subnet),
      Bridge: this.root === DEFAULT_ROOT ? 'hako0' : `hk-${net.id.slice(0, 12)}`,
      Options: { 'com.docker.network.bridge.default_bridge': 'true' },
    };
    this.meta.updateNetworkConfig(net.id, JSON.stringify(config));
    return { ...net, config };
  }

  /** The CNI network list of a bridge network; portmap only for a container that publishes ports (it is the slow plugin). */
  conflist(net: Network, withPorts = true): NetworkList {
    const c = net.config;
    const ipam = {
      type: 'host-local',
      ranges: [[{ subnet: c.Subnet, gateway: c.Gateway }], ...(c.Subnet6 ? [[{ subnet: c.Subnet6, gateway: c.Gateway6 }]] : [])],
      ...(c.Internal ? {} : { routes: [{ dst: '0.0.0.0/0' }, ...(c.Subnet6 ? [{ dst: '::/0' }] : [])] }),
      dataDir: join(this.root, 'networks', 'ipam'),
    };
    return {
      name: `hako-${net.name}`,
      plugins: [
        { type: 'bridge', bridge: c.Bridge, isGateway: !c.Internal, ipMasq: !c.Internal, hairpinMode: true, ipam },
        ...(withPorts ? [{ type: 'portmap', capabilities: { portMappings: true }, snat: true }] : []),
        { type: 'firewall', backend: 'iptables', ingressPolicy: 'same-bridge' },
      ],
    };
  }

  endpointsOf(containerId: string): { network: Network; endpoint: Endpoint }[] {
    return this.meta.endpoints({ containerId }).flatMap((e) => {
      const row = this.meta.findNetwork(e.networkId);
      return row ? [{ network: toNetwork(row), endpoint: JSON.parse(e.config) as Endpoint }] : [];
    });
  }

  /** Every endpoint of a network, with its container id. */
  members(net: Network): { containerId: string; endpoint: Endpoint }[] {
    return this.meta.endpoints({ networkId: net.id }).map((e) => ({ containerId: e.containerId, endpoint: JSON.parse(e.config) as Endpoint }));
  }

  /** Every host port a container of this store publishes. */
  publishedPorts(): PortMapping[] {
    return this.meta.endpoints().flatMap((e) => (JSON.parse(e.config) as Endpoint).Ports);
  }

  /**
   * Connects the container to NET through CNI in its pinned network namespace (made
   * here if needed). Already attached (a restart): the endpoint as it is.
   */
  async attach(containerId: string, ref: string, opts: { ifName: string; aliases: string[]; ports: PortMapping[] }): Promise<Endpoint> {
    let net = this.get(ref);
    if (net.config.Driver !== 'bridge') throw new HakoError('invalid-argument', `network ${net.name} (${net.config.Driver}) has no endpoints to attach`);
    const existing = this.meta.endpoints({ containerId }).find((e) => e.networkId === net.id);
    const ns = containerNetns(containerId);
    if (existing && existsSync(netnsPath(ns))) return JSON.parse(existing.config) as Endpoint;
    return this.withLock(net, async () => {
      if (net.name === 'bridge') net = await this.defaultBridge(this.get(net.id));
      await claimSubnet(parseSubnet(net.config.Subnet), `${this.owner} ${net.id}`, [parseSubnet(net.config.Subnet)]);
      if (existing) await this.teardown(net, containerId, JSON.parse(existing.config) as Endpoint).catch(() => {});
      const path = await createNetns(ns);
      const args = { containerId, netns: path, ifName: opts.ifName, runtimeConfig: { portMappings: opts.ports.map((p) => ({ hostPort: p.hostPort, containerPort: p.containerPort, protocol: p.protocol, hostIP: p.hostIP })) } };
      const list = this.conflist(net, opts.ports.length > 0);
      let result: CniResult;
      try {
        result = await addNetwork(list, args);
      } catch (err) {
        await delNetwork(list, args, undefined).catch(() => {});
        throw err;
      }
      const ip = result.ips?.find((a) => !a.address.includes(':'));
      const ip6 = result.ips?.find((a) => a.address.includes(':'));
      const [address6 = '', prefix6 = '0'] = (ip6?.address ?? '').split('/');
      const iface = result.interfaces?.find((i) => i.name === opts.ifName && i.sandbox);
      const [address = '', prefix = '0'] = (ip?.address ?? '').split('/');
      const ep: Endpoint = {
        IfName: opts.ifName,
        IPAddress: address,
        IPPrefixLen: Number(prefix),
        Gateway: net.config.Internal ? '' : (ip?.gateway ?? ''),
        ...(ip6 ? { GlobalIPv6Address: address6, GlobalIPv6PrefixLen: Number(prefix6), IPv6Gateway: net.config.Internal ? '' : (ip6.gateway ?? '') } : {}),
        MacAddress: iface?.mac ?? '',
        Aliases: opts.aliases,
        Ports: opts.ports,
        Netns: path,
        Result: result,
      };
      this.meta.setEndpoint(containerId, net.id, JSON.stringify(ep));
      return ep;
    });
  }

  /** Disconnects the container from NET: CNI DEL (its address, rules and ports go). */
  async detach(containerId: string, netId: string): Promise<void> {
    const row = this.meta.findNetwork(netId);
    const ep = this.meta.endpoints({ containerId }).find((e) => e.networkId === netId);
    if (!row || !ep) return;
    const net = toNetwork(row);
    await this.withLock(net, async () => {
      try {
        await this.teardown(net, containerId, JSON.parse(ep.config) as Endpoint);
      } finally {
        this.meta.removeEndpoint(containerId, net.id);
      }
      // The default bridge goes with its last container, and its subnet is let go: nothing
      // of hako's stays on an idle host; the next container picks a subnet afresh.
      if (net.name === 'bridge' && this.meta.endpoints({ networkId: net.id }).length === 0) {
        await this.dropBridge(net);
        if (net.config.Subnet) releaseSubnet(parseSubnet(net.config.Subnet), `${this.owner} ${net.id}`);
        this.meta.updateNetworkConfig(net.id, JSON.stringify({ ...net.config, Subnet: '', Gateway: '' }));
      }
    });
  }

  /** Every network of the container, then its pinned namespace. */
  async detachAll(containerId: string): Promise<void> {
    let first: unknown;
    for (const e of this.meta.endpoints({ containerId })) {
      try {
        await this.detach(containerId, e.networkId);
      } catch (err) {
        first ??= err;
      }
    }
    await deleteNetns(containerNetns(containerId));
    if (first) throw first;
  }

  private async teardown(net: Network, containerId: string, ep: Endpoint): Promise<void> {
    const netns = existsSync(ep.Netns) ? ep.Netns : '';
    const args = { containerId, netns, ifName: ep.IfName, runtimeConfig: { portMappings: ep.Ports.map((p) => ({ hostPort: p.hostPort, containerPort: p.containerPort, protocol: p.protocol, hostIP: p.hostIP })) } };
    await delNetwork(this.conflist(net, ep.Ports.length > 0), args, ep.Result);
    // The bridge plugin's DEL finds its masquerade rule through the namespace; without it, by name.
    if (!netns) await deleteRulesMatching((a) => a.join(' ').includes(`id: "${containerId}"`));
  }

  private async dropBridge(net: Network): Promise<void> {
    if (net.config.Bridge) await deleteBridge(net.config.Bridge);
    rmSync(join(this.root, 'networks', 'ipam', `hako-${net.name}`), { recursive: true, force: true });
  }

  private async withLock<T>(net: Network, fn: () => Promise<T>): Promise<T> {
    const lock = `net:${net.id}`;
    const deadline = Date.now() + 120_000;
    while (!this.meta.tryLock(lock)) {
      if (Date.now() > deadline) throw new HakoError('invalid-state', `network ${net.name} is locked by another hako process`);
      await sleep(20);
    }
    try {
      return await fn();
    } finally {
      this.meta.unlock(lock);
    }
  }
}

function toNetwork(row: NetworkRow): Network {
  return { id: row.id, name: row.name, created: row.created, config: JSON.parse(row.config) as NetworkConfig };
}
