import { decideAll } from '../stopping/index.ts';
import type { ActiveStudy, LiveTrial } from './active-study.ts';
import { BASELINE_STOPPING_RULES, isBaselineTrial } from './baseline.ts';
import { type EngineContext, errorText, within } from './context.ts';
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
    // Ended here whether or not the stop goes out: should its job run later, its reports are of an
    // ended trial, and stop it then (ingestion.ts). Sent once, then.
    await within(sendStop(ctx, study, trial, reason, { again: false }), STOP_SEND_WAIT_MS);
    await finishTrial(ctx, study, trial, { state: 'stopped', reason });
    return;
  }
  // Stored first: if that fails, the report batch is delivered again and the rule decides again (a
  // request to stop is refused). Once stored, the stop stands, and is sent until the bus takes it.
  await ctx.store.setTrialReason(trial.id, reason);
  trial.pendingStop = reason;
  trial.reason = reason;
  ctx.emit({ studyId: study.id, type: 'trial-stopping', trialNumber: trial.number });
  await within(sendStop(ctx, study, trial, reason), STOP_SEND_WAIT_MS);
}

/** Stops every trial the study has in flight, side by side: with the bus away each waits a few seconds for it. */
export async function stopInFlight(ctx: EngineContext, study: ActiveStudy, reason: string): Promise<void> {
  // Settled, all of them, before the caller's serial section ends; then the first failure, if any.
  const results = await Promise.allSettled(study.inFlight().map((trial) => stopTrialNow(ctx, study, trial, reason)));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** How long a stop waits for the bus before its caller goes on (the send goes on behind it). */
const STOP_SEND_WAIT_MS = 5_000;
/** The longest wait between sends of a stop the bus refused. */
const STOP_RESEND_MAX_MS = 30_000;

/**
 * Sends the stop a trial is winding down for (`pendingStop`). While the bus refuses it (NATS down
 * for longer than a publish waits), it is sent again, a few seconds apart and then every 30 s,
 * until it goes out, the trial ends or the engine closes: a stop lost to an outage left the trial
 * training to the end of its budget. `again: false`: sent once (a queued trial's, which has ended).
 * Never rejects.
 */
export async function sendStop(
  ctx: EngineContext,
  study: ActiveStudy,
  trial: LiveTrial,
  reason: string,
  { again = true, attempt = 0 }: { again?: boolean; attempt?: number } = {},
): Promise<void> {
  // A later send only while it is still wanted: not after the trial ended or the engine closed.
  if (attempt > 0 && (ctx.closed || trial.pendingStop !== reason)) return;
  try {
    await ctx.bus.stop(trial.id, reason);
    if (attempt > 0) ctx.log.info({ studyId: study.id, trial: trial.number, attempt }, 'sent a stop the bus had refused');
  } catch (err) {
    if (ctx.closed) return;
    if (attempt === 0)
      ctx.log.warn(
        { studyId: study.id, trial: trial.number, err: errorText(err) },
        again ? 'could not send a stop: sending it again until the bus takes it' : 'could not send the stop of a queued trial',
      );
    if (!again || trial.pendingStop !== reason) return;
    const next = attempt + 1;
    const timer = setTimeout(
      () => void sendStop(ctx, study, trial, reason, { attempt: next }),
      Math.min(STOP_RESEND_MAX_MS, 2_000 * 2 ** attempt),
    );
    timer.unref();
  }
}

/**
 * Stops one trial in flight: of a running study, or of one that has ended (stopped, failed) while
 * the trial still winds down. Returns false when it is neither running nor queued; true when it
 * is stopping now, or was already.
 */
export async function stopTrial(ctx: EngineContext, studyId: string, number: number, reason: string): Promise<boolean> {
  const study =
    ctx.active.get(studyId) ?? ctx.recentlyEnded.get(studyId) ?? [...new Set(ctx.trialToStudy.values())].find((s) => s.id === studyId);
  const trial = study && [...study.trials.values()].find((t) => t.number === number);
  if (!study || !trial || (trial.state !== 'queued' && trial.state !== 'running')) return false;
  // Its study's end already asked it to stop: that stop stands (and is sent until the bus takes it).
  if (trial.pendingStop !== undefined) return true;
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
    await stopInFlight(ctx, study, reason);
  });
  ctx.emit({ studyId, type: 'study' });
  return true;
}
