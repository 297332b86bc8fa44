import type { EpochReport, EpochWrite, FinalReport, Report, StartReport } from '@sweepd/core';
import type { ActiveStudy, LiveTrial } from './active-study.ts';
import { sortByAttempt } from './attempts.ts';
import type { EngineContext } from './context.ts';
import { pump } from './dispatch.ts';
import { applyRules } from './stopping.ts';
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
  for (const r of await sortByAttempt(ctx, batch)) {
    if (!ctx.trialToStudy.has(r.trialId)) {
      ctx.log.debug({ trialId: r.trialId, kind: r.kind }, 'report for a trial of no running study ignored');
    } else if (r.kind === 'start') starts.push(r);
    else if (r.kind === 'epoch') epochs.push(r);
    else finals.push(r);
  }

  for (const trialId of await ctx.store.markRunningMany(starts.map((r) => ({ trialId: r.trialId, worker: r.worker })))) {
    const study = ctx.trialToStudy.get(trialId) as ActiveStudy;
    const trial = study.trials.get(trialId) as LiveTrial;
    if (trial.state === 'queued') study.setState(trial, 'running');
    ctx.emit({ studyId: study.id, type: 'trial-started', trialNumber: trial.number });
  }

  await recordEpochs(ctx, epochs);

  const finishing = new Set(finals.map((f) => f.trialId));
  for (const trialId of new Set(epochs.map((e) => e.trialId))) {
    if (!finishing.has(trialId)) await applyRules(ctx, trialId);
  }

  const firstFinals = [...new Map(finals.map((r) => [r.trialId, r] as const).reverse()).values()];
  const ending = firstFinals.map((r) => {
    const study = ctx.trialToStudy.get(r.trialId) as ActiveStudy;
    return { study, trial: study.trials.get(r.trialId) as LiveTrial, outcome: r };
  });
  await finishTrials(ctx, ending);
  const touched = new Set(ending.map((e) => e.study));
  // One ask per study per batch: the strategy fills every slot the batch freed at once.
  for (const study of touched) await pump(ctx, study);
}

async function recordEpochs(ctx: EngineContext, epochs: readonly EpochReport[]): Promise<void> {
  if (epochs.length === 0) return;
  const byStudy = new Map<ActiveStudy, EpochWrite[]>();
  for (const e of epochs) {
    const study = ctx.trialToStudy.get(e.trialId) as ActiveStudy;
    const writes = byStudy.get(study) ?? [];
    const write: EpochWrite = { trialId: e.trialId, epoch: e.epoch, metrics: e.metrics, layers: e.layers };
    if (e.notes) write.notes = e.notes;
    writes.push(write);
    byStudy.set(study, writes);
  }
  for (const [study, writes] of byStudy) {
    await ctx.store.recordEpochs(writes, study.spec.objective);
    for (const w of writes) {
      const trial = study.trials.get(w.trialId) as LiveTrial;
      const epochs = trial.epochs.filter((x) => x.epoch !== w.epoch);
      epochs.push(w);
      epochs.sort((a, b) => a.epoch - b.epoch);
      trial.epochs = epochs;
      if (trial.state === 'queued') study.setState(trial, 'running');
      study.refreshValue(trial);
      ctx.emit({ studyId: study.id, type: 'epoch', trialNumber: trial.number });
    }
  }
}
