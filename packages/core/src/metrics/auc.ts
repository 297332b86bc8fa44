/**
 * Exact ROC AUC and average precision for multi-label classifiers, matching scikit-learn's
 * `roc_auc_score` and `average_precision_score` (1.2).
 *
 * Every (sample, class) score is turned into an order-preserving integer key and all of them are
 * sorted at once, carrying (class, label): split into buckets by the upper half of the key, then
 * each bucket radix sorted in cache. One sweep from the highest score down (AucSweep, fed bucket by
 * bucket) then yields each class's AUC and AP and the micro AUC, with ties handled as scikit-learn
 * does. About 0.2 of scikit-learn's CPU time for 800,000 × 19 float32 scores (test/bench/auc.ts).
 * Float64 scores that float32 cannot hold exactly take a slower path (64-bit keys, six radix passes
 * over the whole array), about as fast as scikit-learn.
 */

import type { MultilabelAuc } from './auc-result.ts';
import { AucSweep } from './auc-sweep.ts';
import { orderKey, radixSort, sortByUpperHalf } from './radix.ts';

export type { MultilabelAuc } from './auc-result.ts';

/** The largest class count whose (class, label) pair fits the 16-bit sort payload. */
export const MAX_AUC_CLASSES = 32767;

/**
 * Per-class, macro and micro ROC AUC and average precision.
 *
 * @param labels row-major [nSamples × nClasses] of 0/1
 * @param scores row-major [nSamples × nClasses]; higher means more likely positive. NaN is rejected;
 *   ±Infinity is ordered as usual; -0 equals +0.
 * @throws RangeError on mismatched lengths, a label other than 0/1 or a NaN score, naming the first bad index.
 */
export function multilabelAuc(labels: Uint8Array, scores: Float32Array | Float64Array, nClasses: number): MultilabelAuc {
  if (!Number.isInteger(nClasses) || nClasses < 1 || nClasses > MAX_AUC_CLASSES) {
    throw new RangeError(`multilabelAuc: nClasses must be an integer in [1, ${MAX_AUC_CLASSES}], got ${nClasses}`);
  }
  if (labels.length % nClasses !== 0) {
    throw new RangeError(`multilabelAuc: labels has length ${labels.length}, not a multiple of nClasses=${nClasses}`);
  }
  const nSamples = labels.length / nClasses;
  if (scores.length !== labels.length) {
    throw new RangeError(
      `multilabelAuc: scores has length ${scores.length} but labels has ${labels.length} (nSamples=${nSamples} × nClasses=${nClasses})`,
    );
  }
  const sweep = new AucSweep(nClasses);
  if (scores instanceof Float32Array) sweepFloat32(labels, scores, nClasses, sweep);
  else sweepFloat64(labels, scores, nClasses, sweep);
  return sweep.result();
}

/** ROC AUC of one binary problem, as scikit-learn's `roc_auc_score`; null when `labels` holds a single value. */
export function rocAuc(labels: Uint8Array, scores: Float32Array | Float64Array): number | null {
  return multilabelAuc(labels, scores, 1).perClass[0] ?? null;
}

function describe(index: number, nClasses: number): string {
  return `index ${index} (sample ${Math.floor(index / nClasses)}, class ${index % nClasses})`;
}

/**
 * Float32 scores, in two passes over memory and one in cache:
 * (1) validate, and count the order-preserving keys by their upper 16 bits (sign, exponent, 7 bits
 *     of mantissa), which makes one bucket per upper half;
 * (2) scatter each element into its bucket as one packed 32-bit value, (lower 16 bits of the key)
 *     << 16 | (class << 1 | label): the bucket holds the upper half, so key and payload travel as
 *     one write;
 * (3) from the highest bucket down, sort the bucket by its values' upper halves (in cache) and
 *     sweep it at once.
 * Keys are recomputed from the float bits in each pass rather than stored, saving memory traffic.
 */
