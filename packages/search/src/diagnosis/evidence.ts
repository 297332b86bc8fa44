import {
  type Direction,
  divergedNote,
  type EpochRecord,
  hasWeightStats,
  type LayerStats,
  noAucClasses,
  type TrialView,
  trainableInferred,
  untrainedLayers,
} from '@sweepd/core';
import { lateStopOf } from '../engine/late-stop.ts';
import { isAucName } from './objective-scale.ts';

/**
 * What a trial's own records show, read once for the diagnosis: the objective's course, how far
 * the trainable kernels and biases moved, dead units and sparsity, and whether it diverged.
 */

export interface MetricCourse {
  name: string;
  direction: Direction;
  /** The finite values in epoch order, with their epochs. */
  points: Array<{ epoch: number; value: number }>;
  first: number;
  best: number;
  bestEpoch: number;
  last: number;
  /** The value a model that learned nothing scores (0.5 for an AUC); undefined when unknown. */
  chance?: number;
  /** best − first, in the objective's direction (≥ 0). */
  gain: number;
  /** best − last, in the objective's direction (≥ 0): how far it fell back from its best. */
  fallBack: number;
}

export interface Movement {
  /** Median over the trainable layers reporting it, at the last epoch with statistics. */
  median: number;
  max: number;
  maxLayer: string;
  layers: number;
}

export interface TrialEvidence {
  epochs: number;
  metric?: MetricCourse;
  /** Why the trial counts as diverged (NaN loss or metric, a runner flag, a divergence stop). */
  diverged?: string;
  /** ‖W − W₀‖ / ‖W₀‖ of the trainable kernels. */
  kernels?: Movement;
  /**
   * Trainable layers that report an update ratio but no movement, because their kernel started at
   * zero (a fine-tuned head): movement relative to the start is undefined for them.
   */
  kernelsFromZero?: string[];
  /** Trainable layers named in `non_finite_layers` whose kernel has no finite movement (NaN or infinite weights). */
  kernelsNonFinite?: string[];
  /** The last epoch's ‖W_t − W_{t−1}‖ / ‖W_{t−1}‖ of the trainable kernels. */
  updateRatio?: Movement;
  /** ‖b − b₀‖ (absolute) of the trainable layers' biases. */
  biases?: Movement;
  /**
   * The largest dead-unit fraction at the last epoch, the same layer's at the first, and before
   * any training step (`start`) where the script measured it (the `activations_at_start` note).
   */
  dead?: Activation;
  /** The same for activation sparsity. */
  sparsity?: Activation;
  /**
   * How many layers the last epoch with layer statistics reported, and how many of them were
   * trainable; `inferred` when `trainable` was read off unchanged weight histograms (event files
   * do not say what is frozen), where false means only that no histogram changed. `weighted`: the
   * layers with statistics of their weights (an activation's own entry has none and is never
   * trainable); `frozen`: those of them not trainable.
   */
  reported?: { layers: number; trainable: number; inferred?: boolean; weighted: number; frozen: number };
  /**
   * Where `trainable` was read off weight histograms: every reported layer's histogram at the last
   * epoch with layers (`to`) was the one it had at its first (`from`, an earlier epoch), so no
   * weight moved past a bucket edge; the only evidence of movement event files give.
   */
  unchangedHistograms?: { layers: number; from: number; to: number };
  /** How its layers show that none of its weights trained (nothingTrained), whatever its objective did. */
  nothingTrained?: NothingTrained;
}

/**
 * How a trial's layers show that none of its weights trained: every reported layer with weights
 * frozen ('frozen'); event files whose every weight histogram stayed as it was ('unchanged-histograms':
 * frozen, or a rate too low to move a weight past a bucket edge); or not one trainable weight changed
 * at all ('no-step': the optimizer never stepped them). Read at the last epoch with layers.
 */
export type NothingTrained = 'frozen' | 'unchanged-histograms' | 'no-step';

/** The epochs with layer statistics, in epoch order. */
function epochsWithLayers(trial: TrialView): EpochRecord[] {
  return trial.epochs.filter((e) => e.layers.length > 0).sort((a, b) => a.epoch - b.epoch);
}

/** The first and last epochs with layer statistics, in one pass (a diagnosis asks this of every peer). */
function layerEnds(epochs: readonly EpochRecord[]): { first: EpochRecord; last: EpochRecord } | undefined {
  let first: EpochRecord | undefined;
  let last: EpochRecord | undefined;
  for (const e of epochs) {
    if (e.layers.length === 0) continue;
    if (first === undefined || e.epoch < first.epoch) first = e;
    if (last === undefined || e.epoch > last.epoch) last = e;
  }
  return first && last ? { first, last } : undefined;
}

