import type { Report } from '@sweepd/core';
import type { EngineContext } from './context.ts';

/**
 * Job deliveries. A trial's job is delivered again when its worker died or handed it back at
 * shutdown, and each delivery trains from scratch. So the first report of a later delivery starts
 * the trial over: the epochs of the earlier one are discarded (in the store and here), lest its
 * curve mix two runs. Reports of an earlier delivery still arriving (from a worker that lost the job
 * but ran on) are dropped. Reports without an attempt (older workers) are taken as they come.
 *
 * Returns the batch without those stale reports.
 */
export async function sortByAttempt(ctx: EngineContext, batch: readonly Report[]): Promise<Report[]> {
  const newer = new Map<string, number>();
  for (const r of batch) {
    const trial = r.attempt === undefined ? undefined : ctx.trialToStudy.get(r.trialId)?.trials.get(r.trialId);
    if (trial && (r.attempt as number) > Math.max(trial.attempt ?? 0, newer.get(r.trialId) ?? 0)) newer.set(r.trialId, r.attempt as number);
  }
  if (newer.size > 0) {
    const moved = await ctx.store.beginAttempts([...newer].map(([trialId, attempt]) => ({ trialId, attempt })));
    for (const { trialId, discarded } of moved) {
      const study = ctx.trialToStudy.get(trialId);
      const trial = study?.trials.get(trialId);
      if (!study || !trial) continue;
      const earlier = trial.epochs.length;
      trial.attempt = newer.get(trialId) as number;
      if (earlier === 0 && discarded === 0) continue;
      trial.epochs = [];
      study.refreshValue(trial);
      ctx.log.warn(
        { studyId: study.id, trial: trial.number, attempt: trial.attempt, discardedEpochs: Math.max(earlier, discarded) },
        'trial delivered again: it trains from scratch, and the epochs of its earlier delivery are discarded',
      );
      ctx.emit({ studyId: study.id, type: 'trial-started', trialNumber: trial.number });
    }
  }
  return batch.filter((r) => {
    if (r.attempt === undefined) return true;
    const study = ctx.trialToStudy.get(r.trialId);
    const trial = study?.trials.get(r.trialId);
    if (!study || !trial || r.attempt >= (trial.attempt ?? 0)) return true;
    ctx.log.info(
      { studyId: study.id, trial: trial.number, kind: r.kind, attempt: r.attempt, current: trial.attempt },
      'report of an earlier delivery of the trial ignored',
    );
    return false;
  });
}
