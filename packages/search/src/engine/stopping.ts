import { decideAll } from '../stopping/index.ts';
import type { ActiveStudy, LiveTrial } from './active-study.ts';
import { BASELINE_STOPPING_RULES, isBaselineTrial } from './baseline.ts';
import type { EngineContext } from './context.ts';
import { keepForLateEpochs } from './late-epochs.ts';
import { finishTrial } from './trial-outcomes.ts';

/**
 * Stopping trials: on the stopping rules' decision, on request, and when their study ends early.
 * A queued trial ends here and now; a running one is told to stop, and ends when its worker says so.
 */

/** Applies the study's stopping rules to a running trial that just reported an epoch. */
export async function applyRules(ctx: EngineContext, trialId: string): Promise<void> {
  const study = ctx.trialToStudy.get(trialId) as ActiveStudy;
  const trial = study.trials.get(trialId) as LiveTrial;
  const rules = isBaselineTrial(trial) ? study.rules.filter((r) => BASELINE_STOPPING_RULES.has(r.name)) : study.rules;
  if (trial.pendingStop || trial.state !== 'running' || rules.length === 0) return;
  const decision = decideAll(
    rules,
    trial,
    study.history().filter((t) => t !== trial),
  );
  if (decision.stop)
    await stopTrialNow(
      ctx,
      study,
      trial,
      decision.reason.startsWith(decision.rule) ? decision.reason : `${decision.rule}: ${decision.reason}`,
    );
}

export async function stopTrialNow(ctx: EngineContext, study: ActiveStudy, trial: LiveTrial, reason: string): Promise<void> {
  if (trial.pendingStop) return;
  // Before any await: a stop of earlier deliveries only, sent meanwhile, must not land after this one (attempts.ts).
  trial.stopAsked = true;
  ctx.log.info({ studyId: study.id, trial: trial.number, reason }, 'stopping trial');
  if (trial.state === 'queued') {
    await ctx.bus.stop(trial.id, reason);
    await finishTrial(ctx, study, trial, { state: 'stopped', reason });
    return;
  }
  // Marked only once stored and sent: if either fails, the report batch is delivered again and the rule decides again.
  await ctx.store.setTrialReason(trial.id, reason);
  await ctx.bus.stop(trial.id, reason);
  trial.pendingStop = reason;
  trial.reason = reason;
  ctx.emit({ studyId: study.id, type: 'trial-stopping', trialNumber: trial.number });
}

/** Stops one trial of a running study. Returns false when it is not running or queued. */
export async function stopTrial(ctx: EngineContext, studyId: string, number: number, reason: string): Promise<boolean> {
  const study = ctx.active.get(studyId);
  const trial = study && [...study.trials.values()].find((t) => t.number === number);
  if (!study || !trial || (trial.state !== 'queued' && trial.state !== 'running')) return false;
  await stopTrialNow(ctx, study, trial, reason);
  return true;
}

/** Stops a running study and every trial it has in flight. Returns false when it is not running here. */
export async function stopStudy(ctx: EngineContext, studyId: string, reason: string): Promise<boolean> {
  const study = ctx.active.get(studyId);
  if (!study) return false;
  await study.serial(async () => {
    // Stored first: a keyed resubmit that finds the study inactive must find it stopped.
    await ctx.store.setStudyState(studyId, 'stopped', reason);
    ctx.active.delete(studyId);
    keepForLateEpochs(ctx, study);
    for (const trial of study.inFlight()) await stopTrialNow(ctx, study, trial, reason);
  });
  ctx.emit({ studyId, type: 'study' });
  return true;
}
