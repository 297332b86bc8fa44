import type { SpecProblem } from '../spec/errors.ts';
import type { SearchSpec, Space } from '../spec/schema.ts';
import type { Direction, EpochRecord, Params, ParamValue, TrialJob, TrialOutcome, TrialView } from '../types.ts';

/** What a strategy asked for: parameters, and optional tags stored with the trial (e.g. a bracket). */
export interface Suggestion {
  params: Params;
  tags?: Readonly<Record<string, ParamValue>>;
}

export interface StrategyContext {
  space: Space;
  direction: Direction;
  /** The objective metric, for strategies that read learning curves. */
  metric: string;
  /** The study's budget, for strategies that plan (grid size, hyperband brackets). */
  maxTrials: number;
  maxEpochs: number;
  /**
   * The spec's baseline, where it has one: run first, as trial 0, before any suggestion, it takes
   * one trial of maxTrials, and strategies then see it in their history. Its values are those of
   * the space's parameters that apply to it (no `fixed` ones).
   */
  baseline?: Params;
}

/**
 * Draws trials. A pure function of the history (and its options, e.g. a seed): all state lives
 * in the Store, so a restarted daemon asks again and gets the same answer.
 * Returns [] when it has nothing to suggest now (e.g. waiting for results), 'done' when exhausted.
 */
export interface SearchStrategy {
  ask(history: readonly TrialView[], n: number): Promise<Array<Params | Suggestion> | 'done'>;
}

export interface StoppingContext {
  direction: Direction;
  metric: string;
  maxEpochs: number;
  /** The study's budget.max_trials, where known (for submit-time checks of options that count trials). */
  maxTrials?: number;
}

export type StopDecision = { stop: false } | { stop: true; reason: string };

/** Decides after each epoch whether a running trial should stop. Pure: trial and peers in, decision out. */
export interface StoppingRule {
  decide(trial: TrialView, peers: readonly TrialView[]): StopDecision;
  /**
   * Tags stored with each new trial before it starts (e.g. hyperband's bracket), derived from the
   * trial's number only, so a restarted daemon assigns the same ones.
   */
  tagsForTrial?(trialNumber: number): Readonly<Record<string, ParamValue>>;
}

export interface RunnerContext {
  /** Aborted when the trial is stopped (a rule, a user, a shutdown); stop at the next batch. */
  signal: AbortSignal;
  report(epoch: EpochRecord): Promise<void>;
  log(message: string): void;
  /** With Runner.reportsStart: says the trial has begun training (its wait, for a GPU say, is over). */
  started?(): void;
}

/** Trains one trial (trainer side). */
export interface Runner {
  run(job: TrialJob, ctx: RunnerContext): Promise<TrialOutcome>;
  /**
   * The runner calls ctx.started() once the trial begins, after a wait of its own (a GPU): until
   * then the trial reads queued, not running. Without it the worker reports the start at once.
   */
  readonly reportsStart?: boolean;
  /** Releases whatever the runner holds (models, datasets, child processes). */
  close?(): Promise<void>;
}

export interface PluginKinds {
  strategy: { instance: SearchStrategy; context: StrategyContext };
  stopping: { instance: StoppingRule; context: StoppingContext };
  runner: { instance: Runner; context: RunnerPluginContext };
}

export interface RunnerPluginContext {
  /** Where the runner may cache datasets and models. */
  cacheDir: string;
  log(message: string): void;
}

/** What a runner's submit-time check may rely on. */
export interface RunnerCheckContext {
  /** Where relative paths in the spec (model, dataset, command) are read from: the daemon's working directory. */
  baseDir?: string;
  /**
   * Whether the workers see the daemon's files (the embedded daemon's local workers do; remote
   * NATS workers may not): paths are checked for existence only then. Default true.
   */
  workersShareFiles?: boolean;
  /**
   * Names the spec gives in space or fixed whose entries did not parse (they have problems of their
   * own and are not in the draft the check reads): a check for a name's presence counts them present.
   */
  unparsedParams?: readonly string[];
}

export type PluginKind = keyof PluginKinds;

/**
 * A strategy, stopping rule or runner. `parseOptions` validates the spec's options and throws
 * (preferably a zod error or SpecError) naming what is wrong; `create` builds an instance.
 */
export interface Plugin<K extends PluginKind = PluginKind, O = unknown> {
  kind: K;
  name: string;
  /** One sentence for docs and error messages. */
  description?: string;
  parseOptions(raw: unknown): O;
  create(options: O, ctx: PluginKinds[K]['context']): PluginKinds[K]['instance'] | Promise<PluginKinds[K]['instance']>;
  /**
   * Runners only: every problem with the spec that this runner can see at submit time (parameter
   * names and ranges it accepts, its options, model and dataset), with paths from the spec's root
   * (e.g. `space.frozen_layers.high`, `trainer.options.command`). The daemon calls it before it
   * stores a study, so a spec that cannot run is refused with 400 instead of failing trial by trial.
   */
  checkSpec?(spec: SearchSpec, ctx: RunnerCheckContext): readonly SpecProblem[] | Promise<readonly SpecProblem[]>;
  /**
   * Runners only: what in a spec that passed checkSpec may well fail but need not (the runner
   * cannot know at submit, e.g. whether a script reports a metric itself). The study is stored and
   * runs; the submit answer carries these as warnings.
   */
  specWarnings?(spec: SearchSpec): readonly SpecProblem[];
  /**
   * What is wrong with these (parsed) options in this study, or undefined: asked at submit only,
   * so a study stored before a check existed still resumes after a restart. Stopping rules use it
   * to refuse options that leave them no epoch to act on before the budget's last.
   */
  checkOptions?(options: O, ctx: PluginKinds[K]['context']): string | undefined;
}
