import { describe, expect, it } from 'vitest';
import { LeaderboardQuery, StudyListQuery, TrialParams } from '../http/schemas.ts';
import { API_LIMITS } from './limits.ts';

// The CLI checks what it sends against API_LIMITS; these are the API's own schemas, which must take
// each largest value and refuse the next one (else the CLI refuses what the daemon takes, or sends
// what it refuses).
describe('API_LIMITS', () => {
  const takes = (schema: { safeParse(v: unknown): { success: boolean } }, value: Record<string, string>) => schema.safeParse(value).success;

  it('are the largest limit and offset the study list and the leaderboard take', () => {
    for (const [schema, max] of [
      [StudyListQuery, API_LIMITS.ls],
      [LeaderboardQuery, API_LIMITS.leaderboard],
    ] as const) {
      for (const key of ['limit', 'offset'] as const) {
        expect(takes(schema, { [key]: String(max[key]) }), `${key} ${max[key]}`).toBe(true);
        expect(takes(schema, { [key]: String(max[key] + 1) }), `${key} ${max[key] + 1}`).toBe(false);
      }
    }
  });

  it('is the largest trial number a trial route takes', () => {
    expect(takes(TrialParams, { id: 'st_a', n: String(API_LIMITS.trialNumber) })).toBe(true);
    expect(takes(TrialParams, { id: 'st_a', n: String(API_LIMITS.trialNumber + 1) })).toBe(false);
  });
});
