import type { ActiveStudy, LiveTrial } from './active-study.ts';
import type { EngineContext } from './context.ts';
import { pump } from './dispatch.ts';
import { finishTrials } from './trial-outcomes.ts';

/** A trial no worker holds any more: handed back at shutdown, or its worker gone. */
export interface WorkerLoss {
  study: ActiveStudy;
  trial: LiveTrial;
  /** The delivery the worker held, where known. */
  attempt?: number | undefined;
  worker?: string | undefined;
}

/**
 * Trials whose worker no longer holds them wait in the queue for another: they read queued (no
 * worker), not running on a worker that has gone, and their job is sent again in case the queue
 * lost it (the bus refuses a second job for a trial, so this is a no-op when it holds one). A
 * trial being stopped ends stopped: no worker holds it any more to say so. Trials that ended, or
 * left the running state, meanwhile are left alone.
 */
export async function queueForAnotherWorker(ctx: EngineContext, lost: readonly WorkerLoss[], why: string): Promise<void> {
  const waiting = lost.filter(({ trial }) => trial.state === 'queued' || trial.state === 'running');
  if (waiting.length === 0) return;
  const stopping = waiting.filter(({ trial }) => trial.pendingStop !== undefined);
  await finishTrials(
    ctx,
    stopping.map(({ study, trial, attempt }) => ({
      study,
      trial,
      outcome: {
        kind: 'final',
        studyId: study.id,
        trialId: trial.id,
        state: 'stopped',
        reason: trial.pendingStop as string,
        ...(attempt ? { attempt } : {}),
      },
    })),
  );
  const requeued = waiting.filter(({ trial }) => trial.pendingStop === undefined);
  const queued = new Set(
    await ctx.store.markQueuedMany(requeued.filter(({ trial }) => trial.state === 'running').map(({ trial }) => trial.id)),
  );
  for (const { study, trial, worker } of requeued) {
    // Read after the store's answer: a trial that ended meanwhile keeps its end.
    if (trial.state !== 'queued' && trial.state !== 'running') continue;
    if (queued.has(trial.id)) study.setState(trial, 'queued');
    ctx.log.info({ studyId: study.id, trial: trial.number, ...(worker ? { worker } : {}) }, why);
    ctx.emit({ studyId: study.id, type: 'trial-requeued', trialNumber: trial.number });
    study.undispatched.push(study.jobFor(trial));
  }
  for (const study of new Set(waiting.map((w) => w.study))) await pump(ctx, study);
}
