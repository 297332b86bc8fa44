import type { TrialRecord } from '@sweepd/core';

/** Where the command runner left a trial's logs (stdout.log, stderr.log) and on which host. */
export interface LogsPlace {
  dir: string;
  host: string | null;
}

/**
 * Where the command runner left the trial's logs: its end says so, and so does its first epoch, for a
 * trial whose end was never heard (its worker died, then it was stopped or completed on its reports).
 */
export function logsPlace(trial: Pick<TrialRecord, 'notes' | 'epochs'>): LogsPlace | null {
  const first = trial.epochs.reduce<TrialRecord['epochs'][number] | undefined>(
    (a, e) => (a === undefined || e.epoch < a.epoch ? e : a),
    undefined,
  );
  for (const notes of [trial.notes, first?.notes]) {
    if (typeof notes?.trial_dir !== 'string') continue;
    return { dir: notes.trial_dir, host: typeof notes.host === 'string' ? notes.host : null };
  }
  return null;
}
