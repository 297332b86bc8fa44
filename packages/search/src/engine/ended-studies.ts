import { FINISHED_TRIAL_STATES } from '@sweepd/core';
import type { EngineContext } from './context.ts';

/**
 * Trials left in flight by a study that ended before the daemon restarted. A stopped or failed
 * study tells its running trials to stop and records their ends as they come in; a daemon that went
 * down meanwhile does not take the study back (it is not running), so its trials would stay
 * "running" for ever and its table would never be final. A start ends them as stopped, for the
 * reason they were being stopped for.
 */
export async function settleEndedStudies(ctx: EngineContext): Promise<void> {
  for (const study of await ctx.store.listStudies()) {
    if (study.state === 'running' || study.counts.queued + study.counts.running === 0) continue;
    const why = `study ${study.state}${study.reason ? `: ${study.reason}` : ''}`;
    const unfinished = (await ctx.store.listTrials(study.id)).filter((t) => !FINISHED_TRIAL_STATES.has(t.state));
    // Its last reports, if any, came while the daemon was down: the reason says where the trial ended.
    const reason = (t: { reason?: string }) => `${t.reason ?? why} (ended when the daemon restarted, before the trial said it had stopped)`;
    const ended = await ctx.store.finishTrials(unfinished.map((t) => ({ trialId: t.id, state: 'stopped', reason: reason(t) })));
    ctx.log.info({ studyId: study.id, trials: ended.length }, 'ended the trials left in flight by a study that had ended');
    ctx.emit({ studyId: study.id, type: 'study' });
  }
}
