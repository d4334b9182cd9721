import { existsSync, mkdirSync, statSync } from 'node:fs';
import { HakoError } from '../../common/errors.ts';
import { atomicWriteFile } from '../../common/fs.ts';
import { resolveInRoot } from '../../common/in-root.ts';
import type { Spec } from '../../runtime/spec-types.ts';
import { buildContainerSpec } from '../container-spec.ts';
import type { ContainerEngine } from './engine.ts';
import { writeEtcFiles } from './etc-files.ts';
import { toResolved } from './mounts.ts';
import { INIT_PATH } from './native-paths.ts';
import type { Container } from './record.ts';
import { networkNamespacePath, peerLines } from './network.ts';

/**
 * Everything a start needs on disk: the root file system mounted, the /etc files, the
 * working directory, missing bind sources, and the OCI bundle
 * (ROOT/containers/ID/config.json). Returns the spec.
 */
export async function prepareBundle(eng: ContainerEngine, c: Container): Promise<Spec> {
  const files = eng.files(c.id);
  const rootfs = await eng.images.snapshots.mount(c.id);
  const { Config: config, HostConfig: host } = c.settings;
  writeEtcFiles(files, config, host, peerLines(eng, c));
  const netns = networkNamespacePath(eng, c);
  setupWorkingDirectory(rootfs, config.WorkingDir);
  // new volumes took the image's content at create (createContainer), as Docker's do
  for (const m of c.settings.Mounts) {
    if (m.Type === 'bind' && !existsSync(m.Source)) {
      // -v creates a missing host directory, as Docker does
      mkdirSync(m.Source, { recursive: true, mode: 0o755 });
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
    ...(netns ? { networkNamespacePath: netns } : {}),
  });
  atomicWriteFile(files.bundleConfig, JSON.stringify(spec), 0o600);
  return spec;
}

/**
 * Docker's SetupWorkingDirectory: a missing working directory is made in the root file
 * system (0755, root's), before the mounts; one that is not a directory is an error.
 */
function setupWorkingDirectory(rootfs: string, workingDir: string): void {
  if (!workingDir) return;
  const path = resolveInRoot(rootfs, workingDir);
  try {
    mkdirSync(path, { recursive: true, mode: 0o755 });
  } catch (err) {
    let isDir = true;
    try {
      isDir = statSync(path).isDirectory();
    } catch {
      // not there at all: the mkdir's own error says why
    }
    if (!isDir) throw new HakoError('invalid-argument', `Cannot mkdir: ${workingDir} is not a directory`);
    throw new HakoError('system', `create the working directory ${workingDir}: ${(err as Error).message}`);
  }
}
