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
    // Ended here whether or not the stop goes out: a job that runs later reports for an ended trial, and is stopped then (ingestion.ts).
    await within(sendStop(ctx, study, trial, reason), STOP_SEND_WAIT_MS);
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

/** How long a stop waits for the bus before its caller goes on (the send goes on behind it). */
const STOP_SEND_WAIT_MS = 5_000;
/** The longest wait between sends of a stop the bus refused. */
const STOP_RESEND_MAX_MS = 30_000;

/**
 * Sends a trial's stop. While the bus refuses it (NATS down for longer than a publish waits), it
 * is sent again, a few seconds apart and then every 30 s, until it goes out, the trial ends or the
 * engine closes: a stop lost to an outage left the trial training to the end of its budget (a
 * queued trial's is not: it has ended). Never rejects.
 */
async function sendStop(ctx: EngineContext, study: ActiveStudy, trial: LiveTrial, reason: string, attempt = 0): Promise<void> {
  try {
    await ctx.bus.stop(trial.id, reason);
    if (attempt > 0) ctx.log.info({ studyId: study.id, trial: trial.number, attempt }, 'sent a stop the bus had refused');
  } catch (err) {
    if (ctx.closed) return;
    // A queued trial ends at once: should its job run later, its reports are of an ended trial, and stop it then.
    const running = trial.pendingStop === reason;
    if (attempt === 0)
      ctx.log.warn(
        { studyId: study.id, trial: trial.number, err: errorText(err) },
        running ? 'could not send a stop: sending it again until the bus takes it' : 'could not send the stop of a queued trial',
      );
    if (!running) return;
    const timer = setTimeout(
      () => void sendStop(ctx, study, trial, reason, attempt + 1),
      Math.min(STOP_RESEND_MAX_MS, 2_000 * 2 ** attempt),
    );
    timer.unref();
  }
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
    // Side by side: with the bus away each waits a few seconds for it, not one after another.
    await Promise.all(study.inFlight().map((trial) => stopTrialNow(ctx, study, trial, reason)));
  });
  ctx.emit({ studyId, type: 'study' });
  return true;
}
