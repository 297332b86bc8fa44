import type { SearchSpec, Suggestion, TrialView } from '@sweepd/core';

/**
 * The baseline trial: the config the user runs today (the spec's `baseline`), run first, as trial
 * 0, before any suggestion of the strategy, so every answer can be read against it. It counts
 * toward max_trials like any trial, and strategies see it in their history. It is created only
 * while the study has no trial at all, so a restarted daemon (which reloads the stored trials)
 * never creates it twice.
 */
export function baselineSuggestion(spec: SearchSpec): Suggestion | undefined {
  return spec.baseline ? { params: { ...spec.baseline }, tags: { baseline: true } } : undefined;
}

export function isBaselineTrial(trial: Pick<TrialView, 'tags'>): boolean {
  return trial.tags?.baseline === true;
}

/**
 * Stopping rules that apply to the baseline trial. The user wants their config's whole curve to
 * compare with, so rules that stop a trial for ranking low (median, ASHA, hyperband, learning
 * curve) or for its weights (weight-stall, dead-units) leave it running; only divergence (NaN or
 * exploding loss, from which no epoch recovers) stops it.
 */
export const BASELINE_STOPPING_RULES: ReadonlySet<string> = new Set(['divergence']);
