import { existsSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { HakoError } from '../../common/errors.ts';
import { createNetns, netnsPath } from '../../network/netns.ts';
import { resolvePorts, type PortMapping } from '../../network/ports.ts';
import { containerNetns, Networks, type Endpoint, type Network } from '../networks.ts';
import type { ContainerEngine } from './engine.ts';
import { hostsFileText } from './etc-files.ts';
import type { Container } from './record.ts';

/** host, none and container:X have no endpoints of their own; anything else names a bridge network. */
export function ownsNetwork(mode: string): boolean {
  return mode !== 'host' && mode !== 'none' && !mode.startsWith('container:');
}

export function networksOf(c: Container): Record<string, { Aliases: string[] }> {
  const mode = c.settings.HostConfig.NetworkMode;
  if (!ownsNetwork(mode)) return {};
  return c.settings.Networks ?? { [mode]: { Aliases: [] } };
}

export function networks(eng: ContainerEngine): Networks {
  return new Networks(eng.meta, eng.paths.root);
}

const isUp = (eng: ContainerEngine, id: string) => {
  const c = eng.get(id);
  if (!c) return false;
  const st = eng.state(c);
  return st.Running || st.Restarting || st.Paused;
};

/**
 * Before a start: the container's networks, attached in its pinned namespace (eth0,
 * eth1 … in the order they were given); its ports published on the first. Endpoints
 * of containers that no longer run are cleaned up first (daemonless: no one else will).
 */
export async function attachNetworks(eng: ContainerEngine, c: Container): Promise<void> {
  if (!ownsNetwork(c.settings.HostConfig.NetworkMode)) return;
  const nets = networksOf(c);
  const names = Object.keys(nets);
  if (!names.length) {
    await createNetns(containerNetns(c.id)); // disconnected from everything: loopback only
    return;
  }
  const n = networks(eng);
  await reconcileNetworks(eng, c.id);
  try {
    for (const [i, name] of names.entries()) {
      const host = c.settings.HostConfig;
      const already = n.endpointsOf(c.id).find((e) => e.network.name === name);
      const ports: PortMapping[] =
        i === 0 && !already ? await resolvePorts(host.PortBindings ?? {}, host.PublishAllPorts ?? false, c.settings.Config.ExposedPorts, n.publishedPorts()) : (already?.endpoint.Ports ?? []);
      await n.attach(c.id, name, { ifName: `eth${i}`, aliases: nets[name]!.Aliases, ports });
    }
  } catch (err) {
    await n.detachAll(c.id).catch(() => {});
    throw err;
  }
  for (const name of names) refreshHosts(eng, n.get(name));
}

/** After a container stopped for good, or at rm: its endpoints and namespace go. */
export async function detachNetworks(eng: ContainerEngine, c: Container): Promise<void> {
  const n = networks(eng);
  const before = n.endpointsOf(c.id).map((e) => e.network);
  await n.detachAll(c.id);
  for (const net of before) if (net.name !== 'bridge') refreshHosts(eng, net);
}

/** The network namespace the container's spec joins: its pinned one, or another container's. */
export function networkNamespacePath(eng: ContainerEngine, c: Container): string | undefined {
  const mode = c.settings.HostConfig.NetworkMode;
  if (mode.startsWith('container:')) {
    const other = eng.resolve(mode.slice('container:'.length));
    const st = eng.state(other);
    if (!st.Running || !st.Pid) throw new HakoError('invalid-state', `cannot join network of a non running container: ${other.id}`);
    return `/proc/${st.Pid}/ns/net`;
  }
  if (!ownsNetwork(mode)) return undefined;
  return netnsPath(containerNetns(c.id));
}

/**
 * /etc/hosts of each running container on NET, written in place (the file is bind-mounted:
 * a rename would leave the container the old one). Docker answers these names from its
 * embedded DNS server; a daemonless hako writes them here instead.
 */
export function refreshHosts(eng: ContainerEngine, net: Network): void {
  const n = networks(eng);
  for (const m of n.members(net)) {
    const c = eng.get(m.containerId);
    if (!c) continue;
    const file = eng.files(c.id).hosts;
    if (!existsSync(file)) continue;
    try {
      writeFileSync(file, hostsFileText(c.settings.Config, c.settings.HostConfig, peerLines(eng, c)));
    } catch {
      // a container going away meanwhile
    }
  }
}

/** The container's own addresses, then (user networks only, as Docker) its peers' names and aliases. */
export function peerLines(eng: ContainerEngine, c: Container): string[] {
  const n = networks(eng);
  const lines: string[] = [];
  const mine = n.endpointsOf(c.id);
  for (const { endpoint } of mine) {
    if (endpoint.IPAddress) lines.push(`${endpoint.IPAddress}\t${c.settings.Config.Hostname}`);
    if (endpoint.GlobalIPv6Address) lines.push(`${endpoint.GlobalIPv6Address}\t${c.settings.Config.Hostname}`);
  }
  for (const { network } of mine) {
    if (network.name === 'bridge') continue;
    for (const m of n.members(network)) {
      if (m.containerId === c.id || !m.endpoint.IPAddress) continue;
      const peer = eng.get(m.containerId);
      if (!peer) continue;
      const names = [...new Set([peer.name, ...m.endpoint.Aliases, peer.id.slice(0, 12)])].join(' ');
      lines.push(`${m.endpoint.IPAddress}\t${names}`);
      if (m.endpoint.GlobalIPv6Address) lines.push(`${m.endpoint.GlobalIPv6Address}\t${names}`);
    }
  }
  return lines;
}

/** inspect's NetworkSettings, from the endpoints. */
export function networkSettings(eng: ContainerEngine, c: Container, pid: number): Record<string, unknown> {
  const mode = c.settings.HostConfig.NetworkMode;
  const eps = networks(eng).endpointsOf(c.id);
  const primary: Endpoint | undefined = eps[0]?.endpoint;
  const ports: Record<string, { HostIp: string; HostPort: string }[] | null> = {};
  for (const p of Object.keys(c.settings.Config.ExposedPorts ?? {})) ports[p] = null;
  for (const m of primary?.Ports ?? []) (ports[`${m.containerPort}/${m.protocol}`] ??= []).push({ HostIp: m.hostIP || '0.0.0.0', HostPort: String(m.hostPort) });
  const nets: Record<string, unknown> = {};
  for (const { network, endpoint } of eps) {
    nets[network.name] = {
      Aliases: endpoint.Aliases.length ? endpoint.Aliases : null,
      NetworkID: network.id,
      EndpointID: '',
      Gateway: endpoint.Gateway,
      IPAddress: endpoint.IPAddress,
      IPPrefixLen: endpoint.IPPrefixLen,
      IPv6Gateway: endpoint.IPv6Gateway ?? '',
      GlobalIPv6Address: endpoint.GlobalIPv6Address ?? '',
      GlobalIPv6PrefixLen: endpoint.GlobalIPv6PrefixLen ?? 0,
      MacAddress: endpoint.MacAddress,
    };
  }
  if (!eps.length) {
    const names = ownsNetwork(mode) ? Object.keys(networksOf(c)) : mode.startsWith('container:') ? [] : [mode];
    for (const name of names) nets[name] = { Aliases: null, NetworkID: '', EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, MacAddress: '' };
  }
  const sandbox = ownsNetwork(mode) ? (primary ? primary.Netns : '') : pid && mode !== 'host' ? `/proc/${pid}/ns/net` : '';
  return {
    Bridge: '',
    SandboxID: '',
    SandboxKey: sandbox,
    Ports: ports,
    Gateway: primary?.Gateway ?? '',
    IPAddress: primary?.IPAddress ?? '',
    IPPrefixLen: primary?.IPPrefixLen ?? 0,
    IPv6Gateway: primary?.IPv6Gateway ?? '',
    GlobalIPv6Address: primary?.GlobalIPv6Address ?? '',
    GlobalIPv6PrefixLen: primary?.GlobalIPv6PrefixLen ?? 0,
    MacAddress: primary?.MacAddress ?? '',
    Networks: nets,
  };
}

/** The published ports of a container (its primary endpoint's). */
export function portsOf(eng: ContainerEngine, c: Container): PortMapping[] {
  return networks(eng).endpointsOf(c.id)[0]?.endpoint.Ports ?? [];
}

/** `network connect`: recorded in the container; a running one is attached at once (eth1, …). */
export async function attachOne(eng: ContainerEngine, c: Container, net: Network, aliases: string[]): Promise<void> {
  const nets = networksOf(c);
  if (nets[net.name]) throw new HakoError('already-exists', `endpoint with name ${c.name} already exists in network ${net.name}`);
  if (aliases.length && net.name === 'bridge') throw new HakoError('invalid-argument', 'network-scoped aliases are only supported for user-defined networks');
  const next = { ...nets, [net.name]: { Aliases: aliases } };
  if (isUp(eng, c.id)) {
    await networks(eng).attach(c.id, net.name, { ifName: `eth${Object.keys(nets).length}`, aliases, ports: [] });
    refreshHosts(eng, net);
  }
  eng.meta.updateContainerConfig(c.id, JSON.stringify({ ...c.settings, Networks: next }));
}

/** `network disconnect`: detached now if running, and forgotten. */
export async function detachOne(eng: ContainerEngine, c: Container, net: Network): Promise<void> {
  const nets = networksOf(c);
  if (!nets[net.name]) throw new HakoError('not-found', `container ${c.id.slice(0, 12)} is not connected to network ${net.name}`);
  await networks(eng).detach(c.id, net.id);
  const { [net.name]: _gone, ...rest } = nets;
  eng.meta.updateContainerConfig(c.id, JSON.stringify({ ...c.settings, Networks: rest }));
  refreshHosts(eng, net);
}

/**
 * Runs FN holding the container's start lock (a start, a network teardown): a reconcile
 * in another process never tears down the network of a container being started.
 */
export async function withStartLock<T>(eng: ContainerEngine, id: string, fn: () => Promise<T>, wait = true): Promise<T | undefined> {
  const lock = `start:${id}`;
  const deadline = Date.now() + 60_000;
  while (!eng.meta.tryLock(lock)) {
    if (!wait) return undefined;
    if (Date.now() > deadline) throw new HakoError('invalid-state', `container ${id.slice(0, 12)} is being started by another hako process`);
    await sleep(20);
  }
  try {
    return await fn();
  } finally {
    eng.meta.unlock(lock);
  }
}

/**
 * Daemonless cleanup: endpoints of containers that are not running (they exited while no
 * monitor could clean up, or the host crashed) are torn down by whichever hako command
 * comes next. A container being started (its start lock held) is left alone.
 */
export async function reconcileNetworks(eng: ContainerEngine, except?: string): Promise<void> {
  const ids = new Set(eng.meta.endpoints().map((e) => e.containerId));
  for (const id of ids) {
    if (id === except || isUp(eng, id)) continue;
    await withStartLock(
      eng,
      id,
      async () => {
        if (isUp(eng, id)) return;
        const c = eng.get(id);
        if (c) await detachNetworks(eng, c).catch(() => {});
        else await networks(eng).detachAll(id).catch(() => {});
      },
      false,
    );
  }
}