function nothingTrainedIn(ends: { first: EpochRecord; last: EpochRecord } | undefined): NothingTrained | undefined {
  if (!ends) return undefined;
  const { first, last } = ends;
  const still = untrainedLayers(last);
  if (still) {
    // Event files do not say what is frozen: an unchanged histogram says only that no weight crossed a bucket
    // edge, and at the first epoch with histograms, nothing (it is compared with itself).
    if (!still.histograms) return 'frozen';
    return first !== last ? 'unchanged-histograms' : undefined;
  }
  const trainable = last.layers.filter((l) => l.trainable && hasWeightStats(l));
  const moves = trainable.flatMap((l) => [l.kernelMovement, l.updateRatio]).filter((v): v is number => typeof v === 'number');
  const biases = trainable.map((l) => l.biasMovement).filter((v): v is number => typeof v === 'number');
  return moves.length > 0 && moves.every((v) => v === 0) && biases.every((v) => v === 0) ? 'no-step' : undefined;
}

/** How the trial's layers show that none of its weights trained, or undefined (see NothingTrained). */
export function nothingTrained(trial: TrialView): NothingTrained | undefined {
  return nothingTrainedIn(layerEnds(trial.epochs));
}

/**
 * 0.5 for AUC-like objectives (a constant score ranks nothing), 50 for one in percent (`scale`
 * 100, see objectiveUnits); unknown otherwise.
 */
export function chanceLevel(metric: string, direction: Direction, scale = 1): number | undefined {
  return direction === 'maximize' && isAucName(metric) ? 0.5 * (scale === 100 ? 100 : 1) : undefined;
}

function metricCourse(trial: TrialView, name: string, direction: Direction, chance: number | undefined): MetricCourse | undefined {
  const points: Array<{ epoch: number; value: number }> = [];
  for (const e of [...trial.epochs].sort((a, b) => a.epoch - b.epoch)) {
    const v = e.metrics[name];
    if (typeof v === 'number' && Number.isFinite(v)) points.push({ epoch: e.epoch, value: v });
  }
  if (points.length === 0) return undefined;
  const sign = direction === 'maximize' ? 1 : -1;
  let best = points[0] as { epoch: number; value: number };
  for (const p of points) if (sign * (p.value - best.value) > 0) best = p;
  const first = (points[0] as { value: number }).value;
  const last = (points[points.length - 1] as { value: number }).value;
  return {
    name,
    direction,
    points,
    first,
    best: best.value,
    bestEpoch: best.epoch,
    last,
    ...(chance !== undefined ? { chance } : {}),
    gain: sign * (best.value - first),
    fallBack: sign * (best.value - last),
  };
}

/**
 * The objective's course, and whether its weights trained at all (its last layers only), as a
 * TrialEvidence: enough to judge whether a peer learned without reading the rest of its layers'
 * figures (a large study has thousands of peers).
 */
export function metricEvidence(trial: TrialView, name: string, direction: Direction, chance: number | undefined): TrialEvidence {
  const metric = metricCourse(trial, name, direction, chance);
  const untrained = nothingTrained(trial);
  return { epochs: trial.epochs.length, ...(metric ? { metric } : {}), ...(untrained ? { nothingTrained: untrained } : {}) };
}

/** What diverged in the trial (a non-finite loss or objective, weights gone NaN), or undefined. */
export function divergence(trial: TrialView, metric: string): string | undefined {
  for (const e of trial.epochs) {
    for (const key of ['train_loss', 'val_loss', metric]) {
      const v = e.metrics[key];
      if (typeof v === 'number' && !Number.isFinite(v)) return `${key} is ${v} at epoch ${e.epoch}`;
    }
    if (e.notes?.diverged === true) return divergedNote(e);
  }
  if (trial.reason && /^(diverged|divergence)\b/.test(trial.reason)) return trial.reason;
  // A divergence stop that came after the trial's last epoch: it completed, and still diverged.
  const late = trial.reason ? lateStopOf(trial.reason) : undefined;
  if (late && /^(diverged|divergence)\b/.test(late)) return late;
  return undefined;
}

/**
 * Whether only the evaluation went non-finite: at the first epoch with a non-finite figure (or a
 * diverged note, such as the Python client's for NaN scores), that is the objective or a validation
 * metric, while train_loss is a finite number and the weights it reports are finite. A rate too high breaks the training itself; this is a NaN in the evaluation
 * (scores, a division by an empty count, the validation inputs).
 */
