/**
 * Weight and activation statistics that the trainer records for every layer at the end of every
 * epoch, and the flags derived from them (stalled weights, dying units, divergence).
 *
 * All sums run in double precision over the float32 values. Non-finite weights (a diverged run)
 * propagate: a NaN weight gives NaN movements, mean, std and quantiles, as numpy would.
 */

import { type EpochRecord, type LayerStats, QUANTILE_LEVELS } from '../types.ts';
import { orderKey } from './radix.ts';

function sameLength(a: Float32Array, b: Float32Array, fn: string, names: [string, string]): void {
  if (a.length !== b.length) throw new RangeError(`${fn}: ${names[0]} has ${a.length} values but ${names[1]} has ${b.length}`);
}

function distance(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    sum += d * d;
  }
  return Math.sqrt(sum);
}

function norm(a: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * a[i]!;
  return Math.sqrt(sum);
}

/** ‖a − b‖ / ‖b‖, with 0/0 = 0 (nothing moved from nothing) and x/0 = Infinity for x > 0 (moved away from all zeros). */
function ratio(a: Float32Array, b: Float32Array): number {
  const moved = distance(a, b);
  const size = norm(b);
  if (size === 0) return moved === 0 ? 0 : moved > 0 ? Number.POSITIVE_INFINITY : Number.NaN;
  return moved / size;
}

/**
 * ‖W_t − W_0‖ / ‖W_0‖: how far a kernel moved from its pretrained values, relative to their size.
 * 0 when both are all zeros; Infinity when W_0 is all zeros and W_t is not.
 */
export function relativeMovement(current: Float32Array, initial: Float32Array): number {
  sameLength(current, initial, 'relativeMovement', ['current', 'initial']);
  return ratio(current, initial);
}

/** ‖b_t − b_0‖: biases start at zero, so their movement is absolute. */
export function absoluteMovement(current: Float32Array, initial: Float32Array): number {
  sameLength(current, initial, 'absoluteMovement', ['current', 'initial']);
  return distance(current, initial);
}

/** ‖W_t − W_{t−1}‖ / ‖W_{t−1}‖: how much the last epoch changed a kernel. Same 0/0 and x/0 conventions as relativeMovement. */
export function updateRatio(current: Float32Array, previous: Float32Array): number {
  sameLength(current, previous, 'updateRatio', ['current', 'previous']);
  return ratio(current, previous);
}

/**
 * Whether a layer entry describes weights (movement, update or distribution), not only
 * activations: a ReLU's own entry carries none and is never trainable, so it is no frozen layer.
 */
export function hasWeightStats(l: LayerStats): boolean {
  return (
    l.kernelMovement !== undefined ||
    l.updateRatio !== undefined ||
    l.biasMovement !== undefined ||
    l.mean !== undefined ||
    l.std !== undefined ||
    l.quantiles !== undefined
  );
}

/**
 * Whether no layer with weights in `record` trained: each is marked frozen (`trainable: false`)
 * and reports no move (a layer marked frozen that moved, as one whose flag changed without a
 * recompile or an EMA teacher updated in place, trained). `histograms`: `trainable` was read off
 * event files' histograms (unchanged since the first), which a rate too low to move a weight past
 * a bucket edge gives as well as freezing. Undefined when some layer with weights trained, or none
 * was reported.
 */
export function untrainedLayers(record: EpochRecord): { layers: number; histograms: boolean } | undefined {
  const weighted = record.layers.filter(hasWeightStats);
  if (weighted.length === 0) return undefined;
  const moved = (v: number | null | undefined) => typeof v === 'number' && v !== 0;
  if (weighted.some((l) => l.trainable || moved(l.kernelMovement) || moved(l.updateRatio) || moved(l.biasMovement))) return undefined;
  return { layers: weighted.length, histograms: trainableInferred(record) };
}

