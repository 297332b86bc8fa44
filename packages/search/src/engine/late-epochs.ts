import { type EpochReport, type EpochWrite, epochWriteProblem, FINISHED_TRIAL_STATES, type Report } from '@sweepd/core';
import type { ActiveStudy, LiveTrial } from './active-study.ts';
import type { EngineContext } from './context.ts';

/**
 * Epochs that come after their trial ended, from the run that trained it. An end can overtake epochs
 * of the trial's own run: a worker publishes its epochs concurrently and retries each across a NATS
 * outage, while the end may come from another delivery of the same job (a crashed NATS server
 * forgot it had delivered it, and the second delivery met the trial's stop at once) or from the
 * engine. Such an epoch, of the trial's delivery and below the last one stored, fills a gap in its
 * curve, which would otherwise keep the gap for good; one past the last trained after the end, and
 * one of another delivery is another run's, so both stay dropped.
 */
export async function storeLateEpochs(ctx: EngineContext, strays: readonly Report[]): Promise<void> {
  const late = new Map<ActiveStudy, Map<string, { trial: LiveTrial; write: EpochWrite }>>();
  for (const r of strays) {
    if (r.kind !== 'epoch') continue;
    const study = ctx.active.get(r.studyId) ?? ctx.recentlyEnded.get(r.studyId);
    const trial = study?.trials.get(r.trialId);
    if (!study || !trial || !fillsGap(trial, r)) continue;
    const write: EpochWrite = { trialId: r.trialId, epoch: r.epoch, metrics: r.metrics, layers: r.layers };
    if (r.notes) write.notes = r.notes;
    if (epochWriteProblem(write)) continue;
    const writes = late.get(study) ?? new Map();
    writes.set(`${r.trialId}:${r.epoch}`, { trial, write });
    late.set(study, writes);
  }
  for (const [study, writes] of late) {
    const list = [...writes.values()];
    await ctx.store.recordEpochs(
      list.map((w) => w.write),
      study.spec.objective,
    );
    for (const { trial, write } of list) {
      trial.epochs = [...trial.epochs.filter((e) => e.epoch !== write.epoch), write].sort((a, b) => a.epoch - b.epoch);
      study.refreshValue(trial);
      ctx.emit({ studyId: study.id, type: 'epoch', trialNumber: trial.number });
    }
    ctx.log.info(
      { studyId: study.id, epochs: list.map(({ trial, write }) => `${trial.number}:${write.epoch}`) },
      'epochs that came after their trial ended filled gaps in its curve',
    );
  }
}

function fillsGap(trial: LiveTrial, r: EpochReport): boolean {
  if (!FINISHED_TRIAL_STATES.has(trial.state) || (r.attempt ?? 0) !== (trial.attempt ?? 0)) return false;
  const last = trial.epochs.at(-1)?.epoch;
  return last !== undefined && r.epoch < last && !trial.epochs.some((e) => e.epoch === r.epoch);
}

/** How many studies that left `active` are kept for their trials' late epochs. */
const ENDED_STUDIES_KEPT = 2;

/** Keeps a study that just ended (completed, failed, stopped) for its trials' late epochs, a few at a time. */
export function keepForLateEpochs(ctx: EngineContext, study: ActiveStudy): void {
  ctx.recentlyEnded.delete(study.id);
  ctx.recentlyEnded.set(study.id, study);
  for (const id of ctx.recentlyEnded.keys()) {
    if (ctx.recentlyEnded.size <= ENDED_STUDIES_KEPT) break;
    ctx.recentlyEnded.delete(id);
  }
}