export function evaluationOnlyNonFinite(trial: TrialView, metric: string): boolean {
  for (const e of trial.epochs) {
    const bad = Object.entries(e.metrics).filter(([, v]) => typeof v === 'number' && !Number.isFinite(v));
    if (bad.length === 0 && e.notes?.diverged !== true) continue;
    const trainLoss = e.metrics.train_loss;
    const finiteWeights =
      e.layers.length > 0 &&
      e.layers.every((l) => [l.kernelMovement, l.mean, l.std].every((v) => v === undefined || v === null || Number.isFinite(v)));
    // A runner's own flag for weights gone non-finite is training; a client's for NaN scores is not by itself.
    return (
      e.notes?.non_finite_layers === undefined &&
      bad.every(([k]) => k === metric || k.startsWith('val_')) &&
      typeof trainLoss === 'number' &&
      Number.isFinite(trainLoss) &&
      finiteWeights
    );
  }
  return false;
}

function movement(layers: readonly LayerStats[], key: 'kernelMovement' | 'updateRatio' | 'biasMovement'): Movement | undefined {
  const found = layers
    .filter((l) => l.trainable && typeof l[key] === 'number' && Number.isFinite(l[key]))
    .map((l) => ({ layer: l.layer, v: l[key] as number }));
  if (found.length === 0) return undefined;
  const sorted = found.map((f) => f.v).sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  const top = found.reduce((a, b) => (b.v > a.v ? b : a));
  return { median, max: top.v, maxLayer: top.layer, layers: found.length };
}

/** The layers any epoch's notes name as having gone non-finite (`non_finite_layers`, which the worker adds). */
function nonFiniteLayers(epochs: readonly EpochRecord[]): Set<string> {
  const names = new Set<string>();
  for (const e of epochs) {
    const layers = e.notes?.non_finite_layers;
    if (Array.isArray(layers)) for (const name of layers) if (typeof name === 'string') names.add(name);
  }
  return names;
}

export interface Activation {
  layer: string;
  value: number;
  first?: number;
  start?: number;
}

/**
 * A layer's activation statistic before any training step, from the note the Python clients add
 * to the first epoch they report (`activations_at_start: { <layer>: { deadFraction, sparsity } }`):
 * what is dead after epoch 1 may have died in epoch 1, under a rate too high.
 */
function atStart(epochs: readonly EpochRecord[], layer: string, key: 'deadFraction' | 'sparsity'): number | undefined {
  for (const e of epochs) {
    const start = e.notes?.activations_at_start;
    if (start === null || typeof start !== 'object') continue;
    const v = (start as Record<string, Record<string, unknown> | undefined>)[layer]?.[key];
    return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
  }
  return undefined;
}

function largest(
  last: EpochRecord,
  first: EpochRecord,
  key: 'deadFraction' | 'sparsity',
  epochs: readonly EpochRecord[],
): Activation | undefined {
  let top: { layer: string; value: number } | undefined;
  for (const l of last.layers) {
    // A frozen layer with weights (its ReLU in its own entry, as Keras and tfjs report a Dense or
    // Conv) sees the same inputs every epoch when it sits below the trained ones: its dead units
    // are the pretrained weights' on this data, not the rate's doing. Activation entries carry no
    // weights and read trainable: false whatever trains them, so they stay.
    if (!l.trainable && (l.kernelMovement !== undefined || l.updateRatio !== undefined || l.quantiles !== undefined)) continue;
    const v = l[key];
    if (typeof v === 'number' && Number.isFinite(v) && (top === undefined || v > top.value)) top = { layer: l.layer, value: v };
  }
  if (!top) return undefined;
  const before = first === last ? undefined : first.layers.find((l) => l.layer === top.layer)?.[key];
  const start = atStart(epochs, top.layer, key);
  return { ...top, ...(typeof before === 'number' ? { first: before } : {}), ...(start !== undefined ? { start } : {}) };
}

