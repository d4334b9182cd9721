import { HakoError } from '../common/errors.ts';

/**
 * Docker's image references (distribution/reference), as far as a local store needs them:
 * `busybox` → `docker.io/library/busybox:latest` (stored), and back to the short
 * "familiar" form for display.
 */
export interface Reference {
  /** domain/path, e.g. docker.io/library/busybox */
  repository: string;
  tag?: string;
  digest?: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$|^sha512:[0-9a-f]{128}$/;
const DOMAIN = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]+)?$|^\[[0-9a-fA-F:.]+\](?::[0-9]+)?$/;

export const DEFAULT_DOMAIN = 'docker.io';

const invalid = (ref: string, why = '') => new HakoError('invalid-argument', `invalid reference format${why ? `: ${why}` : ''}: ${JSON.stringify(ref)}`);

/** Parses and normalises REF; a bare name gets the tag "latest" unless `defaultTag` is false. */
export function parseReference(ref: string, defaultTag = true): Reference {
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw invalid(ref);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw invalid(ref);
  }
  if (rest === '' || rest.length > 255) throw invalid(ref);
  const parts = rest.split('/');
  let domain = DEFAULT_DOMAIN;
  const first = parts[0]!;
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase())) {
    if (!DOMAIN.test(first)) throw invalid(ref);
    domain = first;
    parts.shift();
  }
  if (domain === 'index.docker.io') domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && parts.length === 1) parts.unshift('library');
  const path = parts.join('/');
  if (path !== path.toLowerCase()) throw invalid(ref, `repository name (${path}) must be lowercase`);
  if (!parts.every((p) => COMPONENT.test(p))) throw invalid(ref);
  if (tag === undefined && digest === undefined && defaultTag) tag = 'latest';
  return { repository: `${domain}/${path}`, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

export function formatReference(r: Reference): string {
  return `${r.repository}${r.tag !== undefined ? `:${r.tag}` : ''}${r.digest !== undefined ? `@${r.digest}` : ''}`;
}

/** The normalised full name, e.g. docker.io/library/busybox:latest. */
export function normalizeName(ref: string): string {
  return formatReference(parseReference(ref));
}

/** docker.io/library/busybox → busybox; docker.io/foo/bar → foo/bar. */
export function familiarRepository(repository: string): string {
  if (!repository.startsWith(`${DEFAULT_DOMAIN}/`)) return repository;
  const rest = repository.slice(DEFAULT_DOMAIN.length + 1);
  return rest.startsWith('library/') && rest.split('/').length === 2 ? rest.slice('library/'.length) : rest;
}

/** A stored name in Docker's short form: busybox:latest. Names that do not parse are shown as they are. */
export function familiarName(name: string): string {
  try {
    const r = parseReference(name, false);
    return formatReference({ ...r, repository: familiarRepository(r.repository) });
  } catch {
    return name;
  }
}

/** Splits a stored name into what `images` shows: repository, tag (or <none>) and digest (or <none>). */
export function splitName(name: string): { repository: string; tag: string; digest: string } {
  try {
    const r = parseReference(name, false);
    return { repository: familiarRepository(r.repository), tag: r.tag ?? '<none>', digest: r.digest ?? '<none>' };
  } catch {
    return { repository: name, tag: '<none>', digest: '<none>' };
  }
}
