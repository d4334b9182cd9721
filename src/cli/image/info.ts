import { parseVerb } from '../args.ts';
import { compileFormat } from '../docker-args.ts';
import { engineInfo } from '../../engine/image-list.ts';
import { out } from '../output.ts';
import type { ImageGlobals } from './index.ts';

/** `hako info [--format F]`: the store, its snapshotter (and why), images, the cgroup layout. */
export default async function info(args: string[], g: ImageGlobals): Promise<number> {
  const { values: o } = parseVerb('info', args, { format: { type: 'string', short: 'f' } }, { min: 0, max: 0, usage: 'hako info [OPTIONS]' });
  const i = await engineInfo(g.svc);
  const view = {
    Images: i.images,
    Driver: i.driver,
    DriverStatus: i.driverReason ? [['Why', i.driverReason]] : [],
    DockerRootDir: i.dataRoot,
    CgroupDriver: i.cgroupDriver,
    CgroupVersion: i.cgroupVersion,
    ServerVersion: '0.1.0',
    OperatingSystem: process.platform,
    Architecture: process.arch,
  };
  if (o.format) {
    out(`${compileFormat(o.format).render(view)}\n`);
    return 0;
  }
  out(
    [
      'Server:',
      ` Images: ${i.images}`,
      ' Server Version: 0.1.0',
      ` Storage Driver: ${i.driver}`,
      ...(i.driverReason ? [`  Why: ${i.driverReason}`] : []),
      ` Cgroup Driver: ${i.cgroupDriver}`,
      ` Cgroup Version: ${i.cgroupVersion}`,
      ` Data Root: ${i.dataRoot}`,
      '',
    ].join('\n'),
  );
  return 0;
}
