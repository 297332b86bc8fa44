/** The vocabulary shared by every package: trials, reports and jobs as they travel and are stored. */

import { nearestName } from './spec/did-you-mean.ts';

export type ParamValue = number | string | boolean;
export type Params = Readonly<Record<string, ParamValue>>;

export type Direction = 'maximize' | 'minimize';
export type TrialState = 'queued' | 'running' | 'completed' | 'stopped' | 'failed';
export type StudyState = 'running' | 'completed' | 'stopped' | 'failed';

export const FINISHED_TRIAL_STATES: ReadonlySet<TrialState> = new Set(['completed', 'stopped', 'failed']);

/** Statistics of one layer's weights (and activations) at the end of an epoch. */
export interface LayerStats {
  layer: string;
  trainable: boolean;
  /** ‖W_t − W_0‖ / ‖W_0‖ of the kernel, relative to the pretrained weights. */
  kernelMovement?: number;
  /** ‖b_t − b_0‖: biases start at zero, so their movement is absolute. */
  biasMovement?: number;
  /** ‖W_t − W_{t−1}‖ / ‖W_{t−1}‖: how much the last epoch changed the kernel. */
  updateRatio?: number;
  mean?: number;
  std?: number;
  fractionNegative?: number;
  /** Kernel quantiles at QUANTILE_LEVELS: a histogram summary. */
  quantiles?: number[];
  /** Fraction of exact zeros after the activation on the fixed probe batch. */
  sparsity?: number;
  /** Fraction of units that are zero on the whole probe batch. */
  deadFraction?: number;
}

export const QUANTILE_LEVELS = [0, 0.05, 0.25, 0.5, 0.75, 0.95, 1] as const;

export interface EpochRecord {
  /** 1-based. */
  epoch: number;
  metrics: Readonly<Record<string, number>>;
  layers: readonly LayerStats[];
  /** Anything else the runner wants kept: classes without an AUC, diagnostics flags, backend. */
  notes?: Readonly<Record<string, unknown>>;
}

/** What strategies and stopping rules see of a trial. */
export interface TrialView {
  id: string;
  number: number;
  params: Params;
  state: TrialState;
  /** The objective: the best value over its epochs (raw, in the study's direction). */
  value?: number;
  epochs: readonly EpochRecord[];
  /** Set when a stopping rule, a user or a failure ended the trial. */
  reason?: string;
  /** Free-form bookkeeping a strategy attached when it asked for the trial (e.g. a hyperband bracket). */
  tags?: Readonly<Record<string, ParamValue>>;
}

/** A unit of work sent to a worker. */
export interface TrialJob {
  studyId: string;
  trialId: string;
  number: number;
  /** Sampled parameters merged over the spec's fixed values. */
  params: Params;
  maxEpochs: number;
  objective: { metric: string; direction: Direction };
  trainer: TrainerSpec;
  /** Worker pool the job is for. */
  pool: string;
  /**
   * Deliveries the trial had before this job was sent (a daemon that restarted sends its unfinished
   * trials again): a worker reports attempt = priorAttempts + this job's delivery count, so a run
   * started afresh is never taken for the one before it. Absent for a new trial.
   */
  priorAttempts?: number;
}

export interface TrainerSpec {
  runner: string;
  model?: string | undefined;
  dataset?: string | undefined;
  options?: Readonly<Record<string, unknown>> | undefined;
}

export interface EpochReport extends EpochRecord {
  kind: 'epoch';
  studyId: string;
  trialId: string;
  /** The job's delivery this report comes from (1 = the first); a later delivery starts the trial over. */
  attempt?: number;
}

export interface FinalReport {
  kind: 'final';
  studyId: string;
  trialId: string;
  state: 'completed' | 'stopped' | 'failed';
  reason?: string;
  notes?: Readonly<Record<string, unknown>>;
  /** The job's delivery this report comes from (1 = the first); a later delivery starts the trial over. */
  attempt?: number;
  /**
   * The worker lost its hold on the job while it ran (unheard for most of the ack wait), so the bus
   * may have handed the job to another worker; it left the job unacknowledged, for the daemon to settle.
   */
  leaseLapsed?: true;
}

