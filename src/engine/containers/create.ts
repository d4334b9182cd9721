import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { HakoError } from '../../common/errors.ts';
import { defaultHostConfig, type CreateRequest } from '../container-config.ts';
import { defaultHostname, mergeImageConfig } from '../container-merge.ts';
import { noSuchImage } from '../image-service.ts';
import { Volumes } from '../volumes.ts';
import type { ContainerEngine } from './engine.ts';
import { planMounts, populateVolume, tmpfsMountOptions } from './mounts.ts';
import { generateName, validateName } from './names.ts';
import type { Container, ContainerSettings, MountPoint } from './record.ts';
import { networks, ownsNetwork } from './network.ts';
import type { HostConfig } from '../container-config.ts';

/**
 * `create`: a container record, its directory, its writable layer and its volumes;
 * nothing runs yet. Whatever was made is undone if a later step fails.
 */
export async function createContainer(eng: ContainerEngine, req: CreateRequest): Promise<Container> {
  let image;
  try {
    image = eng.images.resolve(req.image);
  } catch (err) {
    if (err instanceof HakoError && err.code === 'not-found') throw new HakoError('not-found', `Unable to find image '${req.image}' locally: ${noSuchImage(req.image).message}`);
    throw err;
  }
  const detail = eng.images.detail(image);
  const id = randomBytes(32).toString('hex');
  let name = req.name ? validateName(req.name) : generateName((n) => !!eng.meta.resolveContainerByName(n));
  const hostConfig: HostConfig = { ...defaultHostConfig(), ...req.hostConfig };
  const networks = checkNetwork(eng, hostConfig, req.networkAliases ?? []);
  if (hostConfig.AutoRemove && hostConfig.RestartPolicy.Name && hostConfig.RestartPolicy.Name !== 'no') {
    throw new HakoError('invalid-argument', 'conflicting options: cannot specify both --restart and --rm');
  }
  const config = mergeImageConfig(req.config, detail.config.config ?? {}, req.image);
  // Docker: the short id, or the host's own name with the host's network
  if (!config.Hostname) config.Hostname = defaultHostname(id, hostConfig.NetworkMode);
  const argv = [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])];
  if (argv.length === 0 || (argv.length === 1 && argv[0] === '')) throw new HakoError('invalid-argument', 'no command specified');

  const planned = planMounts(hostConfig, config.Volumes);
  const volumes = new Volumes(eng.meta, eng.paths.volumes);
  const madeVolumes: string[] = [];
  const dir = eng.dir(id);
  let layerMade = false;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o710 });
    const mounts: MountPoint[] = planned.map((m) => {
      if (m.Type === 'bind') {
        return { Type: 'bind', Source: m.Source, Destination: m.Target, Mode: m.ReadOnly ? 'ro' : '', RW: !m.ReadOnly, Propagation: m.BindOptions?.Propagation ?? 'rprivate' };
      }
      if (m.Type === 'tmpfs') {
        return { Type: 'tmpfs', Source: '', Destination: m.Target, Mode: '', RW: !m.ReadOnly, Propagation: '', Options: tmpfsMountOptions(m) };
      }
      const { volume, created } = volumes.create(m.Source || undefined, { labels: m.VolumeOptions?.Labels ?? {} });
      if (created) madeVolumes.push(volume.name);
      return {
        Type: 'volume',
        Name: volume.name,
        Source: volume.mountpoint,
        Destination: m.Target,
        Driver: 'local',
        Mode: m.ReadOnly ? 'ro' : 'z',
        RW: !m.ReadOnly,
        Propagation: '',
        ...(m.VolumeOptions?.NoCopy ? { NoCopy: true } : {}),
      };
    });
    await eng.images.snapshots.createContainerLayer(id, eng.meta.layersOf(image.id).map((l) => l.chainId));
    layerMade = true;
    // Docker's copy-up, at create: each empty volume takes what the image has at its mount point
    const toFill = mounts.filter((m) => m.Type === 'volume' && !m.NoCopy && volumes.isEmpty(m.Name!));
    if (toFill.length > 0) {
      const rootfs = await eng.images.snapshots.mount(id);
      try {
        for (const m of toFill) populateVolume(rootfs, m.Destination, volumes.path(m.Name!));
      } finally {
        await eng.images.snapshots.unmount(id);
      }
    }
    const settings: ContainerSettings = {
      Config: config,
      HostConfig: hostConfig,
      Path: argv[0]!,
      Args: argv.slice(1),
      Mounts: mounts,
      Platform: detail.config.os ?? 'linux',
      ...(networks ? { Networks: networks } : {}),
    };
    const created = new Date().toISOString();
    const vols = mounts.filter((m) => m.Type === 'volume').map((m) => m.Name!);
    // A generated name another create took meanwhile: draw again (the insert is the real check).
    for (let attempt = 0; ; attempt++) {
      try {
        eng.meta.addContainer({ id, name, imageId: image.id, created, config: JSON.stringify(settings) }, vols);
        break;
      } catch (err) {
        if (req.name || attempt >= 20 || !(err instanceof HakoError && err.code === 'already-exists')) throw err;
        name = generateName((n) => !!eng.meta.resolveContainerByName(n));
      }
    }
    return { id, name, imageId: image.id, created, settings };
  } catch (err) {
    if (layerMade) await eng.images.snapshots.removeContainerLayer(id).catch(() => {});
    for (const v of madeVolumes) {
      try {
        volumes.remove(v, true);
      } catch {
        // another container took it meanwhile: it stays
      }
    }
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * --network as Docker takes it: default/bridge (the default network), host, none,
 * container:NAME (which must exist) or a user network (which must exist); aliases
 * only on a user network.
 */
function checkNetwork(eng: ContainerEngine, hc: HostConfig, aliases: string[]): Record<string, { Aliases: string[] }> | undefined {
  if (hc.NetworkMode === 'default' || hc.NetworkMode === '') hc.NetworkMode = 'bridge';
  const mode = hc.NetworkMode;
  if (mode.startsWith('container:')) {
    eng.resolve(mode.slice('container:'.length));
  }
  if (!ownsNetwork(mode)) {
    if (aliases.length) throw new HakoError('invalid-argument', 'network-scoped aliases are only supported for user-defined networks');
    // Published ports mean nothing here (Docker discards them with the host's network, as hako does).
    return undefined;
  }
  const net = networks(eng).get(mode);
  if (net.config.Driver !== 'bridge') throw new HakoError('invalid-argument', `container cannot be connected to network ${mode}`);
  if (aliases.length && net.name === 'bridge') throw new HakoError('invalid-argument', 'network-scoped aliases are only supported for user-defined networks');
  hc.NetworkMode = net.name;
  return { [net.name]: { Aliases: aliases } };
}
