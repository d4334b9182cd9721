import { join } from 'node:path';
import { atomicWriteFile } from '../../common/fs.ts';
import { writeSync } from 'node:fs';
import { createContainer as runtimeCreate } from '../../runtime/container-create.ts';
import { releaseInit } from '../../runtime/container-start.ts';
import { prepareBundle } from './bundle.ts';
import type { ContainerEngine } from './engine.ts';
import { clearRuntimeState } from './start.ts';

const CONTROL_FD = 4;

/**
 * The monitor's restart (`hako __relaunch ID`, run by the monitor with the container's
 * stdio as ours and a control channel on fd 4): the old run's runtime state goes, the
 * container is created again — its init becomes the monitor's child, since the monitor
 * is our parent and a subreaper — and announced.
 */
export async function relaunchContainer(eng: ContainerEngine, id: string): Promise<void> {
  const c = eng.resolve(id);
  await clearRuntimeState(eng, c.id);
  await prepareBundle(eng, c);
  const { rec, launch } = await runtimeCreate(eng.runtime, {
    id: c.id,
    bundle: eng.dir(c.id),
    mode: 'create',
    consoleSocket: c.settings.Config.Tty ? 'console.sock' : undefined,
  });
  launch.detach();
  writeSync(CONTROL_FD, `pid ${rec.pid}\n`);
  releaseInit(eng.runtime, rec);
  writeSync(CONTROL_FD, 'started\n');
}
