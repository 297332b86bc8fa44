import { checkParams, FINISHED_TRIAL_STATES, type Params, type Suggestion, type TrialView } from '@sweepd/core';
import { tagsForTrialAll } from '../stopping/index.ts';
import type { ActiveStudy } from './active-study.ts';
import { baselineSuggestion } from './baseline.ts';
import { type EngineContext, errorText } from './context.ts';
import { failOnMisnamedObjective, failOnRepeatedFailures, failStudy, finishStudy } from './finishing.ts';

/**
 * Dispatch: fills a study's free parallel slots with trials its strategy suggests, stores them and
 * hands their jobs to the bus; ends the study once no trial is left to run.
 */

/** Fills free parallel slots with new trials from the strategy, or finishes the study. */
export function pump(ctx: EngineContext, study: ActiveStudy): Promise<void> {
  return study.serial(async () => {
    if (ctx.catchingUp || ctx.active.get(study.id) !== study) return;
    try {
      if (ctx.closing) {
        // Nothing more is dispatched at shutdown, but a study whose last trial ended meanwhile (its
        // end stored while the local workers closed) completes now, not at the next start.
        if (!ctx.closed && study.isComplete()) await finishStudy(ctx, study);
        return;
      }
      await fill(ctx, study);
    } catch (err) {
      // The bus closed under a dispatch at shutdown: the next start dispatches what is left.
      if (ctx.closing) return;
      // The Store or the Bus is away for a moment: nothing is lost (the Store holds the trials,
      // undispatched jobs are kept), so try again shortly rather than fail the study.
      ctx.log.warn({ studyId: study.id, err: errorText(err) }, 'could not advance the study; retrying in 1 s');
      clearTimeout(study.retry);
      study.retry = setTimeout(() => void pump(ctx, study), 1_000);
    }
  });
}

async function fill(ctx: EngineContext, study: ActiveStudy): Promise<void> {
  if ((await failOnMisnamedObjective(ctx, study)) || (await failOnRepeatedFailures(ctx, study))) return;
  if (study.creationUncertain) await adoptStoredTrials(ctx, study);
  await flushDispatch(ctx, study);
  const { budget } = study.spec;
  // The baseline goes first, alone in its creation, so it is trial 0 (see baseline.ts).
  const baseline = study.trials.size === 0 ? baselineSuggestion(study.spec) : undefined;
  if (baseline) await createAndDispatch(ctx, study, [baseline]);
  const free = Math.min(budget.parallelism - study.inFlightCount(), budget.max_trials - study.trials.size);
  if (free > 0 && !study.exhausted) {
    let answer: Array<Params | Suggestion> | 'done';
    try {
      answer = await study.strategy.ask(study.history(), free);
    } catch (err) {
      await failStudy(ctx, study.id, `strategy ${study.spec.strategy.name} failed: ${errorText(err)}`);
      return;
    }
    if (answer === 'done' || (answer.length === 0 && study.inFlightCount() === 0)) {
      study.exhausted = true;
    } else {
      const suggestions = answer.slice(0, free).map(toSuggestion);
      const bad = suggestions.map((s) => checkParams(study.spec.space, s.params)).find((p) => p.length > 0);
      if (bad) {
        await failStudy(ctx, study.id, `strategy ${study.spec.strategy.name} returned parameters outside the space: ${bad.join('; ')}`);
        return;
      }
      await createAndDispatch(ctx, study, suggestions);
    }
  }
  if (study.isComplete()) await finishStudy(ctx, study);
}

/** Sends the jobs created but not yet accepted by the bus. */
async function flushDispatch(ctx: EngineContext, study: ActiveStudy): Promise<void> {
  if (study.undispatched.length === 0) return;
  const jobs = study.undispatched.filter((j) => {
    const state = study.trials.get(j.trialId)?.state;
    return state === 'queued' || state === 'running';
  });
  await ctx.bus.dispatch(jobs);
  study.undispatched = [];
}

async function createAndDispatch(ctx: EngineContext, study: ActiveStudy, suggestions: Suggestion[]): Promise<void> {
  const first = study.trials.size;
  let created: TrialView[];
  try {
    created = await ctx.store.createTrials(
      study.id,
      suggestions.map((s, i) => {
        const tags = { ...s.tags, ...tagsForTrialAll(study.rules, first + i) };
        return Object.keys(tags).length > 0 ? { params: s.params, tags } : { params: s.params };
      }),
    );
  } catch (err) {
    // The trials may have been stored all the same; the retry looks before it creates more.
    study.creationUncertain = true;
    throw err;
  }
  for (const t of created) {
    ctx.trialToStudy.set(t.id, study);
    study.add(t);
    ctx.emit({ studyId: study.id, type: 'trial-created', trialNumber: t.number });
  }
  study.undispatched.push(...created.map((t) => study.jobFor(t)));
  await flushDispatch(ctx, study);
}

/**
 * Takes in the trials the store holds and this study does not know: those of a createTrials whose
 * reply was lost after it committed. Without this they would stay queued forever, never
 * dispatched, while the study created others in their place past its budget.
 */
async function adoptStoredTrials(ctx: EngineContext, study: ActiveStudy): Promise<void> {
  const stored = await ctx.store.listTrials(study.id);
  for (const t of stored) {
    if (study.trials.has(t.id)) continue;
    const trial = study.add(t);
    ctx.trialToStudy.set(trial.id, study);
    if (!FINISHED_TRIAL_STATES.has(trial.state)) study.undispatched.push(study.jobFor(trial));
    ctx.log.warn({ studyId: study.id, trial: trial.number }, 'adopted a trial stored by a creation whose reply was lost');
    ctx.emit({ studyId: study.id, type: 'trial-created', trialNumber: trial.number });
  }
  study.creationUncertain = false;
}

function toSuggestion(s: Params | Suggestion): Suggestion {
  const maybe = s as Suggestion;
  return typeof maybe.params === 'object' && maybe.params !== null && !Array.isArray(maybe.params) ? maybe : { params: s as Params };
}
