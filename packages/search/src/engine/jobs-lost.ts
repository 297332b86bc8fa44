import type { ActiveStudy } from './active-study.ts';
import { type EngineContext, errorText } from './context.ts';
import { pump } from './dispatch.ts';

/**
 * The bus lost the jobs it held (NATS came back without its storage): every unfinished trial's
 * job goes out again, as after a restart, and a trial being stopped gets its stop again. The bus
 * refuses a job it still holds, and a later delivery starts its trial over (attempts.ts), so a
 * trial whose worker ran on through the loss is not counted twice.
 */
export async function sendUnfinishedAgain(ctx: EngineContext): Promise<void> {
  for (const study of [...ctx.active.values()]) {
    if (ctx.closing) return;
    await study.serial(() => requeue(ctx, study));
    await pump(ctx, study);
  }
}

async function requeue(ctx: EngineContext, study: ActiveStudy): Promise<void> {
  let jobs = 0;
  for (const trial of study.inFlight()) {
    if (trial.pendingStop === undefined) {
      study.undispatched.push(study.jobFor(trial));
      jobs++;
      continue;
    }
    try {
      await ctx.bus.stop(trial.id, trial.pendingStop);
    } catch (err) {
      ctx.log.warn(
        { studyId: study.id, trial: trial.number, err: errorText(err) },
        'could not send a stop again after the bus lost its storage',
      );
    }
  }
  if (jobs > 0) ctx.log.warn({ studyId: study.id, trials: jobs }, 'the bus lost the jobs it held: sending the unfinished trials again');
}
