import { HakoError } from '../../../common/errors.ts';
import { sleepSync } from '../../../common/fs.ts';
import { readCg, readKeyValues, writeCg } from '../files.ts';

/** cgroup.freeze asks; cgroup.events' "frozen 1" says every task has stopped. */
export function freeze(dir: string): void {
  writeCg(dir, 'cgroup.freeze', '1', 'pause');
  if (!waitFrozen(dir, '1')) {
    writeCg(dir, 'cgroup.freeze', '0', 'pause');
    throw new HakoError('system', `pause: ${dir} did not freeze`);
  }
}

export function thaw(dir: string): void {
  writeCg(dir, 'cgroup.freeze', '0', 'resume');
  waitFrozen(dir, '0');
}

function waitFrozen(dir: string, want: string): boolean {
  for (let i = 0; i < 2000; i++) {
    if (readKeyValues(dir, 'cgroup.events').get('frozen') === want) return true;
    sleepSync(1);
  }
  return false;
}

export function isFrozen(dir: string): boolean {
  return readCg(dir, 'cgroup.freeze') === '1';
}
