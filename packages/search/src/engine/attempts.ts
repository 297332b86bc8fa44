import type { EpochReport, FinalReport, Report } from '@sweepd/core';
import type { ActiveStudy, LiveTrial } from './active-study.ts';
import type { EngineContext } from './context.ts';
import { pump } from './dispatch.ts';
import { reachedLastEpoch, unheardEnd } from './trial-outcomes.ts';

/**
 * Job deliveries. A trial's job is delivered again when its worker died or handed it back at
 * shutdown, and each delivery trains from scratch. So the first report of a later delivery starts
 * the trial over: the epochs of the earlier one are discarded (in the store and here), lest its
 * curve mix two runs. Reports of an earlier delivery still arriving (from a worker that lost the job
 * but ran on) are dropped. Reports without an attempt (older workers) are taken as they come.
 *
 * A batch is read in stream order per trial: an earlier delivery's end that comes before a later
 * delivery's first report finishes the trial, and that later delivery's reports are then dropped.
 * So does an earlier delivery that had reported its last epoch and the objective: its end went
 * with its worker, a stand-in end completes the trial, and the later delivery is told to stop.
 *
 * An earlier delivery still reporting epochs runs on a worker that was cut off for a while and came
 * back: it is told to stop (that delivery only), so it does not train the trial to the end for nothing.
 *
 * Returns the batch without the reports dropped, a stand-in end where the later delivery began.
 */
export async function sortByAttempt(ctx: EngineContext, batch: readonly Report[]): Promise<Report[]> {
  const plans = new Map<string, { trial: LiveTrial; attempt: number; ended: boolean; begins: boolean; indices: number[] }>();
  const keep = batch.map(() => true);
  const staleEnds: LiveTrial[] = [];
  const replaced = new Map<number, FinalReport>();
  /** Per trial, where its stand-in end (laterDeliveryEnd) sits in the batch. */
  const synthetic = new Map<string, number>();
  const stops: FinalReport[] = [];
  const runningOn = new Map<LiveTrial, number>();
  for (const [i, r] of batch.entries()) {
    const trial = r.attempt === undefined ? undefined : ctx.trialToStudy.get(r.trialId)?.trials.get(r.trialId);
    if (!trial) continue;
    const attempt = r.attempt as number;
    let plan = plans.get(r.trialId);
    if (!plan) {
      plan = { trial, attempt: trial.attempt ?? 0, ended: false, begins: false, indices: [] };
      plans.set(r.trialId, plan);
    }
    if (attempt < plan.attempt || (attempt > plan.attempt && plan.ended)) {
      keep[i] = false;
      ctx.log.info(
        { trial: trial.number, kind: r.kind, attempt, current: plan.attempt },
        plan.ended ? 'report of a delivery that began after the trial ended ignored' : 'report of an earlier delivery of the trial ignored',
      );
      // A delivery that lost its hold on the job left it unacknowledged, with the later one.
      if (r.kind === 'final' && !plan.ended && !r.leaseLapsed) staleEnds.push(trial);
      if ((r.kind === 'epoch' || r.kind === 'start') && attempt < plan.attempt && !plan.ended) {
        runningOn.set(trial, Math.max(attempt, runningOn.get(trial) ?? 0));
      }
      continue;
    }
    if (
      attempt > plan.attempt &&
      trainedInFull(
        ctx,
        trial,
        plan.indices.map((j) => batch[j] as Report),
        plan.begins,
      )
    ) {
      // The earlier delivery had reported its last epoch and the objective: its end went with its
      // worker, not its training. It ends here as completed (as on a restart of the in-process
      // bus), and the later delivery is dropped and told to stop, rather than training it again.
      const end = laterDeliveryEnd(ctx, trial, r.studyId, plan.attempt);
      replaced.set(i, end);
      synthetic.set(r.trialId, i);
      plan.ended = true;
      stops.push(end);
      continue;
    }
    // The earlier delivery's own end, after all: it says how the trial ended, not the stand-in.
    const standIn = r.kind === 'final' ? synthetic.get(r.trialId) : undefined;
    if (standIn !== undefined) {
      replaced.delete(standIn);
      keep[standIn] = false;
      synthetic.delete(r.trialId);
    }
    if (attempt > plan.attempt) {
      // A later delivery begins here: what this batch held of the earlier one goes with it.
      for (const j of plan.indices) keep[j] = false;
      plan.indices = [];
      plan.attempt = attempt;
      plan.begins = true;
    }
    plan.indices.push(i);
    if (r.kind === 'final') plan.ended = true;
  }

  const beginning = [...plans].filter(([, p]) => p.begins);
  if (beginning.length > 0) {
    const stored = await ctx.store.beginAttempts(beginning.map(([trialId, p]) => ({ trialId, attempt: p.attempt })));
    // The store's attempt is the truth: after a lost reply it may already be ahead of this one.
    for (const { trialId, attempt, discarded } of stored) {
      const study = ctx.trialToStudy.get(trialId);
      const trial = study?.trials.get(trialId);
      if (!study || !trial || attempt <= (trial.attempt ?? 0)) continue;
      const earlier = trial.epochs.length;
      trial.attempt = attempt;
      if (earlier === 0 && discarded === 0) continue;
      trial.epochs = [];
      study.refreshValue(trial);
      ctx.log.warn(
        { studyId: study.id, trial: trial.number, attempt, discardedEpochs: Math.max(earlier, discarded) },
        'trial delivered again: it trains from scratch, and the epochs of its earlier delivery are discarded',
      );
      ctx.emit({ studyId: study.id, type: 'trial-started', trialNumber: trial.number });
    }
  }
  for (const trial of staleEnds) sendAgainLater(ctx, trial);
  await stopEarlierDeliveries(ctx, runningOn);
  for (const end of stops) {
    ctx.log.warn(
      { trialId: end.trialId, reason: end.reason },
      'trial delivered again after its last epoch: it completes, and the later delivery is told to stop',
    );
    await ctx.bus.stop(end.trialId, end.reason as string);
  }
  return batch.flatMap((r, i) => {
    const end = replaced.get(i);
    return end ? [end] : keep[i] ? [r] : [];
  });
}

