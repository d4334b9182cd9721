import { readFileSync } from 'node:fs';
import { atomicWriteFile } from '../../common/fs.ts';
import type { ContainerConfig, HostConfig } from '../container-config.ts';

const LOCAL_HOSTS = `127.0.0.1\tlocalhost
::1\tlocalhost ip6-localhost ip6-loopback
fe00::0\tip6-localnet
ff00::0\tip6-mcastprefix
ff02::1\tip6-allnodes
ff02::2\tip6-allrouters
`;

function readHost(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/**
 * /etc/hostname, /etc/hosts and /etc/resolv.conf of one container, written into its
 * directory and bind-mounted (Docker's files). With the host's network the host's hosts
 * and resolv.conf are used as they are; otherwise loopback nameservers, which would
 * point at the container itself, are dropped (Docker falls back to public resolvers;
 * with no network there is nothing to reach either way).
 */
export function writeEtcFiles(files: { hostname: string; hosts: string; resolvConf: string }, config: ContainerConfig, host: HostConfig, network: string[] = []): void {
  atomicWriteFile(files.hostname, `${config.Hostname}\n`);
  atomicWriteFile(files.hosts, hostsFileText(config, host, network));
  atomicWriteFile(files.resolvConf, resolvConf(readHost('/etc/resolv.conf'), host));
}

/** Docker's /etc/hosts: localhost, --add-host lines, then the container's own address and its network's names. */
export function hostsFileText(_config: ContainerConfig, host: HostConfig, network: string[]): string {
  const extra = (host.ExtraHosts ?? []).map((h) => {
    const i = h.indexOf(':');
    return `${h.slice(i + 1)}\t${h.slice(0, i)}\n`;
  });
  const base = host.NetworkMode === 'host' ? readHost('/etc/hosts') : LOCAL_HOSTS;
  return base + extra.join('') + network.map((l) => `${l}\n`).join('');
}

export function resolvConf(hostFile: string, host: HostConfig): string {
  const lines = hostFile.split('\n').filter((l) => l.trim() !== '');
  let ns = lines.filter((l) => /^\s*nameserver\s/.test(l));
  let search = lines.filter((l) => /^\s*(search|domain)\s/.test(l));
  let options = lines.filter((l) => /^\s*options\s/.test(l));
  if (host.NetworkMode !== 'host') ns = ns.filter((l) => !/^\s*nameserver\s+(127\.|::1\b)/.test(l));
  if (host.Dns?.length) ns = host.Dns.map((d) => `nameserver ${d}`);
  if (host.DnsSearch?.length) search = [`search ${host.DnsSearch.join(' ')}`];
  if (host.DnsOptions?.length) options = [`options ${host.DnsOptions.join(' ')}`];
  return [...search, ...ns, ...options].map((l) => `${l.trim()}\n`).join('');
}
