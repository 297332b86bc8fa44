import type { ActiveStudy } from './active-study.ts';
import { type EngineContext, within } from './context.ts';
import { pump } from './dispatch.ts';
import { sendStop } from './stopping.ts';

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
    // Until the bus takes it, as any stop (stopping.ts).
    await within(sendStop(ctx, study, trial, trial.pendingStop), 5_000);
  }
  if (jobs > 0) ctx.log.warn({ studyId: study.id, trials: jobs }, 'the bus lost the jobs it held: sending the unfinished trials again');
}