/** Reads the evidence of `trial` for the objective `metric`; `chance`: its chance level, where one is known. */
export function readEvidence(
  trial: TrialView,
  metric: string,
  direction: Direction,
  chance = chanceLevel(metric, direction),
): TrialEvidence {
  const withLayers = epochsWithLayers(trial);
  const course = metricCourse(trial, metric, direction, chance);
  const diverged = divergence(trial, metric);
  const evidence: TrialEvidence = { epochs: trial.epochs.length, ...(course ? { metric: course } : {}), ...(diverged ? { diverged } : {}) };
  const lastReported = withLayers.at(-1);
  if (lastReported) {
    const inferred = trainableInferred(lastReported);
    // An activation's own entry (a ReLU layer) has no weights and is never trainable: not a frozen layer.
    const weighted = lastReported.layers.filter(hasWeightStats);
    evidence.reported = {
      layers: lastReported.layers.length,
      trainable: lastReported.layers.filter((l) => l.trainable).length,
      weighted: weighted.length,
      frozen: weighted.filter((l) => !l.trainable).length,
      ...(inferred ? { inferred } : {}),
    };
    const untrained = nothingTrainedIn(layerEnds(withLayers));
    if (untrained) evidence.nothingTrained = untrained;
    // Of the layers with weights: a TF-slim end point's sparsity entry reads trainable, and has none.
    if (untrained === 'unchanged-histograms')
      evidence.unchangedHistograms = { layers: weighted.length, from: (withLayers[0] as EpochRecord).epoch, to: lastReported.epoch };
  }
  // Statistics of a diverged epoch are NaN: read the last epoch whose kernels are finite. Layers
  // with no movement at all (kernel histograms read from event files) still carry sparsity and dead
  // units: then the last epoch with layers.
  const lastFinite = [...withLayers].reverse().find((e) => movement(e.layers, 'kernelMovement') || movement(e.layers, 'updateRatio'));
  const last = lastFinite ?? withLayers.at(-1);
  const first = withLayers[0];
  // A trial that diverged with no epoch of finite kernels has NaN activations: their "0 % zeros"
  // is no evidence of anything.
  if (last && first && (lastFinite !== undefined || !diverged)) {
    const kernels = movement(last.layers, 'kernelMovement');
    // A kernel that started at zero moves infinitely far relative to its start; one whose weights
    // went NaN or infinite has no finite movement either, and is no new head.
    const nonFinite = nonFiniteLayers(trial.epochs);
    const kernelsFromZero = last.layers
      .filter(
        (l) =>
          l.trainable &&
          !nonFinite.has(l.layer) &&
          !Number.isFinite(l.kernelMovement ?? Number.NaN) &&
          Number.isFinite(l.updateRatio ?? Number.NaN),
      )
      .map((l) => l.layer);
    // Trainable layers whose weights went NaN or infinite: left out of the movement's count, and said.
    const kernelsNonFinite = last.layers
      .filter((l) => l.trainable && nonFinite.has(l.layer) && !Number.isFinite(l.kernelMovement ?? Number.NaN))
      .map((l) => l.layer);
    const updateRatio = movement(last.layers, 'updateRatio');
    const biases = movement(last.layers, 'biasMovement');
    const dead = largest(last, first, 'deadFraction', trial.epochs);
    const sparsity = largest(last, first, 'sparsity', trial.epochs);
    Object.assign(evidence, {
      ...(kernels ? { kernels } : {}),
      ...(kernelsFromZero.length > 0 ? { kernelsFromZero } : {}),
      ...(kernelsNonFinite.length > 0 ? { kernelsNonFinite } : {}),
      ...(updateRatio ? { updateRatio } : {}),
      ...(biases ? { biases } : {}),
      ...(dead ? { dead } : {}),
      ...(sparsity ? { sparsity } : {}),
    });
  }
  return evidence;
}

/**
 * The per-class values of an objective such as `val_auc_macro` (`val_auc[cat]`, …, as the tfjs
 * runner and the Python client name them) at one epoch, and the classes that epoch had no value for
 * (`auc_undefined_classes`: one label value in validation). Undefined when it reported none.
 */
export function classValues(
  trial: TrialView,
  metric: string,
  epoch: number,
): { values: Array<{ name: string; value: number }>; missing: string[] } | undefined {
  const record = trial.epochs.find((e) => e.epoch === epoch);
  if (!record) return undefined;
  const prefix = `${metric.endsWith('_macro') ? metric.slice(0, -'_macro'.length) : metric}[`;
  const values = Object.entries(record.metrics)
    .filter(([k, v]) => k.startsWith(prefix) && k.endsWith(']') && typeof v === 'number' && Number.isFinite(v))
    .map(([k, v]) => ({ name: k.slice(prefix.length, -1), value: v as number }));
  const missing = noAucClasses(record.notes);
  return values.length > 0 || missing.length > 0 ? { values, missing } : undefined;
}

/**
 * A layer's name as a sentence shows it: an index path (nn.Sequential's "7", "3.1") reads as a
 * count ("largest 18 % in 7"), so it is said as "layer 7".
 */
export function layerLabel(name: string): string {
  return /^\d+(\.\d+)*$/.test(name) ? `layer ${name}` : name;
}
