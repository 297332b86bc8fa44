import { randomBytes } from 'node:crypto';

/** `prefix` + 12 url-safe random characters (72 random bits): short enough to read, too many to collide. */
export function newId(prefix: 'st' | 'tr'): string {
  return `${prefix}_${randomBytes(9).toString('base64url')}`;
}