export interface StartReport {
  kind: 'start';
  studyId: string;
  trialId: string;
  worker: string;
  /** The job's delivery this report comes from (1 = the first); a later delivery starts the trial over. */
  attempt?: number;
}

/**
 * A worker that shut down under a running trial handed it back: its job is queued again and its
 * next delivery trains from scratch. The trial waits for a worker meanwhile.
 */
export interface HandBackReport {
  kind: 'handback';
  studyId: string;
  trialId: string;
  worker: string;
  reason: string;
  /** The delivery handed back (later ones supersede it). */
  attempt?: number;
}

export type Report = StartReport | EpochReport | FinalReport | HandBackReport;

/** What a runner returns when a trial ends. */
export interface TrialOutcome {
  state: 'completed' | 'stopped' | 'failed';
  reason?: string;
  notes?: Readonly<Record<string, unknown>>;
}

/** Whether `a` is better than `b` in the given direction. NaN is never better. */
export function isBetter(a: number, b: number | undefined, direction: Direction): boolean {
  if (!Number.isFinite(a)) return false;
  if (b === undefined || !Number.isFinite(b)) return true;
  return direction === 'maximize' ? a > b : a < b;
}

/**
 * Whether a trial takes a rank: a finite value, and it did not fail (a crashed configuration is never
 * the best handed back, whatever it reported before). The Store's leaderboard SQL says the same.
 */
export function takesRank(t: Pick<TrialView, 'value' | 'state'>): boolean {
  return t.value !== undefined && Number.isFinite(t.value) && t.state !== 'failed';
}

/** The best finite value of `metric` over the epochs, or undefined. */
export function bestOf(epochs: readonly EpochRecord[], metric: string, direction: Direction): number | undefined {
  let best: number | undefined;
  for (const e of epochs) {
    const v = e.metrics[metric];
    if (v !== undefined && isBetter(v, best, direction)) best = v;
  }
  return best;
}

/**
 * Why a trial that ran to its end has no objective: the one wording of the engine's check and the
 * command runner's, naming what it did report (`seen`) over its `epochs` reported. `noAuc`: the
 * classes its last epoch noted as having no AUC (`auc_undefined_classes`), when it noted any.
 */
export function objectiveNeverReported(metric: string, seen: Iterable<string>, epochs: number, noAuc: readonly string[] = []): string {
  const names = [...seen].sort();
  const near = nearestName(metric, names);
  return (
    `objective metric '${metric}' was never reported; reported: ${names.length > 0 ? names.join(', ') : epochs > 0 ? 'no metrics' : 'no epoch at all'}` +
    noAucText(metric, noAuc) +
    // Either side may hold the typo: name both, suggest neither.
    (near
      ? ` ('${near}' differs from '${metric}' by a letter or two: is one of them misspelled, in the script or in objective.metric?)`
      : '')
  );
}

/**
 * Why an AUC objective may have no value, from the classes noted as having no AUC: a per-class
 * objective (`val_auc[cat]`) whose class is one of them; an average when every class it would
 * average is (the script left it out: the data, not the script). Empty otherwise.
 */
function noAucText(metric: string, noAuc: readonly string[]): string {
  if (noAuc.length === 0 || !/auc/i.test(metric)) return '';
  const perClass = /\[(.+)\]$/.exec(metric)?.[1];
  if (perClass !== undefined)
    return noAuc.includes(perClass)
      ? `. Class '${perClass}' had one label value in validation, so it has no AUC: validate on data that holds both label values of it`
      : '';
  return `. No class had an AUC to average (${listSome(noAuc)} had one label value in validation): validate on data that holds both label values of each class`;
}

/** The classes an epoch's notes list as having no AUC (`auc_undefined_classes`), or none. */
export function noAucClasses(notes: Readonly<Record<string, unknown>> | undefined): string[] {
  const noted = notes?.auc_undefined_classes;
  return Array.isArray(noted) ? noted.map(String) : [];
}

/** 'a, b, c' or 'a, b, c and 7 more'. */
export function listSome(names: readonly string[], shown = 5): string {
  return names.length <= shown ? names.join(', ') : `${names.slice(0, shown).join(', ')} and ${names.length - shown} more`;
}
