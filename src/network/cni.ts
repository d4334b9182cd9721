import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { HakoError } from '../common/errors.ts';

/**
 * A small CNI runtime (the spec's libcni part): a network list's plugins run in order on
 * ADD, each given the previous one's result, and in reverse on DEL with the cached ADD
 * result as prevResult (the firewall and portmap plugins need it to find their rules).
 * The plugins themselves are Debian's containernetworking-plugins.
 */
export const CNI_PATHS = ['/usr/lib/cni', '/opt/cni/bin'];
export const CNI_VERSION = '1.0.0';

export interface NetworkList {
  name: string;
  plugins: Record<string, unknown>[];
}

export interface RuntimeArgs {
  containerId: string;
  netns: string;
  ifName: string;
  /** per plugin capability: e.g. portMappings for portmap */
  runtimeConfig?: Record<string, unknown>;
}

export interface CniResult {
  cniVersion?: string;
  interfaces?: { name: string; mac?: string; sandbox?: string }[];
  ips?: { address: string; gateway?: string; interface?: number }[];
  routes?: { dst: string; gw?: string }[];
  dns?: unknown;
}

export function cniPath(): string {
  const dir = CNI_PATHS.find((d) => existsSync(join(d, 'bridge')));
  if (!dir) throw new HakoError('not-found', `the CNI plugins are not installed (looked in ${CNI_PATHS.join(', ')}); Debian's containernetworking-plugins has them (./setup installs it)`);
  return dir;
}

export async function addNetwork(list: NetworkList, args: RuntimeArgs): Promise<CniResult> {
  let prev: CniResult | undefined;
  for (const plugin of list.plugins) prev = (await invoke('ADD', list, plugin, args, prev)) ?? prev;
  return prev ?? {};
}

/** Runs every plugin's DEL even when one fails, then reports the first failure. */
export async function delNetwork(list: NetworkList, args: RuntimeArgs, prevResult: CniResult | undefined): Promise<void> {
  let first: unknown;
  for (const plugin of [...list.plugins].reverse()) {
    try {
      await invoke('DEL', list, plugin, args, prevResult);
    } catch (err) {
      first ??= err;
    }
  }
  if (first) throw first;
}

function invoke(command: 'ADD' | 'DEL', list: NetworkList, plugin: Record<string, unknown>, args: RuntimeArgs, prev: CniResult | undefined): Promise<CniResult | undefined> {
  const type = String(plugin['type']);
  if (!/^[a-z0-9-]+$/.test(type)) return Promise.reject(new HakoError('invalid-config', `CNI plugin type ${JSON.stringify(type)} is not a plugin name`));
  const dir = cniPath();
  const config: Record<string, unknown> = { ...plugin, cniVersion: CNI_VERSION, name: list.name };
  if (prev) config['prevResult'] = prev;
  const caps = plugin['capabilities'] as Record<string, boolean> | undefined;
  if (caps && args.runtimeConfig) {
    const rc = Object.fromEntries(Object.entries(args.runtimeConfig).filter(([k]) => caps[k]));
    if (Object.keys(rc).length) config['runtimeConfig'] = rc;
  }
  const env = {
    PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    CNI_COMMAND: command,
    CNI_CONTAINERID: args.containerId,
    CNI_NETNS: args.netns,
    CNI_IFNAME: args.ifName,
    CNI_PATH: dir,
  };
  return new Promise((resolve, reject) => {
    const p = spawn(join(dir, type), [], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('error', (e) => reject(new HakoError('system', `CNI plugin ${type}: ${e.message}`)));
    p.on('close', (code) => {
      if (code === 0) {
        if (command === 'DEL' || !out.trim()) return resolve(undefined);
        try {
          return resolve(JSON.parse(out) as CniResult);
        } catch {
          return reject(new HakoError('system', `CNI plugin ${type} ${command}: its result is not JSON`));
        }
      }
      let msg = err.trim() || out.trim();
      try {
        const e = JSON.parse(out) as { msg?: string; details?: string };
        if (e.msg) msg = `${e.msg}${e.details ? `: ${e.details}` : ''}`;
      } catch {
        // not the spec's error object: the text as it is
      }
      reject(new HakoError('system', `network ${list.name}: CNI plugin ${type} ${command} failed: ${msg || `exit status ${code}`}`));
    });
    p.stdin.end(JSON.stringify(config));
  });
}
