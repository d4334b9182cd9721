import { join } from 'node:path';
import { parseVerb } from '../args.ts';
import { atomicWriteFile } from '../../common/fs.ts';
import { HakoError } from '../../common/errors.ts';
import { parseSize } from '../../engine/containers/sizes.ts';
import { updateContainer } from '../../runtime/container-update.ts';
import type { RestartPolicy } from '../../engine/container-config.ts';
import { eachContainer, type ContainerGlobals } from './index.ts';

/**
 * `update`: resources of a running container (written to its cgroup) and of its stored
 * settings (so the next start has them), and the restart policy (from the next start).
 */
export default async function update(args: string[], g: ContainerGlobals): Promise<number> {
  const { values: o, positionals } = parseVerb(
    'update',
    args,
    {
      memory: { type: 'string', short: 'm' },
      'memory-swap': { type: 'string' },
      cpus: { type: 'string' },
      'cpu-shares': { type: 'string', short: 'c' },
      'cpu-quota': { type: 'string' },
      'cpu-period': { type: 'string' },
      'cpuset-cpus': { type: 'string' },
      'cpuset-mems': { type: 'string' },
      'pids-limit': { type: 'string' },
      restart: { type: 'string' },
    },
    { min: 1, max: Infinity, usage: 'hako update [OPTIONS] CONTAINER [CONTAINER...]' },
  );
  const num = (v: string, flag: string): number => {
    if (!/^-?\d+$/.test(v)) throw new HakoError('invalid-argument', `invalid argument "${v}" for "--${flag}" flag: strconv.ParseInt: parsing "${v}": invalid syntax`);
    return Number(v);
  };
  const host: Record<string, unknown> = {};
  const memory: Record<string, number> = {};
  const cpu: Record<string, unknown> = {};
  let pids: { limit: number } | undefined;
  if (o.memory !== undefined) host['Memory'] = memory['limit'] = parseSize(o.memory);
  if (o['memory-swap'] !== undefined) host['MemorySwap'] = memory['swap'] = o['memory-swap'] === '-1' ? -1 : parseSize(o['memory-swap']);
  if (o.cpus !== undefined) {
    const n = Number(o.cpus);
    if (!Number.isFinite(n) || n < 0) throw new HakoError('invalid-argument', `invalid argument "${o.cpus}" for "--cpus" flag: failed to parse ${o.cpus} as a rational number`);
    host['NanoCpus'] = Math.round(n * 1e9);
    cpu['period'] = 100000;
    cpu['quota'] = n ? Math.round(n * 100000) : -1;
  }
  if (o['cpu-shares'] !== undefined) host['CpuShares'] = cpu['shares'] = num(o['cpu-shares'], 'cpu-shares');
  if (o['cpu-quota'] !== undefined) host['CpuQuota'] = cpu['quota'] = num(o['cpu-quota'], 'cpu-quota');
  if (o['cpu-period'] !== undefined) host['CpuPeriod'] = cpu['period'] = num(o['cpu-period'], 'cpu-period');
  if (o['cpuset-cpus'] !== undefined) host['CpusetCpus'] = cpu['cpus'] = o['cpuset-cpus'];
  if (o['cpuset-mems'] !== undefined) host['CpusetMems'] = cpu['mems'] = o['cpuset-mems'];
  if (o['pids-limit'] !== undefined) {
    const n = num(o['pids-limit'], 'pids-limit');
    host['PidsLimit'] = n;
    pids = { limit: n <= 0 ? -1 : n };
  }
  if (o.restart !== undefined) host['RestartPolicy'] = parseRestart(o.restart);
  if (Object.keys(host).length === 0) throw new HakoError('invalid-argument', 'you must provide one or more flags when using this command');
  const resources: Record<string, unknown> = {};
  if (Object.keys(memory).length) resources['memory'] = memory;
  if (Object.keys(cpu).length) resources['cpu'] = cpu;
  if (pids) resources['pids'] = pids;
  return eachContainer(g, positionals, async (ref) => {
    const c = g.eng.resolve(ref);
    if (c.settings.HostConfig.AutoRemove && host['RestartPolicy'] && (host['RestartPolicy'] as RestartPolicy).Name !== 'no') {
      throw new HakoError('invalid-argument', 'Restart policy cannot be updated because AutoRemove is enabled for the container');
    }
    if (g.eng.state(c).Running && Object.keys(resources).length) updateContainer(g.eng.runtime, c.id, resources);
    c.settings.HostConfig = { ...c.settings.HostConfig, ...host };
    g.eng.meta.updateContainerConfig(c.id, JSON.stringify(c.settings));
    const rp = host['RestartPolicy'] as RestartPolicy | undefined;
    if (rp) {
      // the running monitor reads it at the next exit (native/MONITOR.md)
      const text = rp.Name === 'on-failure' && rp.MaximumRetryCount ? `on-failure:${rp.MaximumRetryCount}` : rp.Name || 'no';
      atomicWriteFile(join(g.eng.dir(c.id), 'restart'), `${text}\n`);
    }
    return ref;
  });
}

export function parseRestart(v: string): RestartPolicy {
  const [name, count] = v.split(':');
  if (name === 'on-failure') {
    const n = count === undefined ? 0 : Number(count);
    if (!Number.isInteger(n) || n < 0) throw new HakoError('invalid-argument', `invalid restart policy format: maximum retry count must be an integer`);
    return { Name: 'on-failure', MaximumRetryCount: n };
  }
  if (name === 'no' || name === 'always' || name === 'unless-stopped') {
    if (count !== undefined) throw new HakoError('invalid-argument', `invalid restart policy format: maximum retry count cannot be used with restart policy '${name}'`);
    return { Name: name, MaximumRetryCount: 0 };
  }
  throw new HakoError('invalid-argument', `invalid restart policy format: unknown policy '${v}'`);
}
