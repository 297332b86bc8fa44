import { type EpochReport, type EpochWrite, epochWriteProblem, type Report } from '@sweepd/core';
import type { ActiveStudy, LiveTrial } from './active-study.ts';
import type { EngineContext } from './context.ts';
import { epochWriteOf, storeEpochs, takeStoredEpoch, type UnstorableEpoch } from './epoch-writes.ts';

/**
 * Epochs that come after their trial ended, from the run that trained it. An end can overtake epochs
 * of the trial's own run: a worker publishes its epochs concurrently and retries each across a NATS
 * outage, while the end may come from another delivery of the same job (a crashed NATS server
 * forgot it had delivered it, and the second delivery met the trial's stop at once) or from the
 * engine. Such an epoch, of the trial's delivery and below the last one stored, fills a gap in its
 * curve, which would otherwise keep the gap for good; one past the last trained after the end, and
 * one of an earlier or later delivery is another run's, so both stay dropped. (Two copies of one
 * delivery, which a forgetful server can make, carry the same attempt: here, as while the trial
 * ran, they cannot be told apart.) A failed trial is left as its end judged it.
 */
export async function storeLateEpochs(ctx: EngineContext, strays: readonly Report[]): Promise<void> {
  /** Per study, the writes by trial and epoch: a repeat in the batch replaces the first. */
  const late = new Map<ActiveStudy, Map<string, EpochWrite>>();
  for (const r of strays) {
    if (r.kind !== 'epoch') continue;
    const study = ctx.active.get(r.studyId) ?? ctx.recentlyEnded.get(r.studyId);
    const trial = study?.trials.get(r.trialId);
    if (!study || !trial || !fillsGap(trial, r)) continue;
    const write = epochWriteOf(r);
    if (epochWriteProblem(write)) continue;
    const writes = late.get(study) ?? new Map<string, EpochWrite>();
    writes.set(`${r.trialId}:${r.epoch}`, write);
    late.set(study, writes);
  }
  for (const [study, writes] of late) {
    // One the database refuses for its data is dropped (its trial has ended: there is nothing to stop).
    const unstorable: UnstorableEpoch[] = [];
    const stored = await storeEpochs(ctx, study, [...writes.values()], unstorable);
    for (const { write, problem } of unstorable)
      ctx.log.warn(
        { studyId: study.id, trialId: write.trialId, epoch: write.epoch, problem },
        'late epoch report not stored: it cannot be',
      );
    if (stored.length === 0) continue;
    const filled = stored.map((write) => `${takeStoredEpoch(ctx, study, write).number}:${write.epoch}`);
    ctx.log.info({ studyId: study.id, epochs: filled }, 'epochs that came after their trial ended filled gaps in its curve');
  }
}

/** Ended trials whose curve late epochs may complete: not a failed one (no value of the objective, say). */
const GAP_FILLED: ReadonlySet<string> = new Set(['completed', 'stopped']);

function fillsGap(trial: LiveTrial, r: EpochReport): boolean {
  if (!GAP_FILLED.has(trial.state) || (r.attempt ?? 0) !== (trial.attempt ?? 0)) return false;
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
