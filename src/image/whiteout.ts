import { HakoError } from '../common/errors.ts';

/**
 * OCI layer whiteouts (image-spec layer.md): `.wh.NAME` deletes NAME from the layers
 * below; `.wh..wh..opq` in a directory hides everything below it in that directory.
 */
export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_MARKER = '.wh..wh..opq';
/** AUFS kept its own bookkeeping under this prefix (`.wh..wh.plnk`, `.wh..wh.aufs`); Docker skips it, so do we */
const META_PREFIX = '.wh..wh.';

export type Whiteout =
  | { kind: 'opaque' }
  | { kind: 'remove'; target: string }
  | { kind: 'meta' };

/** What a layer entry's last component means as a whiteout, or undefined for an ordinary name. */
export function parseWhiteout(base: string, entryName: string): Whiteout | undefined {
  if (!base.startsWith(WHITEOUT_PREFIX)) return undefined;
  if (base === OPAQUE_MARKER) return { kind: 'opaque' };
  if (base.startsWith(META_PREFIX)) return { kind: 'meta' };
  const target = base.slice(WHITEOUT_PREFIX.length);
  if (target === '' || target === '.' || target === '..') {
    throw new HakoError('invalid-config', `layer entry "${entryName}": whiteout of "${target}" is not a file name`);
  }
  return { kind: 'remove', target };
}
