import type { SearchSpec } from '../spec/schema.ts';
import type { EpochRecord, Params, ParamValue, StudyState, TrialState, TrialView } from '../types.ts';

export interface StudyRecord {
  id: string;
  name: string;
  spec: SearchSpec;
  /** The text the user submitted (YAML or JSON), kept for export and audit. */
  specText: string;
  state: StudyState;
  reason?: string;
  createdAt: Date;
  finishedAt?: Date;
}

export interface StudySummary extends StudyRecord {
  counts: Record<TrialState, number>;
  /** Best finite objective value among its trials that did not fail, if any. */
  best?: number;
}

export interface TrialRecord extends TrialView {
  studyId: string;
  worker?: string;
  /** The job delivery the stored epochs come from (1 = the first), once one has started. */
  attempt?: number;
  createdAt: Date;
  startedAt?: Date;
  finishedAt?: Date;
  notes?: Readonly<Record<string, unknown>>;
}

export interface NewTrial {
  params: Params;
  tags?: Readonly<Record<string, ParamValue>>;
}

export interface EpochWrite extends EpochRecord {
  trialId: string;
}

/**
 * Where everything durable lives. Every method is safe to repeat: repeating recordEpochs for the
 * same trial and epoch overwrites that epoch (never a second row), and finishing a trial that is
 * already finished changes nothing and returns false.
 */
export interface Store {
  readonly kind: string;

  createStudy(input: { spec: SearchSpec; specText: string; id?: string }): Promise<StudyRecord>;
  getStudy(id: string): Promise<StudyRecord | undefined>;
  /**
   * Studies with their trial counts and best value, oldest first; `page`: `limit` of them from the
   * `offset`-th (0-based), reading only those (a daemon may hold thousands of studies).
   */
  listStudies(page?: { limit?: number; offset?: number }): Promise<StudySummary[]>;
  /** How many studies there are. */
  countStudies(): Promise<number>;
  /** Studies in state 'running', for a daemon that (re)starts. */
  runningStudies(): Promise<StudyRecord[]>;
  setStudyState(id: string, state: StudyState, reason?: string): Promise<void>;

  /** Creates trials numbered after the study's existing ones (0, 1, 2, ...), in state 'queued'. */
  createTrials(studyId: string, trials: readonly NewTrial[]): Promise<TrialView[]>;
  /** Every trial of the study with its epochs (metrics and layer statistics), ordered by number. */
  listTrials(studyId: string): Promise<TrialRecord[]>;
  getTrial(studyId: string, number: number): Promise<TrialRecord | undefined>;
  /**
   * One page of the leaderboard without reading the whole study: trials with a finite value that
   * did not fail, by value (best first; ties by number), then the rest by number; each with its
   * epochs' metrics (no layer statistics). `ranked` counts the ranked trials, `total` all of them.
   * Optional: a store without it is ranked in memory from listTrials.
   */
  leaderboardPage?(
    studyId: string,
    direction: 'maximize' | 'minimize',
    page: { limit?: number; offset?: number },
  ): Promise<{ total: number; ranked: number; trials: TrialRecord[] }>;
  /** queued -> running; no effect on a finished trial. Returns whether it changed. */
  markRunning(trialId: string, worker: string): Promise<boolean>;
  /** Upserts epochs (unique per trial and epoch) and keeps each trial's best value current. */
  recordEpochs(epochs: readonly EpochWrite[], objective: { metric: string; direction: 'maximize' | 'minimize' }): Promise<void>;
  /** markRunning for many trials in one statement. Returns the ids that changed. */
  markRunningMany(items: readonly { trialId: string; worker: string }[]): Promise<string[]>;
  /**
   * running -> queued, without a worker: handed back (a worker shut down under it), the trial waits
   * for another. Queued and finished trials are left alone. Returns the ids that changed.
   */
  markQueuedMany(trialIds: readonly string[]): Promise<string[]>;
  /**
   * A job delivery has begun for each trial: an unfinished trial whose stored attempt is lower (or
   * unset) takes the new one, and, since a delivery trains from scratch, loses the epochs (with
   * their layer statistics) and the value of earlier deliveries; one already at that attempt or
   * later is left alone. Returns every unfinished trial asked about with its attempt after the call
   * and how many epochs it lost (so a caller whose earlier call committed but whose reply was lost
   * learns where the store is); finished and unknown trials are left out.
   */
  beginAttempts(items: readonly { trialId: string; attempt: number }[]): Promise<{ trialId: string; attempt: number; discarded: number }[]>;
  /** Records why a trial is being stopped before it has finished (shown while it winds down). */
  setTrialReason(trialId: string, reason: string): Promise<void>;
  /** Ends a trial. No effect (returns false) when it had already ended. */
  finishTrial(
    trialId: string,
    outcome: { state: Exclude<TrialState, 'queued' | 'running'>; reason?: string; notes?: Readonly<Record<string, unknown>> },
  ): Promise<boolean>;

  /** finishTrial for many trials in one statement. Returns the ids that changed (those not already finished). */
  finishTrials(items: readonly ({ trialId: string } & TrialOutcomeWrite)[]): Promise<string[]>;

  close(): Promise<void>;
}

export interface TrialOutcomeWrite {
  state: Exclude<TrialState, 'queued' | 'running'>;
  reason?: string;
  notes?: Readonly<Record<string, unknown>>;
}
