import { FINISHED_TRIAL_STATES, type FinalReport, noAucClasses, objectiveNeverReported, type TrialView } from '@sweepd/core';
import type { ActiveStudy, LiveTrial } from './active-study.ts';
import type { EngineContext } from './context.ts';
import { epochsText, lateStopReason } from './late-stop.ts';

/** How a trial ended, as its final report (or the engine) says. */
export type Outcome = Pick<FinalReport, 'state' | 'reason' | 'notes'>;

export interface Ending {
  study: ActiveStudy;
  trial: LiveTrial;
  outcome: Outcome;
}

/** Why a trial that ran to its end has no value of `metric`, or undefined when it has one. */
export function missingObjective(trial: TrialView, metric: string): string | undefined {
  if (trial.value !== undefined && Number.isFinite(trial.value)) return undefined;
  const seen = new Set<string>();
  for (const record of trial.epochs) for (const name of Object.keys(record.metrics)) seen.add(name);
  if (seen.has(metric)) return `objective metric '${metric}' was never finite (NaN or infinite at every epoch)`;
  const last = trial.epochs.reduce<TrialView['epochs'][number] | undefined>((a, e) => (a && a.epoch > e.epoch ? a : e), undefined);
  return objectiveNeverReported(metric, seen, trial.epochs.length, noAucClasses(last?.notes));
}

export function finishTrial(ctx: EngineContext, study: ActiveStudy, trial: LiveTrial, outcome: Outcome): Promise<void> {
  return finishTrials(ctx, [{ study, trial, outcome }]);
}

/** Whether the trial reported the last epoch of its budget: it trained in full, whatever came after. */
export function reachedLastEpoch(trial: TrialView, maxEpochs: number): boolean {
  return trial.epochs.some((e) => e.epoch >= maxEpochs);
}

/** Whether it reported the last epoch of its budget and a finite objective: it may complete on that alone. */
export function trainedWithValue(trial: TrialView, maxEpochs: number): boolean {
  return reachedLastEpoch(trial, maxEpochs) && Number.isFinite(trial.value ?? Number.NaN);
}

/**
 * How a trial that trained in full but whose end never came is completed: its end went with its
 * worker, not its training, as with a script that hangs after its last epoch. `lostWhen` says how
 * ('before the daemon went down').
 */
export function unheardEnd(maxEpochs: number, lostWhen: string): Outcome & { reason: string } {
  return { state: 'completed', reason: `finished its ${epochsText(maxEpochs)}; its end was not heard ${lostWhen}` };
}

/** A failure's reason with the stop the trial had been asked for, unless the runner said it already. */
function withStopAsked(reason: string, stop: string): string {
  return reason.includes(stop) ? reason : `${reason} (after it was asked to stop: ${stop})`;
}

/** Ends trials in one store write. Trials that had already ended stay as they were. */
export async function finishTrials(ctx: EngineContext, entries: readonly Ending[]): Promise<void> {
  const resolved = entries.map(({ study, trial, outcome }) => {
    // A stop decided here is the reason that counts, whatever the worker said while winding down,
    // unless the trial had trained every epoch of its budget by then: that is a completed trial.
    const trainedInFull = outcome.state === 'completed' && reachedLastEpoch(trial, study.spec.budget.max_epochs);
    const stopCounts = trial.pendingStop !== undefined && !trainedInFull;
    // A trial that failed while stopping (its script crashed on its own) keeps why it failed, and says what it was asked.
    let reason = stopCounts
      ? outcome.state === 'failed' && outcome.reason
        ? withStopAsked(outcome.reason, trial.pendingStop as string)
        : trial.pendingStop
      : trial.pendingStop !== undefined
        ? lateStopReason(study.spec.budget.max_epochs, trial.pendingStop)
        : outcome.reason;
    let state = stopCounts && outcome.state !== 'failed' ? 'stopped' : outcome.state;
    // Whatever the runner says, a trial with no value of the objective has not completed: a
    // study of such trials would otherwise end "completed" with nothing to rank.
    const missing = state === 'completed' ? missingObjective(trial, study.spec.objective.metric) : undefined;
    if (missing) {
      state = 'failed';
      // A stop on its way (a divergence, say) is why there is no value: it stays in the reason.
      reason = trial.pendingStop !== undefined ? `${trial.pendingStop}; ${missing}` : missing;
    }
    return { study, trial, state, reason, notes: outcome.notes };
  });
  const changed = new Set(
    await ctx.store.finishTrials(
      resolved.map(({ trial, state, reason, notes }) => ({
        trialId: trial.id,
        state,
        ...(reason ? { reason } : {}),
        ...(notes ? { notes } : {}),
      })),
    ),
  );
  for (const { study, trial, state, reason } of resolved) {
    if (!changed.has(trial.id) && FINISHED_TRIAL_STATES.has(trial.state)) continue;
    study.setState(trial, state);
    ctx.trialToStudy.delete(trial.id);
    if (reason) trial.reason = reason;
    study.noteEnded(trial);
    delete trial.pendingStop;
    ctx.log.info({ studyId: study.id, trial: trial.number, state, reason, value: trial.value }, 'trial finished');
    ctx.emit({ studyId: study.id, type: 'trial-finished', trialNumber: trial.number });
  }
}
