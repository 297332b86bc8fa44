import {
  type EpochReport,
  type EpochWrite,
  epochWriteProblem,
  type FinalReport,
  type HandBackReport,
  type Report,
  type StartReport,
} from '@sweepd/core';
import type { ActiveStudy, LiveTrial } from './active-study.ts';
import { sortByAttempt } from './attempts.ts';
import type { EngineContext } from './context.ts';
import { pump } from './dispatch.ts';
import { epochWriteOf, storeEpochs, takeStoredEpoch, type UnstorableEpoch } from './epoch-writes.ts';
import { storeLateEpochs } from './late-epochs.ts';
import { applyRules, stopTrialNow } from './stopping.ts';
import { queueForAnotherWorker } from './requeue.ts';
import { finishTrials } from './trial-outcomes.ts';

/**
 * Report ingestion: stores what workers report (starts, epochs, ends), applies the stopping rules
 * to the trials that reported an epoch, and lets each study whose trials ended fill the freed slots.
 */

/** Handles one batch of reports. Throwing makes the bus deliver the batch again; every step is idempotent. */
export async function ingest(ctx: EngineContext, batch: readonly Report[]): Promise<void> {
  const starts: StartReport[] = [];
  const epochs: EpochReport[] = [];
  const finals: FinalReport[] = [];
  const handbacks: HandBackReport[] = [];
  const strays: Report[] = [];
  for (const r of await sortByAttempt(ctx, batch)) {
    if (!ctx.trialToStudy.has(r.trialId)) {
      ctx.log.debug({ trialId: r.trialId, kind: r.kind }, 'report for a trial of no running study ignored');
      strays.push(r);
    } else if (r.kind === 'start') starts.push(r);
    else if (r.kind === 'epoch') epochs.push(r);
    else if (r.kind === 'handback') handbacks.push(r);
    else finals.push(r);
  }

  for (const trialId of await ctx.store.markRunningMany(starts.map((r) => ({ trialId: r.trialId, worker: r.worker })))) {
    const study = ctx.trialToStudy.get(trialId) as ActiveStudy;
    const trial = study.trials.get(trialId) as LiveTrial;
    if (trial.state === 'queued') study.setState(trial, 'running');
    ctx.emit({ studyId: study.id, type: 'trial-started', trialNumber: trial.number });
  }

  await recordEpochs(ctx, epochs);
  await storeLateEpochs(ctx, strays);
  // After the epochs: an epoch read in the same batch would mark a trial queued again as running.
  await requeueHandedBack(ctx, handbacks, batch);

  const finishing = new Set(finals.map((f) => f.trialId));
  for (const trialId of new Set(epochs.map((e) => e.trialId))) {
    if (!finishing.has(trialId)) await applyRules(ctx, trialId);
  }

  const firstFinals = [...new Map(finals.map((r) => [r.trialId, r] as const).reverse()).values()];
  const ending = firstFinals.map((r) => {
    const study = ctx.trialToStudy.get(r.trialId) as ActiveStudy;
    return { study, trial: study.trials.get(r.trialId) as LiveTrial, outcome: r };
  });
  // Before the trials end: should a stop fail, the batch comes again and the ends still find their trials.
  await stopEndedTrialJobs(ctx, strays.filter(trainsOn), 'the trial has ended');
  // Of every end in the batch, not only the first kept per trial: a flagged one may follow an unflagged one.
  await stopEndedTrialJobs(
    ctx,
    finals.filter((f) => f.leaseLapsed),
    'the trial ended on an earlier delivery of its job',
  );
  await finishTrials(ctx, ending);
  const touched = new Set(ending.map((e) => e.study));
  // One ask per study per batch: the strategy fills every slot the batch freed at once.
  for (const study of touched) await pump(ctx, study);
}

/** A report of a trial no running study has that says its job may still train: a delivery began, or was left in the queue. */
function trainsOn(r: Report): boolean {
  return r.kind === 'start' || r.kind === 'epoch' || (r.kind === 'final' && r.leaseLapsed === true);
}

/** How many trials stopped for training after their end are remembered, lest each epoch send a stop. */
const ENDED_STOPS_KEPT = 10_000;

/**
 * Jobs that would train a trial that has ended. A delivery that lost its hold on the job
 * (leaseLapsed) left it in the queue, and its next delivery would train the trial again; a
 * delivery still reporting after the trial ended trains for nothing. A stop, once per trial, meets
 * the one and ends the other.
 */
async function stopEndedTrialJobs(ctx: EngineContext, reports: readonly Report[], reason: string): Promise<void> {
  for (const trialId of new Set(reports.map((r) => r.trialId))) {
    if (ctx.endedTrialsStopped.has(trialId)) continue;
    await ctx.bus.stop(trialId, reason);
    if (ctx.endedTrialsStopped.size >= ENDED_STOPS_KEPT) ctx.endedTrialsStopped.clear();
    ctx.endedTrialsStopped.add(trialId);
  }
}

async function recordEpochs(ctx: EngineContext, epochs: readonly EpochReport[]): Promise<void> {
  if (epochs.length === 0) return;
  const byStudy = new Map<ActiveStudy, EpochWrite[]>();
  const unstorable: UnstorableEpoch[] = [];
  for (const e of epochs) {
    const study = ctx.trialToStudy.get(e.trialId) as ActiveStudy;
    const write = epochWriteOf(e);
    // Refused by the store however often it is asked: handed over again, the batch would hold up
    // every report behind it, of every study, for ever (and again after a restart).
    const problem = epochWriteProblem(write);
    if (problem) {
      unstorable.push({ study, write, problem });
      continue;
    }
    const writes = byStudy.get(study) ?? [];
    writes.push(write);
    byStudy.set(study, writes);
  }
  for (const [study, all] of byStudy) {
    const writes = await storeEpochs(ctx, study, all, unstorable);
    for (const w of writes) {
      const trial = takeStoredEpoch(ctx, study, w);
      if (trial.state === 'queued') study.setState(trial, 'running');
    }
  }
  for (const { study, write, problem } of unstorable) {
    const trial = study.trials.get(write.trialId) as LiveTrial;
    ctx.log.warn({ studyId: study.id, trial: trial.number, epoch: write.epoch, problem }, 'epoch report not stored: it cannot be');
    if (trial.state === 'running' || trial.state === 'queued')
      await stopTrialNow(ctx, study, trial, `its epoch ${write.epoch} report could not be stored: ${problem}`);
  }
}

/**
 * Trials a worker handed back at shutdown wait in the queue for another (requeue.ts). Not a trial
 * that has begun again or ended in this batch after the hand-back.
 */
async function requeueHandedBack(ctx: EngineContext, handbacks: readonly HandBackReport[], batch: readonly Report[]): Promise<void> {
  const movedOn = (h: HandBackReport) =>
    batch.some((r) => r.trialId === h.trialId && (r.kind === 'final' || (r.kind !== 'handback' && (r.attempt ?? 0) > (h.attempt ?? 0))));
  const waiting = handbacks
    .filter((h) => !movedOn(h))
    .map((h) => {
      const study = ctx.trialToStudy.get(h.trialId) as ActiveStudy;
      return { study, trial: study.trials.get(h.trialId) as LiveTrial, attempt: h.attempt, worker: h.worker };
    });
  await queueForAnotherWorker(ctx, waiting, 'trial handed back by its worker: queued for another');
}
