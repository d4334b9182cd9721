import { parseVerb } from '../args.ts';
import { commitContainer } from '../../engine/image-commit.ts';
import { pauseContainer } from '../../runtime/container-pause.ts';
import { resumeContainer } from '../../runtime/container-resume.ts';
import type { ContainerConfig } from '../../image/manifest.ts';
import { out } from '../output.ts';
import type { ContainerGlobals } from './index.ts';

/** `commit [-a] [-c] [-m] [-p] CONTAINER [REPO[:TAG]]`: prints the new image id. A running container is paused meanwhile (Docker's default). */
export default async function commit(args: string[], g: ContainerGlobals): Promise<number> {
  const { values: o, positionals } = parseVerb(
    'commit',
    args,
    {
      author: { type: 'string', short: 'a' },
      change: { type: 'string', short: 'c', multiple: true },
      message: { type: 'string', short: 'm' },
      pause: { type: 'string', short: 'p' },
    },
    { min: 1, max: 2, usage: 'hako commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]' },
  );
  const c = g.eng.resolve(positionals[0]!);
  const snaps = g.eng.images.snapshots;
  const layer = await snaps.containerLayer(c.id);
  const st = g.eng.state(c);
  const pause = o.pause !== 'false' && st.Running && !st.Paused;
  if (pause) pauseContainer(g.eng.runtime, c.id);
  try {
    const { id } = await commitContainer(g.eng.images, {
      layer,
      baseImageId: c.imageId,
      containerConfig: c.settings.Config as unknown as ContainerConfig,
      changes: o.change ?? [],
      ...(o.message ? { comment: o.message } : {}),
      ...(o.author ? { author: o.author } : {}),
      ...(positionals[1] ? { reference: positionals[1] } : {}),
      containerId: c.id,
    });
    out(`${id}\n`);
  } finally {
    if (pause) resumeContainer(g.eng.runtime, c.id);
  }
  return 0;
}
