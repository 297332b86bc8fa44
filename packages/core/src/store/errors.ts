import { DrizzleQueryError } from 'drizzle-orm/errors';

/**
 * An error from the Store. `code` is the underlying one when there is one: a PostgreSQL SQLSTATE
 * (e.g. '23503') or a Node socket error ('ECONNREFUSED', 'ECONNRESET', ...), so callers can tell a
 * briefly unreachable server (retry) from bad input.
 */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  readonly code: string | undefined;

  constructor(message: string, options?: { cause?: unknown; code?: string | undefined }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = options?.code ?? codeOf(options?.cause);
  }
}

/** The driver error under drizzle's wrapper, which carries the whole query and every parameter. */
export function rootCause(err: unknown): unknown {
  return err instanceof DrizzleQueryError && err.cause !== undefined ? err.cause : err;
}

export function codeOf(err: unknown): string | undefined {
  const root = rootCause(err);
  const code = root !== null && typeof root === 'object' ? (root as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Rethrows a failure of `operation` as a StoreError with a short message: drizzle's own message
 * lists every bind parameter, which for a batch of epochs is megabytes.
 */
export function wrapFailure(operation: string, err: unknown): never {
  if (err instanceof StoreError) throw err;
  const root = rootCause(err);
  const message = root instanceof Error ? root.message : String(root);
  throw new StoreError(`${operation} failed: ${message}`, { cause: root });
}
