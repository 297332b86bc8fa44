import { EventEmitter } from 'node:events';
import {
  type Bus,
  checkParams,
  FINISHED_TRIAL_STATES,
  type EpochReport,
  type EpochWrite,
  type FinalReport,
  type Logger,
  type Params,
  type PluginRegistry,
  type Report,
  registry as defaultRegistry,
  type SearchSpec,
  silentLogger,
  SpecError,
  type StartReport,
  type Store,
  type StudyRecord,
  type Subscription,
  type Suggestion,
  type TrialView,
} from '@sweepd/core';
import { ActiveStudy, type LiveTrial } from './active-study.ts';
import { decideAll, tagsForTrialAll } from '../stopping/index.ts';
import { describeFailures } from './failures.ts';
import { IdempotencyConflictError, studyIdForKey } from './idempotency.ts';
import { instantiate, validateStudy } from './instantiate.ts';

export interface EngineOptions {
  store: Store;
  bus: Bus;
  registry?: PluginRegistry;
  log?: Logger;
  /** Where relative plugin paths in specs are resolved from. */
  baseDir?: string;
  /** Whether the workers see this daemon's files (local workers do): a runner's check then also checks paths. Default true. */
  workersShareFiles?: boolean;
}

/** Emitted on every change a watcher may want to see (leaderboards, SSE). */
export interface EngineEvent {
  studyId: string;
  type: 'study' | 'trial-created' | 'trial-started' | 'epoch' | 'trial-stopping' | 'trial-finished';
  trialNumber?: number;
}

/**
 * The study loop: asks strategies for trials, dispatches them, ingests reports, applies the
 * stopping rules, and finishes studies. It keeps only derived state: on start it reloads every
 * running study from the Store and re-dispatches its unfinished trials, so a restarted daemon
 * continues without repeating or losing a trial.
 */
export class StudyEngine {
  readonly events = new EventEmitter<{ change: [EngineEvent] }>();
  private readonly active = new Map<string, ActiveStudy>();
  /** Submissions in progress by study id (idempotency keys), so repeats wait for the first. */
  private readonly submitting = new Map<string, Promise<{ study: StudyRecord; created: boolean }>>();
  private readonly trialToStudy = new Map<string, ActiveStudy>();
  private readonly store: Store;
  private readonly bus: Bus;
  private readonly registry: PluginRegistry;
  private readonly log: Logger;
  private readonly baseDir: string;
  private readonly workersShareFiles: boolean;
  private reports: Subscription | undefined;
  private closing = false;

  constructor(options: EngineOptions) {
    this.store = options.store;
    this.bus = options.bus;
    this.registry = options.registry ?? defaultRegistry;
    this.log = options.log ?? silentLogger;
    this.baseDir = options.baseDir ?? process.cwd();
    this.workersShareFiles = options.workersShareFiles ?? true;
    this.events.setMaxListeners(0);
  }

  /** Resumes running studies and starts ingesting reports. */
  async start(): Promise<void> {
    for (const record of await this.store.runningStudies()) {
      try {
        await this.activate(record, true);
      } catch (err) {
        await this.failStudy(record.id, `could not resume: ${errorText(err)}`);
      }
    }
    this.reports = await this.bus.consumeReports((batch) => this.ingest(batch));
  }

  /** Validates, stores and starts a study. Throws SpecError (nothing stored) when the spec is invalid. */
  async submit(input: string | SearchSpec): Promise<StudyRecord> {
    return (await this.submitStudy(input)).study;
  }

