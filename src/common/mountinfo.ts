import { readFileSync } from 'node:fs';

/** One line of /proc/self/mountinfo (proc(5)). */
export interface MountEntry {
  /** the path inside the filesystem that is mounted here ("/" for a whole filesystem) */
  root: string;
  mountPoint: string;
  fstype: string;
  superOptions: string[];
}

export function readMountinfo(text = readFileSync('/proc/self/mountinfo', 'utf8')): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const [fstype = '', , superOpts = ''] = line.slice(sep + 3).split(' ');
    out.push({ root: unescape(left[3] ?? ''), mountPoint: unescape(left[4] ?? ''), fstype, superOptions: superOpts.split(',') });
  }
  return out;
}

/** The kernel writes space, tab, newline and backslash in paths as octal escapes. */
function unescape(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** The mount that holds path: the last-mounted of the longest matching mount points. */
export function mountOf(path: string, mounts: MountEntry[]): MountEntry | undefined {
  let best: MountEntry | undefined;
  for (const m of mounts) {
    const mp = m.mountPoint;
    const holds = path === mp || mp === '/' || path.startsWith(mp + '/');
    if (holds && (!best || mp.length >= best.mountPoint.length)) best = m;
  }
  return best;
}
