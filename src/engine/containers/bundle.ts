import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, statSync } from 'node:fs';
import { HakoError } from '../../common/errors.ts';
import { atomicWriteFile } from '../../common/fs.ts';
import { resolveInRoot } from '../../common/in-root.ts';
import type { Spec } from '../../runtime/spec-types.ts';
import { buildContainerSpec } from '../container-spec.ts';
import { Volumes } from '../volumes.ts';
import type { ContainerEngine } from './engine.ts';
import { writeEtcFiles } from './etc-files.ts';
import { toResolved } from './mounts.ts';
import { INIT_PATH } from './native-paths.ts';
import type { Container } from './record.ts';

/**
 * Everything a start needs on disk: the root file system mounted, the /etc files, the
 * volumes filled, and the OCI bundle (ROOT/containers/ID/config.json). Returns the spec.
 */
export async function prepareBundle(eng: ContainerEngine, c: Container): Promise<Spec> {
  const files = eng.files(c.id);
  const rootfs = await eng.images.snapshots.mount(c.id);
  const { Config: config, HostConfig: host } = c.settings;
  writeEtcFiles(files, config, host);
  const volumes = new Volumes(eng.meta, eng.paths.volumes);
  for (const m of c.settings.Mounts) {
    if (m.Type === 'bind') {
      if (!existsSync(m.Source)) {
        // -v creates a missing host directory, as Docker does
        mkdirSync(m.Source, { recursive: true, mode: 0o755 });
      }
    } else if (m.Type === 'volume' && m.Name && !m.NoCopy && volumes.isEmpty(m.Name)) {
      populateVolume(rootfs, m.Destination, volumes.path(m.Name));
    }
  }
  const spec = buildContainerSpec({
    id: c.id,
    config,
    hostConfig: host,
    rootfs,
    etcFiles: { hosts: files.hosts, hostname: files.hostname, resolvConf: files.resolvConf },
    mounts: c.settings.Mounts.map(toResolved),
    ...(host.Init ? { initPath: INIT_PATH } : {}),
    cgroupsPath: `/hako/${c.id}`,
  });
  atomicWriteFile(files.bundleConfig, JSON.stringify(spec), 0o600);
  return spec;
}

/**
 * A new volume takes the image's content at its mount point (Docker's copy-up): the
 * directory's files with owners, modes and times, and the directory's own owner and mode.
 */
function populateVolume(rootfs: string, destination: string, volumeDir: string): void {
  const src = resolveInRoot(rootfs, destination);
  let st;
  try {
    st = lstatSync(src);
  } catch {
    return; // nothing in the image there
  }
  if (!st.isDirectory()) return;
  const r = spawnSync('cp', ['-a', '--', `${src}/.`, volumeDir], { encoding: 'utf8' });
  if (r.status !== 0) throw new HakoError('system', `copy the image's ${destination} into its volume: ${(r.stderr ?? '').trim()}`);
  const vst = statSync(volumeDir);
  if (vst.uid !== st.uid || vst.gid !== st.gid || (vst.mode & 0o7777) !== (st.mode & 0o7777)) {
    chownSync(volumeDir, st.uid, st.gid);
    chmodSync(volumeDir, st.mode & 0o7777);
  }
}
