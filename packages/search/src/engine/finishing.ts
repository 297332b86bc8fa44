import { divergedNote, nearestName, type StudySummary, type TrialView, takesRank } from '@sweepd/core';
import type { ActiveStudy } from './active-study.ts';
import type { EngineContext } from './context.ts';
import { describeFailures } from './failures.ts';
import { keepForLateEpochs } from './late-epochs.ts';
import { stopInFlight } from './stopping.ts';

/**
 * How a study ends on its own: completed once every trial it will have has finished, or failed,
 * with why, when its trials all failed, when too many failed in a row, or when its strategy broke.
 */

/**
 * Why a study whose trials have all finished failed, or undefined when it completed: it failed if
 * every one of them failed, or if none has a value to rank (every trial stopped before reporting a
 * finite objective: there is no config to hand back, and calling that 'completed' would say
 * otherwise), or if every trial with a value diverged (the values are from before it did: no
 * config of the study trains stably, whether NaN came at epoch 1 or later).
 */
function whyFinishedStudyFailed(history: readonly TrialView[], metric: string): string | undefined {
  const reasons = history.map((t) => t.reason);
  if (history.length > 0 && history.every((t) => t.state === 'failed')) return describeFailures(reasons, 'all');
  if (history.length > 0 && !history.some(takesRank)) return describeFailures(reasons, { noValueOf: metric });
  const ranked = history.filter(takesRank);
  const diverged = ranked.map((t) => trainingDiverged(t, metric));
  if (ranked.length > 0 && diverged.every((d) => d !== undefined))
    return describeFailures(diverged, { diverged: ranked.length, of: history.length, metric });
  return undefined;
}

/**
 * Where the trial's training diverged, at any of its epochs, or undefined: a non-finite training
 * figure (train_loss or another metric that is not the objective nor a val_ one), or weights gone
 * NaN (non_finite_layers). A NaN in its evaluation alone (val_loss or the objective: an empty
 * batch, a log of zero) is not its training diverging, and does not fail a study whose configs
 * trained; one that comes before the training's own (a saturated softmax's val_loss) does not hide it.
 */
function trainingDiverged(trial: TrialView, metric: string): string | undefined {
  for (const e of trial.epochs) {
    const bad = Object.entries(e.metrics).find(
      ([k, v]) => typeof v === 'number' && !Number.isFinite(v) && k !== metric && !k.startsWith('val_'),
    );
    if (bad) return `${bad[0]} is ${bad[1]} at epoch ${e.epoch}`;
    if (e.notes?.non_finite_layers !== undefined) return divergedNote(e);
  }
  return undefined;
}

/** Ends a study whose trials have all finished: failed (see whyFinishedStudyFailed) or completed. */
export async function finishStudy(ctx: EngineContext, study: ActiveStudy): Promise<void> {
  const failed = whyFinishedStudyFailed(study.history(), study.spec.objective.metric);
  if (failed) {
    await failStudy(ctx, study.id, failed);
    return;
  }
  await ctx.store.setStudyState(study.id, 'completed');
  ctx.active.delete(study.id);
  keepForLateEpochs(ctx, study);
  ctx.log.info({ studyId: study.id, trials: study.trials.size }, 'study completed');
  ctx.emit({ studyId: study.id, type: 'study' });
}

/**
 * Studies an earlier sweepd stored as completed although none of their trials has a value to rank
 * (early versions called a study of failures completed): failed now, with why, as finishStudy
 * says it today. Run at start; the summaries' best value spares reading every study's trials, so
 * a study stored completed whose every ranked trial diverged (failed by finishStudy since) is left
 * as it was stored: telling it would mean reading every completed study's epochs at each start.
 */
export async function failCompletedWithoutValue(ctx: EngineContext, summaries: readonly StudySummary[]): Promise<void> {
  for (const summary of summaries) {
    if (summary.state !== 'completed' || summary.best !== undefined) continue;
    const reason = whyFinishedStudyFailed(await ctx.store.listTrials(summary.id), summary.spec.objective.metric);
    if (!reason) continue;
    await ctx.store.setStudyState(summary.id, 'failed', reason);
    ctx.log.warn({ studyId: summary.id, reason }, 'a study stored as completed had no trial to rank: it is failed now');
    ctx.emit({ studyId: summary.id, type: 'study' });
  }
}

/**
 * Fails a study at once when a trial ran its epochs without ever reporting the objective while it
 * reported a metric one typo away from it (`val_auc_mcro` in the spec, `val_auc_macro` from the
 * script): every trial would fail the same way, so the budget is not spent finding that out.
 * Returns whether it did.
 */
export async function failOnMisnamedObjective(ctx: EngineContext, study: ActiveStudy): Promise<boolean> {
  const trial = study.lastEnded;
  const { metric } = study.spec.objective;
  if (trial?.state !== 'failed' || trial.epochs.length === 0 || study.isComplete()) return false;
  // Failed for that reason (objectiveNeverReported's words), not for a crash before its first report of it.
  if (!trial.reason?.startsWith(`objective metric '${metric}' was never reported`)) return false;
  const near = nearestName(metric, [...new Set(trial.epochs.flatMap((e) => Object.keys(e.metrics)))]);
  if (!near) return false;
  await failStudy(
    ctx,
    study.id,
    `objective.metric '${metric}' is never reported: trial ${trial.number} reported '${near}', a near match; ` +
      'fix whichever of the two is misspelled (objective.metric, or the name the script reports) and submit again',
  );
  return true;
}

/**
 * Fails a study whose last `budget.max_consecutive_failures` trials failed (and that has trials
 * still to come): setup failures repeat, so the rest of the budget is not spent on them.
 * Returns whether it did.
 */
export async function failOnRepeatedFailures(ctx: EngineContext, study: ActiveStudy): Promise<boolean> {
  const { failuresInARow } = study;
  if (failuresInARow.length < study.maxConsecutiveFailures || study.isComplete()) return false;
  await failStudy(ctx, study.id, describeFailures(failuresInARow, { inARowLimit: study.maxConsecutiveFailures }));
  return true;
}

/** Stores the study as failed with its reason, lets go of it, and stops the trials it has in flight. */
export async function failStudy(ctx: EngineContext, studyId: string, reason: string): Promise<void> {
  const study = ctx.active.get(studyId);
  ctx.log.error({ studyId, reason }, 'study failed');
  try {
    // Stored first, as in stopStudy; let go of the study even when the store is away.
    await ctx.store.setStudyState(studyId, 'failed', reason);
  } finally {
    ctx.active.delete(studyId);
    if (study) keepForLateEpochs(ctx, study);
  }
  if (study) await stopInFlight(ctx, study, `study failed: ${reason}`);
  ctx.emit({ studyId, type: 'study' });
}
