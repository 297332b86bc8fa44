/**
 * Why a study failed, in one line a user can act on: trials that fail at setup usually fail for
 * one reason, so identical reasons are grouped and the most common one is shown with its count.
 */

/** The suffix of a failure that came after a stop request (trial-outcomes.ts, the command runner's outcome). */
const ASKED_TO_STOP = / \(after it was asked to stop: [\s\S]*\)$/;

/** Reasons longer than this are cut: a stderr tail belongs on the trial's page, not in the study's reason. */
const MAX_REASON_CHARS = 400;

/**
 * `all 8 trials failed: <reason>` when every trial failed (`all`), `5 trials in a row failed:
 * <reason>` (`{ inARowLimit: 5 }`), `none of the 8 trials reported a finite val_auc_macro: <reason>` (a
 * metric's name), `3 of 8 trials failed: <reason>` (some of a study's trials, `{ of: 8 }`), or
 * `all 6 trials diverged: <what diverged>` (`{ diverged: 6, of: 6, metric }`);
 * when the reasons differ, the most common one with its count (`; 3 of them: <reason> (and 2
 * other reasons)`).
 */
export function describeFailures(
  reasons: readonly (string | undefined)[],
  how: 'all' | { inARowLimit: number } | { noValueOf: string } | { of: number } | { diverged: number; of: number; metric: string },
): string {
  const counts = new Map<string, number>();
  for (const r of reasons) {
    // A trial that failed the same way while the study was stopping it says so in a suffix: the same reason still.
    const key = r?.trim().replace(ASKED_TO_STOP, '') || 'no reason given';
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  let top = 'no reason given';
  let topCount = 0;
  // Ties go to the reason seen first.
  for (const [reason, n] of counts) {
    if (n > topCount) {
      top = reason;
      topCount = n;
    }
  }
  const head =
    how === 'all'
      ? reasons.length === 1
        ? 'its one trial failed'
        : `all ${reasons.length} trials failed`
      : 'inARowLimit' in how
        ? // More than the limit when trials ended together: said beside it, so the count does not read as a misread limit.
          `${reasons.length} trials in a row failed${reasons.length > how.inARowLimit ? ` (the limit, budget.max_consecutive_failures, is ${how.inARowLimit})` : ''}`
        : 'diverged' in how
          ? how.diverged === how.of
            ? `${how.of === 1 ? 'its one trial' : `all ${how.of} trials`} diverged`
            : `${how.diverged === 1 ? 'its one trial' : `all ${how.diverged} trials`} with a ${how.metric} to rank diverged (the other ${how.of - how.diverged} failed or reported no finite ${how.metric})`
          : 'of' in how
            ? `${reasons.length} of ${how.of} trials failed`
            : reasons.length === 1
              ? `its one trial reported no finite ${how.noValueOf}`
              : `none of the ${reasons.length} trials reported a finite ${how.noValueOf}`;
  const shown = top.length > MAX_REASON_CHARS ? `${top.slice(0, MAX_REASON_CHARS - 1)}…` : top;
  if (counts.size <= 1) return `${head}: ${shown}`;
  const others = counts.size - 1;
  return `${head}; ${topCount} of them: ${shown} (and ${others} other reason${others === 1 ? '' : 's'})`;
}