function sweepFloat32(labels: Uint8Array, scores: Float32Array, nClasses: number, sweep: AucSweep): void {
  const bits = new Uint32Array(scores.buffer, scores.byteOffset, scores.length);
  const starts = validateAndCountUpperHalves(labels, bits, nClasses);
  const packed = scatterPacked(labels, bits, nClasses, starts);
  let largest = 0;
  for (let b = 0; b < 1 << 16; b++) largest = Math.max(largest, starts[b + 1]! - starts[b]!);
  const scratch = new Uint32Array(largest);
  const counts = new Uint32Array(512);
  for (let b = (1 << 16) - 1; b >= 0; b--) {
    const start = starts[b]!;
    const end = starts[b + 1]!;
    if (start === end) continue;
    if (sortByUpperHalf(packed, scratch, start, end, counts)) sweep.addPackedDescending(scratch, 0, end - start);
    else sweep.addPackedDescending(packed, start, end);
  }
}

// One hot loop per function: V8 optimizes each on its own, rather than deoptimizing a big function
// each time execution reaches a loop it has not run yet.

/** Validates the inputs and returns where each bucket (upper 16 bits of the key) starts; starts[2^16] = n. */
function validateAndCountUpperHalves(labels: Uint8Array, bits: Uint32Array, nClasses: number): Uint32Array {
  const starts = new Uint32Array((1 << 16) + 1);
  for (let i = 0; i < bits.length; i++) {
    if (labels[i]! > 1) throw new RangeError(`multilabelAuc: label at ${describe(i, nClasses)} is ${labels[i]}; labels must be 0 or 1`);
    const u = bits[i]!;
    if ((u & 0x7fffffff) > 0x7f800000) throw new RangeError(`multilabelAuc: score at ${describe(i, nClasses)} is NaN`);
    starts[(orderKey(u) >>> 16) + 1]!++;
  }
  for (let b = 0; b < 1 << 16; b++) starts[b + 1]! += starts[b]!;
  return starts;
}

function scatterPacked(labels: Uint8Array, bits: Uint32Array, nClasses: number, starts: Uint32Array): Uint32Array {
  const next = starts.slice(0, 1 << 16);
  const packed = new Uint32Array(bits.length);
  let c = 0;
  for (let i = 0; i < bits.length; i++) {
    const k = orderKey(bits[i]!);
    packed[next[k >>> 16]!++] = ((k << 16) | (c << 1) | labels[i]!) >>> 0;
    if (++c === nClasses) c = 0;
  }
  return packed;
}

/**
 * Float64 scores. Those that are all exact float32 values (e.g. sigmoid outputs widened to double)
 * take the float32 path; others sort on 64-bit keys with an LSD radix sort over both words.
 */
function sweepFloat64(labels: Uint8Array, scores: Float64Array, nClasses: number, sweep: AucSweep): void {
  const narrowed = Float32Array.from(scores);
  let exact = true;
  for (let i = 0; i < scores.length && exact; i++) exact = narrowed[i] === scores[i];
  if (exact) {
    sweepFloat32(labels, narrowed, nClasses, sweep);
    return;
  }
  const n = labels.length;
  const payload = new Uint16Array(n);
  let c = 0;
  for (let i = 0; i < n; i++) {
    const label = labels[i]!;
    if (label > 1) throw new RangeError(`multilabelAuc: label at ${describe(i, nClasses)} is ${label}; labels must be 0 or 1`);
    if (Number.isNaN(scores[i])) throw new RangeError(`multilabelAuc: score at ${describe(i, nClasses)} is NaN`);
    payload[i] = (c << 1) | label;
    if (++c === nClasses) c = 0;
  }
  const sorted = radixSort({ ...float64Keys(scores), payload });
  sweep.addDescending(sorted.hi, sorted.lo!, sorted.payload, 0, n);
}

/** IEEE-754 float64 bits → 64-bit unsigned keys (hi, lo) in the order of the doubles; -0 = +0. Scores are NaN-free. */
function float64Keys(scores: Float64Array) {
  // Float64Array elements are little-endian words [lo, hi] on every platform Node runs on.
  const bits = new Uint32Array(scores.buffer, scores.byteOffset, scores.length * 2);
  const hi = new Uint32Array(scores.length);
  const lo = new Uint32Array(scores.length);
  for (let i = 0; i < scores.length; i++) {
    let h = bits[2 * i + 1]!;
    let l = bits[2 * i]!;
    if (h === 0x80000000 && l === 0) h = 0; // -0 ties with +0
    if (h & 0x80000000) {
      h = ~h >>> 0;
      l = ~l >>> 0;
    } else {
      h = (h | 0x80000000) >>> 0;
    }
    hi[i] = h;
    lo[i] = l;
  }
  return { hi, lo };
}
