import { createHash } from 'node:crypto';

/**
 * Idempotent study submission: a client that sends the same key again (say, after losing the
 * reply to its first request) gets the study the first request created instead of a second one.
 *
 * The key is mapped to the study's id, so the Store's primary key is what makes a creation happen
 * once, across retries, crashes and restarts, with no extra table.
 */

/** What a key may be: 1 to 255 visible ASCII characters (a UUID is typical). */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

export class IdempotencyKeyError extends Error {
  override readonly name = 'IdempotencyKeyError';
}

/** The same key was used before for a different spec. */
export class IdempotencyConflictError extends Error {
  override readonly name = 'IdempotencyConflictError';
  constructor(readonly studyId: string) {
    super(`this idempotency key was already used to submit a different spec (study ${studyId}); use a new key for a new study`);
  }
}

/** The study id a key stands for: `st_` and 16 url-safe characters of its SHA-256 (96 bits). */
export function studyIdForKey(key: string): string {
  if (!IDEMPOTENCY_KEY_PATTERN.test(key)) {
    throw new IdempotencyKeyError(`idempotency key must be 1 to 255 visible ASCII characters (e.g. a UUID): ${keyProblem(key)}`);
  }
  return `st_${createHash('sha256').update(key).digest('base64url').slice(0, 16)}`;
}

/** What is wrong with a refused key, without echoing bytes a header may have mangled (non-ASCII arrives as Latin-1). */
function keyProblem(key: string): string {
  if (key.length === 0) return 'it is empty';
  if (key.length > 255) return `it has ${key.length}`;
  const at = [...key].findIndex((c) => c < '!' || c > '~');
  const c = [...key][at] as string;
  const what = c === ' ' ? 'a space' : c.charCodeAt(0) < 0x20 || c === '\x7f' ? 'a control character' : 'a non-ASCII character';
  return `character ${at + 1} is ${what}`;
}
