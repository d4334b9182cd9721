import { endianness } from 'node:os';
import { HakoError } from '../common/errors.ts';
import { quote } from './digest.ts';
import { isManifestType } from './media-types.ts';

/** The platform object of the OCI image spec (image index entries, image configs). */
export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
  features?: string[];
}

/** Architectures whose variants are ordered versions: a v7 CPU runs v6 and v5 code. */
const DEFAULT_VARIANT: Record<string, string> = { arm64: 'v8', arm: 'v7', amd64: 'v1' };

const ARCH_ALIASES: Record<string, { arch: string; variant?: string }> = {
  x86_64: { arch: 'amd64' },
  'x86-64': { arch: 'amd64' },
  amd64: { arch: 'amd64' },
  aarch64: { arch: 'arm64' },
  arm64: { arch: 'arm64' },
  armhf: { arch: 'arm', variant: 'v7' },
  armel: { arch: 'arm', variant: 'v6' },
  i386: { arch: '386' },
  i686: { arch: '386' },
  x86: { arch: '386' },
};

const KNOWN_OS = new Set(['linux', 'windows', 'darwin', 'freebsd', 'netbsd', 'openbsd', 'solaris', 'illumos', 'aix']);

/**
 * The canonical form Docker compares: lowercase, `x86_64` → amd64, `aarch64` → arm64,
 * numeric variants as `vN`, arm64 without a variant is v8 and arm is v7; amd64's
 * baseline v1 is written without a variant, as registries list it.
 */
export function normalizePlatform(p: Platform): Platform {
  const os = p.os.toLowerCase() === 'macos' ? 'darwin' : p.os.toLowerCase();
  const alias = ARCH_ALIASES[p.architecture.toLowerCase()];
  const architecture = alias?.arch ?? p.architecture.toLowerCase();
  let variant = (p.variant ?? alias?.variant ?? '').toLowerCase();
  if (architecture in DEFAULT_VARIANT && /^\d/.test(variant)) variant = `v${variant}`;
  if (architecture === 'arm64' && (variant === '' || variant === 'v8.0')) variant = 'v8';
  if (architecture === 'arm' && variant === '') variant = 'v7';
  if (architecture === 'amd64' && variant === 'v1') variant = '';
  const out: Platform = { ...p, os, architecture };
  if (variant) out.variant = variant;
  else delete out.variant;
  return out;
}

export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

/** The platform this process runs on, in OCI terms. */
export function hostPlatform(): Platform {
  const map: Record<string, string> = {
    x64: 'amd64',
    arm64: 'arm64',
    arm: 'arm',
    ia32: '386',
    ppc64: endianness() === 'LE' ? 'ppc64le' : 'ppc64',
    s390x: 's390x',
    riscv64: 'riscv64',
    loong64: 'loong64',
    mips: 'mips',
    mipsel: 'mipsle',
  };
  const p: Platform = { os: 'linux', architecture: map[process.arch] ?? process.arch };
  if (p.architecture === 'arm') {
    const v = (process.config.variables as unknown as Record<string, unknown>)['arm_version'];
    if (typeof v === 'string' || typeof v === 'number') p.variant = `v${v}`;
  }
  return normalizePlatform(p);
}

/**
 * Parses `os/arch[/variant]` as given to `--platform`. A single word is an OS (with the
 * host's architecture) when it names one, else an architecture on linux, as Docker does.
 */
export function parsePlatform(spec: string): Platform {
  const parts = spec.trim().toLowerCase().split('/');
  const bad = () =>
    new HakoError('invalid-argument', `invalid platform ${quote(spec)}: use os/arch[/variant], e.g. linux/amd64, linux/arm64/v8 or linux/arm/v7`);
  if (parts.length > 3 || parts.some((s) => !/^[a-z0-9][a-z0-9._-]*$/.test(s))) throw bad();
  const [a, b, c] = parts as [string, string?, string?];
  if (b === undefined) {
    if (KNOWN_OS.has(a)) return normalizePlatform({ ...hostPlatform(), os: a });
    return normalizePlatform({ os: 'linux', architecture: a });
  }
  return normalizePlatform(c === undefined ? { os: a, architecture: b } : { os: a, architecture: b, variant: c });
}

function variantLevel(p: Platform): number | undefined {
  const v = p.variant ?? DEFAULT_VARIANT[p.architecture];
  const m = v === undefined ? null : /^v(\d+(?:\.\d+)?)$/.exec(v);
  return m ? Number(m[1]) : undefined;
}

/**
 * How well `have` serves `wanted`: 0 is an exact match, a positive number a compatible
 * older variant (smaller is closer), undefined no match. Both are normalised first.
 */
export function platformDistance(have: Platform, wanted: Platform): number | undefined {
  const h = normalizePlatform(have);
  const w = normalizePlatform(wanted);
  if (h.os !== w.os || h.architecture !== w.architecture) return undefined;
  if ((h.variant ?? '') === (w.variant ?? '')) return 0;
  const hl = variantLevel(h);
  const wl = variantLevel(w);
  if (!(w.architecture in DEFAULT_VARIANT) || hl === undefined || wl === undefined || hl > wl) return undefined;
  return wl - hl;
}

export function isCompatible(have: Platform, wanted: Platform): boolean {
  return platformDistance(have, wanted) !== undefined;
}

interface IndexEntry {
  mediaType?: string;
  platform?: Platform;
  annotations?: Record<string, string>;
}

// BuildKit stores provenance/SBOM as manifests with platform unknown/unknown: never images.
const isAttestation = (d: IndexEntry) => d.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest';

/** The platforms an index offers, for messages and `docker manifest inspect`-like output. */
export function platformsOf(index: { manifests: readonly IndexEntry[] }): string[] {
  const seen = new Set<string>();
  for (const d of index.manifests) if (d.platform && !isAttestation(d)) seen.add(formatPlatform(normalizePlatform(d.platform)));
  return [...seen];
}

/**
 * Chooses the manifest for `wanted` (default: the host) from an index: the exact variant
 * first, then the closest older compatible one (arm/v6 for an arm/v7 host), the first
 * listed among equals. An entry without a platform is taken only when nothing matches,
 * as containerd does; the caller then checks the image config's platform.
 */
export function selectManifest<D extends IndexEntry>(index: { manifests: readonly D[] }, wanted: Platform | string = hostPlatform()): D {
  const want = typeof wanted === 'string' ? parsePlatform(wanted) : normalizePlatform(wanted);
  let best: D | undefined;
  let bestScore = Infinity;
  let fallback: D | undefined;
  for (const d of index.manifests) {
    if (isAttestation(d)) continue;
    if (!d.platform) {
      if (!fallback && isManifestType(d.mediaType)) fallback = d;
      continue;
    }
    const score = platformDistance(d.platform, want);
    if (score !== undefined && score < bestScore) {
      best = d;
      bestScore = score;
    }
  }
  const found = best ?? fallback;
  if (found) return found;
  const available = platformsOf(index);
  throw new HakoError(
    'not-found',
    `no image for platform ${formatPlatform(want)} in the index; ` +
      (available.length ? `available: ${available.join(', ')} (choose one with --platform)` : 'it lists no platforms'),
  );
}
