import { FINISHED_TRIAL_STATES, type StudySummary } from '@sweepd/core';
import { ActiveStudy, type LiveTrial } from './active-study.ts';
import { type EngineContext, errorText, within } from './context.ts';
import { finishStudy } from './finishing.ts';
import { instantiate } from './instantiate.ts';
import { finishTrials } from './trial-outcomes.ts';
import { sendStop } from './stopping.ts';

/**
 * Trials a stop left in flight when the daemon went down: those of a study that had ended (stopped
 * or failed) and those a rule or the user was stopping in a running one. The workers may have
 * answered while the daemon was down, so their ends are looked for among the reports queued
 * meanwhile, which a start reads first; what is still in flight after that is ended here, as
 * stopped, for the reason it was being stopped for. Before, an ended study's trials were ended
 * before that backlog was read, and their last epochs and ends were thrown away.
 */

/**
 * Takes the in-flight trials of ended studies back for their reports only (the studies stay
 * ended: nothing is dispatched for them). Returns the studies taken back.
 */
export async function takeBackEndedStudies(ctx: EngineContext, summaries: readonly StudySummary[]): Promise<ActiveStudy[]> {
  const taken: ActiveStudy[] = [];
  for (const summary of summaries) {
    if (summary.state === 'running' || summary.counts.queued + summary.counts.running === 0) continue;
    const record = await ctx.store.getStudy(summary.id);
    if (!record) continue;
    const why = `study ${record.state}${record.reason ? `: ${record.reason}` : ''}`;
    const trials = await ctx.store.listTrials(record.id);
    try {
      const plugins = await instantiate(record.spec, ctx.registry, ctx);
      const study = new ActiveStudy(record, plugins.strategy, plugins.rules);
      for (const t of trials) {
        const live = study.add(t);
        if (FINISHED_TRIAL_STATES.has(live.state)) continue;
        markStoppedBeforeRestart(live, t.reason ?? why);
        ctx.trialToStudy.set(live.id, study);
      }
      taken.push(study);
    } catch (err) {
      // Its plugins no longer build: end its trials now, without their queued reports.
      ctx.log.warn({ studyId: record.id, err: errorText(err) }, 'could not take an ended study back for its last reports');
      const unfinished = trials.filter((t) => !FINISHED_TRIAL_STATES.has(t.state));
      await ctx.store.finishTrials(unfinished.map((t) => ({ trialId: t.id, state: 'stopped', reason: endedAtRestart(t.reason ?? why) })));
      ctx.emit({ studyId: record.id, type: 'study' });
    }
  }
  return taken;
}

/** A stop decided before the restart stands: the trial ends as stopped, when its end is read or after the catch-up. */
export function markStoppedBeforeRestart(trial: LiveTrial, reason: string): void {
  trial.pendingStop = reason;
  trial.stoppedBeforeRestart = true;
}

/**
 * Sends the stops decided before the restart again: the daemon may have gone down between storing
 * one and sending it, and a worker that never heard it would train the trial to its end.
 */
export async function resendStops(ctx: EngineContext, studies: Iterable<ActiveStudy>): Promise<void> {
  for (const study of studies) {
    for (const trial of study.inFlight()) {
      if (!trial.stoppedBeforeRestart) continue;
      // Until the bus takes it, as any stop (stopping.ts).
      await within(sendStop(ctx, study, trial, trial.pendingStop as string), 5_000);
    }
  }
}

/** Ends the trials stopped before the restart whose end was not among the reports read since. */
export async function endUnreportedStops(ctx: EngineContext, studies: Iterable<ActiveStudy>): Promise<void> {
  for (const study of studies) {
    const left = study.inFlight().filter((t) => t.stoppedBeforeRestart);
    if (left.length === 0) continue;
    for (const trial of left) trial.pendingStop = endedAtRestart(trial.pendingStop as string);
    await finishTrials(
      ctx,
      left.map((trial) => ({ study, trial, outcome: { state: 'stopped' as const, reason: trial.pendingStop } })),
    );
    ctx.log.info({ studyId: study.id, trials: left.length }, 'ended the trials a stop had left in flight when the daemon restarted');
    ctx.emit({ studyId: study.id, type: 'study' });
  }
}

function endedAtRestart(reason: string): string {
  return `${reason} (ended when the daemon restarted: no end of it had been reported by then)`;
}

/**
 * At a graceful shutdown on a bus whose workers go down with the daemon (the in-process one): the
 * trials a stop is winding down whose ends were not reported while the bus closed (the bus takes
 * reports until its runs have ended; a run that ends without a report, such as one handed back,
 * leaves none) end now, as stopped for the reason they were being stopped for. They used to read
 * `running` until the next start ended them "when the daemon restarted". A running study whose
 * last trial that was is finished too.
 */
export async function endStopsAtShutdown(ctx: EngineContext): Promise<void> {
  const studies = new Set([...ctx.trialToStudy.values(), ...ctx.active.values()]);
  for (const study of studies) {
    const stopping = study.inFlight().filter((t) => t.pendingStop !== undefined);
    if (stopping.length === 0) continue;
    await finishTrials(
      ctx,
      stopping.map((trial) => ({ study, trial, outcome: { state: 'stopped' as const, reason: trial.pendingStop } })),
    );
    ctx.log.info({ studyId: study.id, trials: stopping.length }, 'ended the trials being stopped as the daemon shut down');
    // Serial with a pump that began before the close (it may still be creating trials).
    await study.serial(async () => {
      if (ctx.active.get(study.id) === study && study.isComplete()) await finishStudy(ctx, study);
    });
    ctx.emit({ studyId: study.id, type: 'study' });
  }
}
