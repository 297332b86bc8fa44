import { FINISHED_TRIAL_STATES, type SearchSpec, type SpecProblem, type StudyRecord } from '@sweepd/core';
import { ActiveStudy, type LiveTrial } from './active-study.ts';
import { markStoppedBeforeRestart } from './ended-studies.ts';
import { type EngineContext, within } from './context.ts';
import { pump } from './dispatch.ts';
import { IdempotencyConflictError, studyIdForKey } from './idempotency.ts';
import { instantiate, type StudyPlugins, validateStudy } from './instantiate.ts';
import { finishTrials, trainedWithValue, unheardEnd } from './trial-outcomes.ts';

/** A submitted study, and what in its spec runs as written but is likely not what was meant. */
export interface Submitted {
  study: StudyRecord;
  created: boolean;
  warnings: SpecProblem[];
}

/**
 * Submission: a spec becomes a stored, running study (at most once per idempotency key), and a
 * stored running study becomes active again after a restart.
 */
export class Submissions {
  /** Submissions in progress by study id (idempotency keys), so repeats wait for the first. */
  private readonly submitting = new Map<string, Promise<{ study: StudyRecord; created: boolean }>>();

  constructor(private readonly ctx: EngineContext) {}

  /**
   * Validates, stores and starts a study; throws SpecError (nothing stored) when the spec is invalid,
   * and answers with `warnings` what in it runs as written but is likely not what was meant.
   * With an idempotency key the first call creates the study, a repeat with the same spec returns
   * it (`created: false`), starting it if the first call stored it but failed before starting it;
   * a repeat with another spec throws IdempotencyConflictError. Calls with one key run one at a time.
   */
  async submit(input: string | SearchSpec, idempotencyKey?: string): Promise<Submitted> {
    const { ctx } = this;
    const specText = typeof input === 'string' ? input : JSON.stringify(input, null, 2);
    const id = idempotencyKey === undefined ? undefined : studyIdForKey(idempotencyKey);
    // Checked and built before anything is stored, so what cannot run is a 400 with every problem, not a failed study.
    const { spec, plugins, warnings } = await validateStudy(input, ctx.registry, {
      baseDir: ctx.baseDir,
      ...(ctx.pluginDirs ? { pluginDirs: ctx.pluginDirs } : {}),
      workersShareFiles: ctx.workersShareFiles,
      ...(ctx.servedPools ? { servedPools: ctx.servedPools } : {}),
    });
    if (id === undefined) return { study: await createAndStart(ctx, spec, specText, plugins), created: true, warnings };
    return { ...(await this.submitOnce(id, spec, specText, plugins)), warnings };
  }

  /** The submission of a checked spec under idempotency key `id` (the study's id): one at a time per key. */
  private async submitOnce(
    id: string,
    spec: SearchSpec,
    specText: string,
    plugins: StudyPlugins,
  ): Promise<{ study: StudyRecord; created: boolean }> {
    const { ctx } = this;
    const previous = this.submitting.get(id) ?? Promise.resolve();
    const attempt = previous
      .catch(() => {})
      .then(async () => {
        const existing = await ctx.store.getStudy(id);
        if (!existing) return { study: await createAndStart(ctx, spec, specText, plugins, id), created: true };
        // The same spec sent again, as YAML now or with its keys in another order, is the same spec.
        if (existing.specText !== specText && canonical(existing.spec) !== canonical(spec)) throw new IdempotencyConflictError(id);
        if (ctx.active.has(id)) return { study: existing, created: false };
        // Read again now that it is known to be inactive: stopStudy and failStudy store the new
        // state before they let go of a study, so a study ended meanwhile is not brought back.
        const current = (await ctx.store.getStudy(id)) ?? existing;
        if (current.state === 'running' && !ctx.active.has(id)) {
          ctx.log.info({ studyId: id }, 'study submitted again: starting the stored study');
          await activate(ctx, current, true, plugins);
          ctx.emit({ studyId: id, type: 'study' });
        }
        return { study: current, created: false };
      });
    this.submitting.set(id, attempt);
    try {
      return await attempt;
    } finally {
      if (this.submitting.get(id) === attempt) this.submitting.delete(id);
    }
  }
}

