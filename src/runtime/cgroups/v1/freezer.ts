import { HakoError } from '../../../common/errors.ts';
import { sleepSync } from '../../../common/fs.ts';
import { readCg, writeCg } from '../files.ts';

/**
 * The kernel may sit in FREEZING while a task resists (vfork, a D state); as runc, write
 * FROZEN again now and then and give up, thawed, after a few seconds.
 */
export function freeze(dir: string): void {
  for (let i = 0; i < 2000; i++) {
    if (i % 50 === 0) writeCg(dir, 'freezer.state', 'FROZEN', 'pause');
    if (readCg(dir, 'freezer.state') === 'FROZEN') return;
    sleepSync(1);
  }
  thaw(dir);
  throw new HakoError('system', `pause: ${dir} did not freeze (stuck in FREEZING)`);
}

export function thaw(dir: string): void {
  writeCg(dir, 'freezer.state', 'THAWED', 'resume');
  for (let i = 0; i < 2000 && readCg(dir, 'freezer.state') !== 'THAWED'; i++) sleepSync(1);
}

export function isFrozen(dir: string): boolean {
  return readCg(dir, 'freezer.state') === 'FROZEN';
}
