/**
 * One error type for all of hako. `code` is stable (the API maps it to HTTP statuses,
 * tests match on it); `message` is what a person reads after "hako: ".
 */
export type ErrorCode =
  | 'invalid-argument' // bad CLI usage or a bad value given by the user
  | 'invalid-config' // config.json (or another input document) is wrong
  | 'not-found'
  | 'already-exists'
  | 'invalid-state' // the operation does not fit the object's current state
  | 'in-use' // something still uses it (an image by a container, a volume by a container)
  | 'unsupported'
  | 'launch-failed' // the native executor reported a failing step
  | 'hook-failed'
  | 'unauthorized' // a registry or token server refused the credentials (or their absence)
  | 'registry' // a registry answered with an error hako cannot act on
  | 'system'; // an unexpected error from the OS

export class HakoError extends Error {
  readonly code: ErrorCode;
  /** errno reported by the native side, when there was one */
  readonly errno: number | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; errno?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HakoError';
    this.code = code;
    this.errno = options?.errno;
  }
}

export function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code === code;
}

/** Turns a Node system error into a message naming the operation and path. */
export function systemError(err: unknown, what: string): HakoError {
  if (err instanceof HakoError) return err;
  const e = err as NodeJS.ErrnoException;
  const detail = e?.code ? `${e.code}${e.message ? ` (${e.message.replace(/^[A-Z]+: /, '')})` : ''}` : String(err);
  return new HakoError('system', `${what}: ${detail}`, { cause: err });
}