async function createAndStart(
  ctx: EngineContext,
  spec: SearchSpec,
  specText: string,
  plugins: StudyPlugins,
  id?: string,
): Promise<StudyRecord> {
  const record = await ctx.store.createStudy({ spec, specText, ...(id ? { id } : {}) });
  ctx.log.info({ studyId: record.id, name: spec.name }, 'study submitted');
  await activate(ctx, record, false, plugins);
  ctx.emit({ studyId: record.id, type: 'study' });
  return record;
}

/** Makes a stored study active (resuming its stored trials when it ran before) and starts filling its slots. */
export async function activate(ctx: EngineContext, record: StudyRecord, resuming: boolean, built?: StudyPlugins): Promise<void> {
  const plugins = built ?? (await instantiate(record.spec, ctx.registry, ctx));
  const study = new ActiveStudy(record, plugins.strategy, plugins.rules);
  ctx.active.set(record.id, study);
  try {
    if (resuming) await resume(ctx, study);
  } catch (err) {
    // Not left half-built: whoever retries (a resubmit, the next start) begins afresh.
    if (ctx.active.get(record.id) === study) ctx.active.delete(record.id);
    throw err;
  }
  // Waited for a moment only: with the bus away, the first dispatch retries for a minute, and a
  // submit is answered meanwhile (the study is stored; pump keeps trying on its own).
  await within(pump(ctx, study), FIRST_PUMP_WAIT_MS);
}

/** How long activating a study waits for its first trials to be sent before it returns. */
const FIRST_PUMP_WAIT_MS = 2_000;

/** Takes a restarted study's stored trials back: finished ones as history, unfinished ones to run again. */
async function resume(ctx: EngineContext, study: ActiveStudy): Promise<void> {
  const record = study.record;
  const trials = await ctx.store.listTrials(record.id);
  for (const t of trials) {
    const live = study.add(t);
    // Only unfinished trials take reports; a late report for a finished one is ignored, as live.
    if (!FINISHED_TRIAL_STATES.has(live.state)) ctx.trialToStudy.set(live.id, study);
  }
  // The order trials ended in is not stored; their numbers are the nearest to it.
  for (const t of study.history()) study.noteEnded(t as LiveTrial);
  const unfinished = study.inFlight();
  // A stop decided before the restart stands (its end may be among the queued reports the start
  // reads first; see ended-studies.ts); the rest go out again (the bus drops duplicates).
  for (const trial of unfinished) if (trial.reason) markStoppedBeforeRestart(trial, trial.reason);
  let again = unfinished.filter((t) => !t.reason);
  if (ctx.bus.kind === 'local') {
    // One that had reported its last epoch and the objective trained in full: its end went with
    // the in-process bus, not its training. It completes, as a script that crashes or hangs after
    // its last epoch does (docs/command-runner.md), instead of training again from scratch.
    const { max_epochs } = record.spec.budget;
    const trained = again.filter((t) => t.state === 'running' && trainedWithValue(t, max_epochs));
    if (trained.length > 0) {
      const outcome = unheardEnd(max_epochs, 'before the daemon went down');
      await finishTrials(
        ctx,
        trained.map((trial) => ({ study, trial, outcome })),
      );
      again = again.filter((t) => !trained.includes(t));
    }
    // The in-process workers went down with the daemon: a trial that read running runs nowhere now,
    // and waits for a worker (there may be fewer now, or none) like any other queued trial.
    const queued = new Set(await ctx.store.markQueuedMany(again.filter((t) => t.state === 'running').map((t) => t.id)));
    for (const trial of again) if (queued.has(trial.id)) study.setState(trial, 'queued');
  }
  study.undispatched = again.map((t) => study.jobFor(t));
  ctx.log.info({ studyId: record.id, trials: trials.length, redispatched: study.undispatched.length }, 'study resumed');
}

/** JSON with every object's keys sorted: equal for equal values, whatever order their keys came in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