/** Whether `trainable` in `record` was read off event files' weight histograms (false: unchanged since the first). */
export function trainableInferred(record: EpochRecord): boolean {
  return (record.notes?.tensorboard as { trainableInferred?: unknown } | undefined)?.trainableInferred === true;
}

export interface WeightSummary {
  mean: number;
  /** Population standard deviation (numpy's default, ddof = 0). */
  std: number;
  /** Share of values below zero (−0 is not negative). */
  fractionNegative: number;
  /** Values at QUANTILE_LEVELS, interpolated linearly between order statistics like numpy's default; all NaN if any value is NaN. */
  quantiles: number[];
}

/** Mean, std, fraction negative and quantiles of a layer's weights. Throws on an empty array. */
export function summarize(values: Float32Array): WeightSummary {
  const n = values.length;
  if (n === 0) throw new RangeError('summarize: no values');
  let sum = 0;
  let negative = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    sum += v;
    if (v < 0) negative++;
  }
  const mean = sum / n;
  // Second pass around the mean: a one-pass Σx² − n·mean² loses the small spread of large kernels.
  let squares = 0;
  for (let i = 0; i < n; i++) {
    const d = values[i]! - mean;
    squares += d * d;
  }
  const quantiles = Number.isNaN(mean) && values.some(Number.isNaN) ? QUANTILE_LEVELS.map(() => Number.NaN) : quantilesOf(values);
  return { mean, std: Math.sqrt(squares / n), fractionNegative: negative / n, quantiles };
}

/**
 * numpy's 'linear' quantiles at QUANTILE_LEVELS of NaN-free values, by selection rather than a full
 * sort (a full sort of a 2.4M-weight kernel takes a third of a second): count the values by the
 * top 16 bits of their order-preserving keys, then gather and sort only the few buckets that hold
 * the order statistics needed.
 */
function quantilesOf(values: Float32Array): number[] {
  const n = values.length;
  const bits = new Uint32Array(values.buffer, values.byteOffset, n);
  const counts = new Uint32Array(1 << 16);
  for (let i = 0; i < n; i++) counts[orderKey(bits[i]!) >>> 16]!++;

  const positions = QUANTILE_LEVELS.map((q) => q * (n - 1));
  const ranks = [...new Set(positions.flatMap((p) => [Math.floor(p), Math.min(Math.floor(p) + 1, n - 1)]))].sort((a, b) => a - b);
  // For each needed rank: its bucket, and its place among the bucket's values.
  const slotOfBucket = new Int32Array(1 << 16).fill(-1);
  const gathered: Float32Array[] = [];
  const where = new Map<number, { slot: number; offset: number }>();
  let start = 0;
  let r = 0;
  for (let b = 0; b < 1 << 16 && r < ranks.length; b++) {
    const end = start + counts[b]!;
    while (r < ranks.length && ranks[r]! < end) {
      if (slotOfBucket[b] === -1) {
        slotOfBucket[b] = gathered.length;
        gathered.push(new Float32Array(counts[b]!));
      }
      where.set(ranks[r]!, { slot: slotOfBucket[b]!, offset: ranks[r]! - start });
      r++;
    }
    start = end;
  }
  const filled = new Uint32Array(gathered.length);
  for (let i = 0; i < n; i++) {
    const slot = slotOfBucket[orderKey(bits[i]!) >>> 16]!;
    if (slot >= 0) gathered[slot]![filled[slot]!++] = values[i]!;
  }
  for (const g of gathered) g.sort();
  const at = (rank: number) => {
    const w = where.get(rank)!;
    return gathered[w.slot]![w.offset]!;
  };
  return positions.map((p) => lerp(at(Math.floor(p)), at(Math.min(Math.floor(p) + 1, n - 1)), p - Math.floor(p)));
}

