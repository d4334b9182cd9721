import { createHash, type Hash } from 'node:crypto';
import { HakoError } from '../common/errors.ts';

/**
 * Content digests as the OCI image spec writes them: `algorithm:hex`. Only sha256 and
 * sha512 with lowercase hex of the exact length are accepted, so a digest can be used
 * as a file name (blobs/sha256/<hex>) without any further escaping: nothing else gets in.
 */
export type Algorithm = 'sha256' | 'sha512';

export const DEFAULT_ALGORITHM: Algorithm = 'sha256';

const HEX_LENGTH: Record<Algorithm, number> = { sha256: 64, sha512: 128 };
const DIGEST_RE = /^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$/;

export interface ParsedDigest {
  algorithm: Algorithm;
  hex: string;
  /** the whole `algorithm:hex` string */
  digest: string;
}

export function isAlgorithm(s: unknown): s is Algorithm {
  return s === 'sha256' || s === 'sha512';
}

export function isDigest(s: unknown): s is string {
  return typeof s === 'string' && DIGEST_RE.test(s);
}

/** Quotes untrusted input for a message without letting a huge value flood it. */
export function quote(s: unknown): string {
  const text = typeof s === 'string' ? s : String(s);
  return JSON.stringify(text.length > 150 ? `${text.slice(0, 150)}…` : text);
}

/** Why `s` is not a valid digest, or undefined if it is one. */
export function digestProblem(s: unknown): string | undefined {
  if (typeof s !== 'string') return `a digest must be a string, got ${s === null ? 'null' : typeof s}`;
  const colon = s.indexOf(':');
  if (colon < 0) return 'a digest looks like sha256:<64 hex digits>';
  const alg = s.slice(0, colon);
  const hex = s.slice(colon + 1);
  if (!isAlgorithm(alg)) return `unsupported algorithm ${quote(alg)} (hako supports sha256 and sha512)`;
  if (hex.length !== HEX_LENGTH[alg]) return `${alg} needs ${HEX_LENGTH[alg]} hex digits, got ${hex.length}`;
  if (!/^[0-9a-f]*$/.test(hex)) return 'the hex digits must be lowercase 0-9 and a-f';
  return undefined;
}

/** Parses `algorithm:hex`; `what` names the input in the error (e.g. a field). */
export function parseDigest(s: unknown, what = 'digest'): ParsedDigest {
  if (!isDigest(s)) throw new HakoError('invalid-argument', `${what}: invalid digest ${quote(s)}: ${digestProblem(s)}`);
  const colon = s.indexOf(':');
  return { algorithm: s.slice(0, colon) as Algorithm, hex: s.slice(colon + 1), digest: s };
}

/** Validates and returns the digest unchanged. */
export function validateDigest(s: unknown, what = 'digest'): string {
  return parseDigest(s, what).digest;
}

export function newHash(algorithm: Algorithm = DEFAULT_ALGORITHM): Hash {
  return createHash(algorithm);
}

export function digestOf(data: Uint8Array | string, algorithm: Algorithm = DEFAULT_ALGORITHM): string {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}

/** Docker's short id: the first 12 hex digits, without the algorithm. */
export function shortId(digest: string): string {
  return parseDigest(digest).hex.slice(0, 12);
}

/**
 * Chain ids per the OCI image spec: ChainID(L0) = DiffID(L0), ChainID(Ln) =
 * sha256(ChainID(Ln-1) + " " + DiffID(Ln)). A chain id names a layer *and everything
 * under it*, so an unpacked layer keyed by it can be shared by every image with that stack.
 */
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  diffIds.forEach((diffId, i) => {
    validateDigest(diffId, `diff_ids[${i}]`);
    const prev = out[i - 1];
    out.push(prev === undefined ? diffId : digestOf(`${prev} ${diffId}`, 'sha256'));
  });
  return out;
}