  /**
   * `submit`, made safe to repeat with an idempotency key: the first call with a key creates the
   * study, a repeat with the same spec returns it (`created: false`), starting it if the first
   * call stored it but failed before starting it; a repeat with another spec throws
   * IdempotencyConflictError. Calls with the same key run one at a time.
   */
  async submitStudy(input: string | SearchSpec, idempotencyKey?: string): Promise<{ study: StudyRecord; created: boolean }> {
    // Everything is checked before anything is stored, so a spec that cannot run is one 400
    // listing every problem (the runner's too), not a study of failed trials.
    const { spec, plugins } = await validateStudy(input, this.registry, {
      baseDir: this.baseDir,
      workersShareFiles: this.workersShareFiles,
    });
    const specText = typeof input === 'string' ? input : JSON.stringify(input, null, 2);
    const id = idempotencyKey === undefined ? undefined : studyIdForKey(idempotencyKey);
    if (id === undefined) return { study: await this.createAndStart(spec, specText, plugins), created: true };
    const previous = this.submitting.get(id) ?? Promise.resolve();
    const attempt = previous
      .catch(() => {})
      .then(async () => {
        const existing = await this.store.getStudy(id);
        if (!existing) return { study: await this.createAndStart(spec, specText, plugins, id), created: true };
        if (existing.specText !== specText) throw new IdempotencyConflictError(id);
        if (this.active.has(id)) return { study: existing, created: false };
        // Read again now that it is known to be inactive: stopStudy and failStudy store the new
        // state before they let go of a study, so a study ended meanwhile is not brought back.
        const current = (await this.store.getStudy(id)) ?? existing;
        if (current.state === 'running' && !this.active.has(id)) {
          this.log.info({ studyId: id }, 'study submitted again: starting the stored study');
          await this.activate(current, true, plugins);
          this.emit({ studyId: id, type: 'study' });
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

  private async createAndStart(
    spec: SearchSpec,
    specText: string,
    plugins: Awaited<ReturnType<typeof instantiate>>,
    id?: string,
  ): Promise<StudyRecord> {
    const record = await this.store.createStudy({ spec, specText, ...(id ? { id } : {}) });
    this.log.info({ studyId: record.id, name: spec.name }, 'study submitted');
    await this.activate(record, false, plugins);
    this.emit({ studyId: record.id, type: 'study' });
    return record;
  }

  async stopStudy(studyId: string, reason = 'stopped by user'): Promise<boolean> {
    const study = this.active.get(studyId);
    if (!study) return false;
    await study.serial(async () => {
      // Stored first: a keyed resubmit that finds the study inactive must find it stopped.
      await this.store.setStudyState(studyId, 'stopped', reason);
      this.active.delete(studyId);
      for (const trial of study.inFlight()) await this.stopTrialNow(study, trial, reason);
    });
    this.emit({ studyId, type: 'study' });
    return true;
  }

  /** Stops one trial of a running study. Returns false when it is not running or queued. */
  async stopTrial(studyId: string, number: number, reason = 'stopped by user'): Promise<boolean> {
    const study = this.active.get(studyId);
    const trial = study && [...study.trials.values()].find((t) => t.number === number);
    if (!study || !trial || (trial.state !== 'queued' && trial.state !== 'running')) return false;
    await this.stopTrialNow(study, trial, reason);
    return true;
  }

  isActive(studyId: string): boolean {
    return this.active.has(studyId);
  }

  /**
   * A running study as the engine holds it (everything already stored): lets live views skip
   * reading every epoch back from the Store. Undefined once the study has ended.
   */
  view(studyId: string): { record: StudyRecord; trials: readonly TrialView[] } | undefined {
    const study = this.active.get(studyId);
    return study && { record: study.record, trials: study.history() };
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const study of this.active.values()) clearTimeout(study.retry);
    await this.reports?.close();
  }

  private async activate(record: StudyRecord, resuming: boolean, built?: Awaited<ReturnType<typeof instantiate>>): Promise<void> {
    const plugins = built ?? (await instantiate(record.spec, this.registry, this.baseDir));
    const study = new ActiveStudy(record, plugins.strategy, plugins.rules);
    this.active.set(record.id, study);
    try {
      if (resuming) await this.resume(study);
    } catch (err) {
      // Not left half-built: whoever retries (a resubmit, the next start) begins afresh.
      if (this.active.get(record.id) === study) this.active.delete(record.id);
      throw err;
    }
    await this.pump(study);
  }

  /** Takes a restarted study's stored trials back: finished ones as history, unfinished ones to run again. */
  private async resume(study: ActiveStudy): Promise<void> {
    const record = study.record;
    const trials = await this.store.listTrials(record.id);
    for (const t of trials) {
      const live = study.add(t);
      // Only unfinished trials take reports; a late report for a finished one is ignored, as live.
      if (!FINISHED_TRIAL_STATES.has(live.state)) this.track(study, live);
    }
    // The order trials ended in is not stored; their numbers are the nearest to it.
    for (const t of study.history()) study.noteEnded(t as LiveTrial);
    const unfinished = study.inFlight();
    const stopped = unfinished.filter((t) => t.reason);
    // A stop decided before the restart stands; the rest go out again (the bus drops duplicates).
    await this.finishTrials(stopped.map((trial) => ({ study, trial, outcome: { state: 'stopped' as const, reason: trial.reason } })));
    study.undispatched = unfinished.filter((t) => !t.reason).map((t) => study.jobFor(t));
    this.log.info({ studyId: record.id, trials: trials.length, redispatched: study.undispatched.length }, 'study resumed');
  }

  private track(study: ActiveStudy, trial: LiveTrial): void {
    this.trialToStudy.set(trial.id, study);
  }

  /** Fills free parallel slots with new trials from the strategy, or finishes the study. */
  private pump(study: ActiveStudy): Promise<void> {
    return study.serial(async () => {
      if (this.closing || this.active.get(study.id) !== study) return;
      try {
        await this.fill(study);
      } catch (err) {
        // The Store or the Bus is away for a moment: nothing is lost (the Store holds the trials,
        // undispatched jobs are kept), so try again shortly rather than fail the study.
        this.log.warn({ studyId: study.id, err: errorText(err) }, 'could not advance the study; retrying in 1 s');
        clearTimeout(study.retry);
        study.retry = setTimeout(() => void this.pump(study), 1_000);
      }
    });
  }

  private async fill(study: ActiveStudy): Promise<void> {
    const { failuresInARow } = study;
    if (failuresInARow.length >= study.maxConsecutiveFailures && !study.isComplete()) {
      // Setup failures repeat (an unknown dataset, an impossible option): stop before the budget is spent on them.
      await this.failStudy(study.id, describeFailures(failuresInARow, false));
      return;
    }
    if (study.creationUncertain) await this.adoptStoredTrials(study);
    await this.flushDispatch(study);
    const { budget } = study.spec;
    const free = Math.min(budget.parallelism - study.inFlightCount(), budget.max_trials - study.trials.size);
    if (free > 0 && !study.exhausted) {
      let answer: Array<Params | Suggestion> | 'done';
      try {
        answer = await study.strategy.ask(study.history(), free);
      } catch (err) {
        await this.failStudy(study.id, `strategy ${study.spec.strategy.name} failed: ${errorText(err)}`);
        return;
      }
      if (answer === 'done' || (answer.length === 0 && study.inFlightCount() === 0)) {
        study.exhausted = true;
      } else {
        const suggestions = answer.slice(0, free).map(toSuggestion);
        const bad = suggestions.map((s) => checkParams(study.spec.space, s.params)).find((p) => p.length > 0);
        if (bad) {
          await this.failStudy(study.id, `strategy ${study.spec.strategy.name} returned parameters outside the space: ${bad.join('; ')}`);
          return;
        }
        await this.createAndDispatch(study, suggestions);
      }
    }
    if (study.isComplete() && study.allFailed()) {
      await this.failStudy(
        study.id,
        describeFailures(
          study.history().map((t) => t.reason),
          true,
        ),
      );
    } else if (study.isComplete()) {
      await this.store.setStudyState(study.id, 'completed');
      this.active.delete(study.id);
      this.log.info({ studyId: study.id, trials: study.trials.size }, 'study completed');
      this.emit({ studyId: study.id, type: 'study' });
    }
  }

  /** Sends the jobs created but not yet accepted by the bus. */
  private async flushDispatch(study: ActiveStudy): Promise<void> {
    if (study.undispatched.length === 0) return;
    const jobs = study.undispatched.filter((j) => {
      const state = study.trials.get(j.trialId)?.state;
      return state === 'queued' || state === 'running';
    });
    await this.bus.dispatch(jobs);
    study.undispatched = [];
  }

  private async createAndDispatch(study: ActiveStudy, suggestions: Suggestion[]): Promise<void> {
    const first = study.trials.size;
    let created: TrialView[];
    try {
      created = await this.store.createTrials(
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
      this.track(study, study.add(t));
      this.emit({ studyId: study.id, type: 'trial-created', trialNumber: t.number });
    }
    study.undispatched.push(...created.map((t) => study.jobFor(t)));
    await this.flushDispatch(study);
  }

  /**
   * Takes in the trials the store holds and this study does not know: those of a createTrials whose
   * reply was lost after it committed. Without this they would stay queued forever, never
   * dispatched, while the study created others in their place past its budget.
   */
  private async adoptStoredTrials(study: ActiveStudy): Promise<void> {
    const stored = await this.store.listTrials(study.id);
    for (const t of stored) {
      if (study.trials.has(t.id)) continue;
      const trial = study.add(t);
      this.track(study, trial);
      if (!FINISHED_TRIAL_STATES.has(trial.state)) study.undispatched.push(study.jobFor(trial));
      this.log.warn({ studyId: study.id, trial: trial.number }, 'adopted a trial stored by a creation whose reply was lost');
      this.emit({ studyId: study.id, type: 'trial-created', trialNumber: trial.number });
    }
    study.creationUncertain = false;
  }

  /** Handles one batch of reports. Throwing makes the bus deliver the batch again; every step is idempotent. */
  private async ingest(batch: readonly Report[]): Promise<void> {
    const starts: StartReport[] = [];
    const epochs: EpochReport[] = [];
    const finals: FinalReport[] = [];
    for (const r of batch) {
      if (!this.trialToStudy.has(r.trialId)) {
        this.log.debug({ trialId: r.trialId, kind: r.kind }, 'report for a trial of no running study ignored');
      } else if (r.kind === 'start') starts.push(r);
      else if (r.kind === 'epoch') epochs.push(r);
      else finals.push(r);
    }

    for (const trialId of await this.store.markRunningMany(starts.map((r) => ({ trialId: r.trialId, worker: r.worker })))) {
      const study = this.trialToStudy.get(trialId) as ActiveStudy;
      const trial = study.trials.get(trialId) as LiveTrial;
      if (trial.state === 'queued') study.setState(trial, 'running');
      this.emit({ studyId: study.id, type: 'trial-started', trialNumber: trial.number });
    }

    await this.recordEpochs(epochs);

    const finishing = new Set(finals.map((f) => f.trialId));
    for (const trialId of new Set(epochs.map((e) => e.trialId))) {
      if (!finishing.has(trialId)) await this.applyRules(trialId);
    }

    const firstFinals = [...new Map(finals.map((r) => [r.trialId, r] as const).reverse()).values()];
    const ending = firstFinals.map((r) => {
      const study = this.trialToStudy.get(r.trialId) as ActiveStudy;
      return { study, trial: study.trials.get(r.trialId) as LiveTrial, outcome: r };
    });
    await this.finishTrials(ending);
    const touched = new Set(ending.map((e) => e.study));
    // One ask per study per batch: the strategy fills every slot the batch freed at once.
    for (const study of touched) await this.pump(study);
  }

  private async recordEpochs(epochs: readonly EpochReport[]): Promise<void> {
    if (epochs.length === 0) return;
    const byStudy = new Map<ActiveStudy, EpochWrite[]>();
    for (const e of epochs) {
      const study = this.trialToStudy.get(e.trialId) as ActiveStudy;
      const writes = byStudy.get(study) ?? [];
      const write: EpochWrite = { trialId: e.trialId, epoch: e.epoch, metrics: e.metrics, layers: e.layers };
      if (e.notes) write.notes = e.notes;
      writes.push(write);
      byStudy.set(study, writes);
    }
    for (const [study, writes] of byStudy) {
      await this.store.recordEpochs(writes, study.spec.objective);
      for (const w of writes) {
        const trial = study.trials.get(w.trialId) as LiveTrial;
        const epochs = trial.epochs.filter((x) => x.epoch !== w.epoch);
        epochs.push(w);
        epochs.sort((a, b) => a.epoch - b.epoch);
        trial.epochs = epochs;
        if (trial.state === 'queued') study.setState(trial, 'running');
        study.refreshValue(trial);
        this.emit({ studyId: study.id, type: 'epoch', trialNumber: trial.number });
      }
    }
  }

  private async applyRules(trialId: string): Promise<void> {
    const study = this.trialToStudy.get(trialId) as ActiveStudy;
    const trial = study.trials.get(trialId) as LiveTrial;
    if (trial.pendingStop || trial.state !== 'running' || study.rules.length === 0) return;
    const decision = decideAll(
      study.rules,
      trial,
      study.history().filter((t) => t !== trial),
    );
    if (decision.stop)
      await this.stopTrialNow(
        study,
        trial,
        decision.reason.startsWith(decision.rule) ? decision.reason : `${decision.rule}: ${decision.reason}`,
      );
  }

  private async stopTrialNow(study: ActiveStudy, trial: LiveTrial, reason: string): Promise<void> {
    if (trial.pendingStop) return;
    this.log.info({ studyId: study.id, trial: trial.number, reason }, 'stopping trial');
    if (trial.state === 'queued') {
      await this.bus.stop(trial.id, reason);
      await this.finishTrial(study, trial, { state: 'stopped', reason });
      return;
    }
    // Marked only once stored and sent: if either fails, the report batch is delivered again and the rule decides again.
    await this.store.setTrialReason(trial.id, reason);
    await this.bus.stop(trial.id, reason);
    trial.pendingStop = reason;
    trial.reason = reason;
    this.emit({ studyId: study.id, type: 'trial-stopping', trialNumber: trial.number });
  }

  private finishTrial(study: ActiveStudy, trial: LiveTrial, outcome: Outcome): Promise<void> {
    return this.finishTrials([{ study, trial, outcome }]);
  }

  /** Ends trials in one store write. Trials that had already ended stay as they were. */
  private async finishTrials(entries: readonly { study: ActiveStudy; trial: LiveTrial; outcome: Outcome }[]): Promise<void> {
    const resolved = entries.map(({ study, trial, outcome }) => {
      // A stop decided here is the reason that counts, whatever the worker said while winding down.
      const reason = trial.pendingStop ?? outcome.reason;
      const state = trial.pendingStop && outcome.state !== 'failed' ? 'stopped' : outcome.state;
      return { study, trial, state, reason, notes: outcome.notes };
    });
    const changed = new Set(
      await this.store.finishTrials(
        resolved.map(({ trial, state, reason, notes }) => ({
          trialId: trial.id,
          state,
          ...(reason ? { reason } : {}),
          ...(notes ? { notes } : {}),
        })),
      ),
    );
    for (const { study, trial, state, reason } of resolved) {
      if (!changed.has(trial.id) && FINISHED_TRIAL_STATES.has(trial.state)) continue;
      study.setState(trial, state);
      this.trialToStudy.delete(trial.id);
      if (reason) trial.reason = reason;
      study.noteEnded(trial);
      delete trial.pendingStop;
      this.log.info({ studyId: study.id, trial: trial.number, state, reason, value: trial.value }, 'trial finished');
      this.emit({ studyId: study.id, type: 'trial-finished', trialNumber: trial.number });
    }
  }

  private async failStudy(studyId: string, reason: string): Promise<void> {
    const study = this.active.get(studyId);
    this.log.error({ studyId, reason }, 'study failed');
    try {
      // Stored first, as in stopStudy; let go of the study even when the store is away.
      await this.store.setStudyState(studyId, 'failed', reason);
    } finally {
      this.active.delete(studyId);
    }
    if (study) for (const trial of study.inFlight()) await this.stopTrialNow(study, trial, `study failed: ${reason}`);
    this.emit({ studyId, type: 'study' });
  }

  private emit(event: EngineEvent): void {
    this.events.emit('change', event);
  }
}

type Outcome = Pick<FinalReport, 'state' | 'reason' | 'notes'>;

function toSuggestion(s: Params | Suggestion): Suggestion {
  const maybe = s as Suggestion;
  return typeof maybe.params === 'object' && maybe.params !== null && !Array.isArray(maybe.params) ? maybe : { params: s as Params };
}

function errorText(err: unknown): string {
  if (err instanceof SpecError) return err.problems.map((p) => `${p.path}: ${p.message}`).join('; ');
  return err instanceof Error ? err.message : String(err);
}
