import type { ContainerEngine } from './engine.ts';
import type { Container } from './record.ts';
import type { DockerState } from './state.ts';
import { readHealth } from './health-state.ts';
import { networkSettings } from './network.ts';

/** `inspect` of a container, in Docker's shape (the fields a Docker user's scripts read). */
export async function inspectContainer(eng: ContainerEngine, c: Container): Promise<Record<string, unknown>> {
  const st: DockerState = eng.state(c);
  const files = eng.files(c.id);
  const layer = await eng.images.snapshots.containerLayer(c.id).catch(() => undefined);
  const health = c.settings.Config.Healthcheck?.Test?.length && c.settings.Config.Healthcheck.Test[0] !== 'NONE' ? readHealth(files.health) : undefined;
  const { restartCount, ...state } = st;
  const lowers = layer?.driver === 'overlay' ? (await Promise.all(eng.meta.layersOf(c.imageId).map((l) => eng.images.snapshots.layerDir(l.chainId)))).reverse().join(':') : '';
  return {
    Id: c.id,
    Created: c.created,
    Path: c.settings.Path,
    Args: c.settings.Args,
    State: { ...state, ...(health ? { Health: health } : {}) },
    Image: c.imageId,
    ResolvConfPath: files.resolvConf,
    HostnamePath: files.hostname,
    HostsPath: files.hosts,
    LogPath: c.settings.HostConfig.LogConfig?.Type === 'none' ? '' : files.log,
    Name: `/${c.name}`,
    RestartCount: restartCount,
    Driver: layer?.driver ?? '',
    Platform: c.settings.Platform,
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: null,
    HostConfig: c.settings.HostConfig,
    GraphDriver: {
      Name: layer?.driver ?? '',
      Data: layer ? { LowerDir: lowers, MergedDir: layer.merged, UpperDir: layer.upper, WorkDir: layer.work } : null,
    },
    Mounts: c.settings.Mounts.map(({ Options: _o, NoCopy: _n, ...m }) => m),
    Config: c.settings.Config,
    NetworkSettings: networkSettings(eng, c, st.Pid),
  };
}