/** Linear interpolation between order statistics a ≤ b at fraction t, computed as numpy does. */
function lerp(a: number, b: number, t: number): number {
  const diff = b - a;
  // numpy interpolates from the nearer end, which keeps the result monotone in q and exact at t = 1.
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

export interface ActivationSparsity {
  /** Fraction of exact zeros (±0) among all activations. */
  sparsity: number;
  /** Fraction of units (the last axis) that are zero on every row of the probe batch. */
  deadFraction: number;
}

/**
 * Sparsity and dead units of a layer's activations on the probe batch, given row-major
 * [rows × nUnits] values (any leading axes flattened into rows, e.g. batch × height × width for a
 * convolution, whose units are its channels).
 */
export function activationSparsity(activations: Float32Array, nUnits: number): ActivationSparsity {
  if (!Number.isInteger(nUnits) || nUnits < 1) throw new RangeError(`activationSparsity: nUnits must be a positive integer, got ${nUnits}`);
  const n = activations.length;
  if (n === 0 || n % nUnits !== 0) {
    throw new RangeError(`activationSparsity: ${n} activations do not form whole rows of ${nUnits} units (need a positive multiple)`);
  }
  const alive = new Uint8Array(nUnits);
  let zeros = 0;
  let unit = 0;
  for (let i = 0; i < n; i++) {
    if (activations[i] === 0) zeros++;
    else alive[unit] = 1; // NaN is not zero: a unit giving NaN is broken, not dead.
    if (++unit === nUnits) unit = 0;
  }
  let aliveUnits = 0;
  for (let u = 0; u < nUnits; u++) aliveUnits += alive[u]!;
  return { sparsity: zeros / n, deadFraction: (nUnits - aliveUnits) / nUnits };
}

export interface DiagnosisThresholds {
  /**
   * A trainable kernel is stalled when its update ratio ‖W_t − W_{t−1}‖/‖W_{t−1}‖ is below this
   * (default 1e-4: an epoch changed it by less than 0.01 % of its size, typical of a learning
   * rate far too low for pretrained kernels, or of vanished gradients).
   */
  stalledUpdateRatio: number;
  /** Dead-unit fraction above which a layer counts as dying, when it also rose since the previous epoch (default 0.5). */
  deadFraction: number;
}

export const DEFAULT_DIAGNOSIS_THRESHOLDS: Readonly<DiagnosisThresholds> = { stalledUpdateRatio: 1e-4, deadFraction: 0.5 };

export interface EpochDiagnosis {
  /** Every trainable kernel moved less than `stalledUpdateRatio` in the last epoch while some trainable bias still moved away from zero. */
  stalled: boolean;
  /** The largest dead-unit fraction of any layer is above `deadFraction` and higher than the previous epoch's largest. */
  dying: boolean;
  /** One line saying what was seen, with the layers and values behind each flag. */
  detail: string;
}

const fmt = (v: number) => (Number.isFinite(v) ? Number(v.toPrecision(3)).toString() : String(v));

/**
 * Flags for one epoch from its layer statistics and those of the epochs before.
 *
 * @param layers this epoch's statistics
 * @param history earlier epochs' statistics, oldest first; the last entry is the previous epoch
 *   (an entry that is `layers` itself is skipped). With no history the previous epoch is the
 *   pretrained start, where every movement is 0 and no dead fraction is known.
 *
 * A kernel's progress is its `updateRatio`, or, when that is missing, the growth of its
 * `kernelMovement` since the previous epoch (which bounds the update ratio from below, relative
 * to ‖W_0‖). Frozen layers and layers without kernel statistics are ignored.
 */
export function diagnoseEpoch(
  layers: readonly LayerStats[],
  history: readonly (readonly LayerStats[])[],
  thresholds: Partial<DiagnosisThresholds> = {},
): EpochDiagnosis {
  const limits = { ...DEFAULT_DIAGNOSIS_THRESHOLDS, ...thresholds };
  const earlier = history.at(-1) === layers ? history.slice(0, -1) : history;
  const previous = earlier.at(-1);
  const before = new Map(previous?.map((l) => [l.layer, l]));
  // Before the first epoch every movement was zero.
  const previousValue = (layer: string, key: 'kernelMovement' | 'biasMovement') => (previous === undefined ? 0 : before.get(layer)?.[key]);

  const progress: { layer: string; value: number }[] = [];
  const biasGrowth: { layer: string; from: number; to: number }[] = [];
  for (const l of layers) {
    if (!l.trainable) continue;
    const lastMovement = previousValue(l.layer, 'kernelMovement');
    if (l.updateRatio !== undefined) progress.push({ layer: l.layer, value: l.updateRatio });
    else if (l.kernelMovement !== undefined && lastMovement !== undefined) {
      progress.push({ layer: l.layer, value: Math.abs(l.kernelMovement - lastMovement) });
    }
    const lastBias = previousValue(l.layer, 'biasMovement');
    if (l.biasMovement !== undefined && lastBias !== undefined && l.biasMovement > lastBias) {
      biasGrowth.push({ layer: l.layer, from: lastBias, to: l.biasMovement });
    }
  }
  // `<` is false for NaN: a diverged kernel is not called stalled.
  const kernelsStill = progress.length > 0 && progress.every((p) => p.value < limits.stalledUpdateRatio);
  const stalled = kernelsStill && biasGrowth.length > 0;

  const worst = maxDead(layers);
  const previousWorst = previous === undefined ? undefined : maxDead(previous);
  const dying =
    worst !== undefined && previousWorst !== undefined && worst.value > limits.deadFraction && worst.value > previousWorst.value;

  const parts: string[] = [];
  if (progress.length === 0) parts.push('no trainable kernel statistics');
  else {
    const top = progress.reduce((a, b) => (b.value > a.value ? b : a));
    parts.push(
      `${stalled ? 'stalled' : 'kernels'}: largest update ratio ${fmt(top.value)} (${top.layer}) ${kernelsStill ? '<' : '≥'} ${limits.stalledUpdateRatio}` +
        (stalled ? `, while biases still grow (${biasGrowth.map((b) => `${b.layer} ${fmt(b.from)} → ${fmt(b.to)}`).join(', ')})` : ''),
    );
  }
  if (worst === undefined) parts.push('no activation statistics');
  else {
    const since = previousWorst === undefined ? 'no previous epoch' : `previous epoch ${fmt(previousWorst.value)}`;
    parts.push(
      `${dying ? 'dying' : 'dead units'}: largest dead fraction ${fmt(worst.value)} (${worst.layer}), ${since}, threshold ${limits.deadFraction}`,
    );
  }
  return { stalled, dying, detail: parts.join('; ') };
}

function maxDead(layers: readonly LayerStats[]): { layer: string; value: number } | undefined {
  let worst: { layer: string; value: number } | undefined;
  for (const l of layers) {
    if (l.deadFraction !== undefined && (worst === undefined || l.deadFraction > worst.value))
      worst = { layer: l.layer, value: l.deadFraction };
  }
  return worst;
}

/** Whether a loss shows divergence: NaN or ±Infinity. */
export function diverged(loss: number): boolean {
  return !Number.isFinite(loss);
}

/**
 * What an epoch flagged as diverged (`notes.diverged`) says, in words: the layers whose weights went
 * non-finite (`notes.non_finite_layers`, which the command runner adds from the layer statistics),
 * or NaN or infinite outputs (the tfjs runner's flag).
 */
export function divergedNote(record: Pick<EpochRecord, 'epoch' | 'notes'>): string {
  const layers = record.notes?.non_finite_layers;
  if (Array.isArray(layers) && layers.length > 0) {
    const names = layers.slice(0, 3).map(String).join(', ') + (layers.length > 3 ? ` and ${layers.length - 3} more` : '');
    return `the weights of ${names} are NaN or infinite at epoch ${record.epoch}`;
  }
  return `the runner flagged epoch ${record.epoch} as diverged (NaN or infinite outputs)`;
}
