import { describe, expect, it } from 'vitest';
import { IdempotencyKeyError, studyIdForKey } from './idempotency.ts';

describe('studyIdForKey', () => {
  it('gives the same id for the same key, and another for another key', () => {
    const id = studyIdForKey('f47ac10b-58cc-4372-a567-0e02b2c3d479');
    expect(id).toMatch(/^st_[A-Za-z0-9_-]{16}$/);
    expect(studyIdForKey('f47ac10b-58cc-4372-a567-0e02b2c3d479')).toBe(id);
    expect(studyIdForKey('another')).not.toBe(id);
  });

  it('says what is wrong with a refused key without echoing bytes a header may have mangled', () => {
    const why = (key: string) => {
      try {
        studyIdForKey(key);
      } catch (err) {
        expect(err).toBeInstanceOf(IdempotencyKeyError);
        return (err as Error).message.replace(/^.*\(e\.g\. a UUID\): /, '');
      }
    };
    expect(why('')).toBe('it is empty');
    expect(why('x'.repeat(300))).toBe('it has 300');
    expect(why('has space')).toBe('character 4 is a space');
    // é sent in a header arrives as two Latin-1 characters (Ã©): not shown, only placed.
    expect(why('café\u00c3\u00a9')).toBe('character 4 is a non-ASCII character');
    expect(why('tab\there')).toBe('character 4 is a control character');
  });
});
