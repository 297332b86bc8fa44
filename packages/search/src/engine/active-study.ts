import {
  bestOf,
  FINISHED_TRIAL_STATES,
  type SearchSpec,
  type SearchStrategy,
  type StoppingRule,
  type StudyRecord,
  type TrialJob,
  type TrialState,
  type TrialView,
} from '@sweepd/core';

/**
 * A trial as the engine tracks it: the stored view, a stop decision still on its way to the worker,
 * and the job delivery its epochs come from (see attempts.ts).
 */
export type LiveTrial = TrialView & {
  pendingStop?: string;
  attempt?: number;
  /** Its stop was decided before the daemon restarted: ended after the catch-up unless its end is read there (ended-studies.ts). */
  stoppedBeforeRestart?: boolean;
  /** The deliveries up to this one were told to stop, as earlier ones that ran on (attempts.ts). */
  earlierStoppedUpTo?: number;
  /** A stop of the whole trial is asked (set at once; pendingStop once it is stored, before it is sent). */
  stopAsked?: boolean;
};

/**
 * What the engine holds in memory for a running study. All of it is derived from the Store
 * (loaded at activation, then kept current as reports are stored), so nothing is lost on a crash.
 */
export class ActiveStudy {
  readonly trials = new Map<string, LiveTrial>();
  /** Trials by number: the history strategies see, kept in order as trials are created. */
  private readonly ordered: LiveTrial[] = [];
  /** Trials queued or running, kept current by setState so pumps need not scan every trial. */
  private readonly unfinished = new Set<LiveTrial>();
  /** The strategy answered 'done': no more trials will be asked for. */
  exhausted = false;
  /** Jobs of created trials the bus has not accepted yet (it was away); sent before anything new. */
  undispatched: TrialJob[] = [];
  /**
   * A createTrials call failed without saying whether its transaction committed (the connection
   * broke after the COMMIT was sent): the store may hold trials this study does not know yet.
   */
  creationUncertain = false;
  /** A pending retry of a pump that failed. */
  retry: NodeJS.Timeout | undefined;
  /**
   * Reasons of the trials that failed since the last one that did not, in the order they ended:
   * a run of setup failures as long as `budget.max_consecutive_failures` ends the study.
   */
  failuresInARow: (string | undefined)[] = [];
  /** The trial that ended last (in the order they ended). */
  lastEnded: LiveTrial | undefined;
  /** Serialises asks so two pumps never draw for the same free slots. */
  private chain: Promise<void> = Promise.resolve();

  constructor(
    readonly record: StudyRecord,
    readonly strategy: SearchStrategy,
    readonly rules: readonly { name: string; rule: StoppingRule }[],
  ) {}

  get spec(): SearchSpec {
    return this.record.spec;
  }

  get id(): string {
    return this.record.id;
  }

  serial(task: () => Promise<void>): Promise<void> {
    const next = this.chain.then(task, task);
    this.chain = next.catch(() => {});
    return next;
  }

  add(trial: TrialView): LiveTrial {
    const live: LiveTrial = { ...trial, epochs: [...trial.epochs] };
    this.trials.set(trial.id, live);
    const last = this.ordered.at(-1);
    this.ordered.push(live);
    if (last && last.number > live.number) this.ordered.sort((a, b) => a.number - b.number);
    if (!FINISHED_TRIAL_STATES.has(live.state)) this.unfinished.add(live);
    return live;
  }

  setState(trial: LiveTrial, state: TrialState): void {
    trial.state = state;
    if (FINISHED_TRIAL_STATES.has(state)) this.unfinished.delete(trial);
    else this.unfinished.add(trial);
  }

  /** Counts a trial that just ended towards (or breaks) the current run of failures. */
  noteEnded(trial: LiveTrial): void {
    this.lastEnded = trial;
    if (trial.state === 'failed') this.failuresInARow.push(trial.reason);
    else if (FINISHED_TRIAL_STATES.has(trial.state)) this.failuresInARow = [];
  }

  /** Trials that may fail in a row; specs stored before the field existed get its default. */
  get maxConsecutiveFailures(): number {
    return this.spec.budget.max_consecutive_failures ?? 5;
  }

  history(): readonly TrialView[] {
    return this.ordered;
  }

  inFlight(): LiveTrial[] {
    return [...this.unfinished];
  }

  inFlightCount(): number {
    return this.unfinished.size;
  }

  /** Every trial that will exist has been created and has finished. */
  isComplete(): boolean {
    const budgetUsed = this.trials.size >= this.spec.budget.max_trials;
    return (budgetUsed || this.exhausted) && this.unfinished.size === 0;
  }

  refreshValue(trial: LiveTrial): void {
    trial.value = bestOf(trial.epochs, this.spec.objective.metric, this.spec.objective.direction);
  }

  jobFor(trial: LiveTrial): TrialJob {
    const { spec } = this;
    const prior = trial.attempt ? { priorAttempts: trial.attempt } : {};
    return {
      ...prior,
      studyId: this.id,
      trialId: trial.id,
      number: trial.number,
      params: { ...spec.fixed, ...trial.params },
      maxEpochs: spec.budget.max_epochs,
      objective: { metric: spec.objective.metric, direction: spec.objective.direction },
      trainer: { runner: spec.trainer.runner, model: spec.trainer.model, dataset: spec.trainer.dataset, options: spec.trainer.options },
      pool: spec.trainer.pool,
    };
  }
}