/**
 * Whether the delivery before this one reported the last epoch of its budget and a finite
 * objective: in the epochs stored and its reports in this batch, or, when that delivery itself
 * began in this batch (`beganInBatch`), in those reports alone (the stored epochs are an earlier one's).
 */
function trainedInFull(ctx: EngineContext, trial: LiveTrial, earlier: readonly Report[], beganInBatch: boolean): boolean {
  const study = ctx.trialToStudy.get(trial.id);
  if (!study) return false;
  const inBatch = earlier.filter((r): r is EpochReport => r.kind === 'epoch');
  const { metric } = study.spec.objective;
  const maxEpochs = study.spec.budget.max_epochs;
  const stored = !beganInBatch;
  const last = (stored && reachedLastEpoch(trial, maxEpochs)) || inBatch.some((r) => r.epoch >= maxEpochs);
  const valued =
    (stored && Number.isFinite(trial.value ?? Number.NaN)) || inBatch.some((r) => Number.isFinite(r.metrics[metric] ?? Number.NaN));
  return last && valued;
}

/** The end the earlier delivery never sent (trainedInFull held, so the trial's study is known). */
function laterDeliveryEnd(ctx: EngineContext, trial: LiveTrial, studyId: string, attempt: number): FinalReport {
  const { max_epochs } = (ctx.trialToStudy.get(trial.id) as ActiveStudy).spec.budget;
  return { kind: 'final', studyId, trialId: trial.id, attempt, ...unheardEnd(max_epochs, 'before its job was delivered again') };
}

/**
 * Tells earlier deliveries that run on to stop, once per delivery. Not a trial being stopped, even
 * one whose stop is still being sent: that stop covers every delivery already, and a trial's stops
 * are kept latest first, so a scoped one recorded after it would take its place.
 */
async function stopEarlierDeliveries(ctx: EngineContext, runningOn: ReadonlyMap<LiveTrial, number>): Promise<void> {
  for (const [trial, attempt] of runningOn) {
    if (trial.pendingStop !== undefined || trial.stopAsked || (trial.earlierStoppedUpTo ?? 0) >= attempt) continue;
    await ctx.bus.stop(trial.id, `a later delivery of its job (${trial.attempt ?? attempt + 1}) runs the trial`, { upToAttempt: attempt });
    trial.earlierStoppedUpTo = attempt;
    ctx.log.info({ trial: trial.number, attempt, current: trial.attempt }, 'an earlier delivery of the trial runs on: told to stop');
  }
}

/** How long after an earlier delivery's end the trial's job is sent again, if it is still unfinished. */
export const RESEND_AFTER_MS = 5_000;

/**
 * An earlier delivery ended, and its worker then acknowledged the job, which on NATS removes it even
 * though a later delivery holds it: should that one die, nothing would deliver the trial again. So
 * once the earlier worker has had time to acknowledge, the job is sent again; while the later
 * delivery's job is still pending the bus refuses the copy, and a trial that finished meanwhile is skipped.
 */
function sendAgainLater(ctx: EngineContext, trial: LiveTrial): void {
  const timer = setTimeout(() => {
    const study = ctx.trialToStudy.get(trial.id);
    if (!study || ctx.closing || (trial.state !== 'queued' && trial.state !== 'running')) return;
    study.undispatched.push(study.jobFor(trial));
    void pump(ctx, study);
  }, RESEND_AFTER_MS);
  timer.unref();
}
