import { spawn } from 'node:child_process';
import { HakoError } from '../common/errors.ts';

/**
 * A complete copy of the tree SRC at DST (which must not exist): owners, modes,
 * times, xattrs (trusted.* and security.capability too, as root), hard links,
 * symlinks, devices and fifos. Node can neither read xattrs nor make devices, so
 * this is coreutils' `cp -a`; `--reflink=auto` shares the data blocks where the file
 * system can (btrfs, XFS), so the copy fallback costs metadata only there.
 */
export function copyTree(src: string, dst: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('cp', ['-a', '--reflink=auto', '--no-target-directory', '--', `${src}/.`, dst], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', (err) => reject(new HakoError('system', `copy ${src} to ${dst}: cannot run cp: ${err.message}`, { cause: err })));
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new HakoError('system', `copy ${src} to ${dst}: ${stderr.trim().replace(/^cp: /, '') || `cp exited with status ${code}`}`));
    });
  });
}
