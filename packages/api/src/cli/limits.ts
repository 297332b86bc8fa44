/**
 * The largest values the API takes in what the client commands send: the query and path schemas of
 * http/schemas.ts (StudyListQuery, LeaderboardQuery, TrialParams), kept apart so that the CLI does
 * not load the HTTP layer's schemas to start.
 * limits.test.ts holds the two together. Checked here, a value out of range is bad usage (exit 2)
 * said once in the user's own words, not a request the daemon refuses (3).
 */
export const API_LIMITS = {
  /** `sweepd ls`: GET /v1/studies?limit&offset. */
  ls: { limit: 100_000, offset: 999_999_999 },
  /** `sweepd leaderboard`: GET /v1/studies/{id}/leaderboard?limit&offset. */
  leaderboard: { limit: 100_000, offset: 100_000 },
  /** `sweepd trial` and `sweepd stop ID TRIAL`: the {n} of /v1/studies/{id}/trials/{n}. */
  trialNumber: 999_999_999,
} as const;
