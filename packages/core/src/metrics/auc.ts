/**
 * Exact ROC AUC and average precision for multi-label classifiers, matching scikit-learn's
 * `roc_auc_score` and `average_precision_score` (1.2).
 *
 * Every (sample, class) score is turned into an order-preserving integer key and all of them are
 * sorted at once with a radix sort, carrying (class, label). One sweep from the highest score down
 * then yields each class's AUC and AP and the micro AUC: each class (and the micro pool) keeps its
 * own group of tied scores, so ties count one half in the AUC and form one threshold in the AP,
 * as in scikit-learn. AUC is counted in integers (pairs, in halves), so it is exact up to the one
 * final division.
 */

import { orderKey, radixSort, sortSegment } from './radix.ts';

export interface MultilabelAuc {
  /** ROC AUC of each class; null where the class has a single label value. */
  perClass: (number | null)[];
  /** Mean of the defined per-class AUCs; null when none is defined. */
  macro: number | null;
  /** AUC of all (label, score) pairs pooled; null when the pool has a single label value. */
  micro: number | null;
  /** Classes whose labels are all 0 or all 1 (AUC undefined), left out of `macro` and `macroAveragePrecision`. */
  omitted: number[];
  /**
   * Average precision of each class; null where the class has no positive label (scikit-learn
   * warns and returns 0 there). A class with only positives has AP 1.
   */
  averagePrecision: (number | null)[];
  /** Mean AP over the classes that are not omitted (the same classes as `macro`); null when there are none. */
  macroAveragePrecision: number | null;
}

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
  const sorted = sortScores(labels, scores, nClasses);
  return sweep(sorted.hi, sorted.lo, sorted.payload, nClasses);
}

/** ROC AUC of one binary problem, as scikit-learn's `roc_auc_score`; null when `labels` holds a single value. */
export function rocAuc(labels: Uint8Array, scores: Float32Array | Float64Array): number | null {
  return multilabelAuc(labels, scores, 1).perClass[0] ?? null;
}

function describe(index: number, nClasses: number): string {
  return `index ${index} (sample ${Math.floor(index / nClasses)}, class ${index % nClasses})`;
}

/** The scores sorted ascending as order-preserving integer keys, each with its (class << 1 | label). */
interface SortedScores {
  hi: Uint32Array;
  lo: Uint32Array | null;
  payload: Uint16Array;
}

function sortScores(labels: Uint8Array, scores: Float32Array | Float64Array, nClasses: number): SortedScores {
  if (scores instanceof Float32Array) return sortFloat32(labels, scores, nClasses);
  // Scores that are all exact float32 values (e.g. sigmoid outputs widened to double) sort on 32-bit keys, twice as fast.
  const narrowed = Float32Array.from(scores);
  for (let i = 0; i < scores.length; i++) {
    if (narrowed[i] !== scores[i]) return sortFloat64(labels, scores, nClasses);
  }
  return sortFloat32(labels, narrowed, nClasses);
}

/** Target bucket size of the first split: a bucket this size is finished within the L1 cache. */
const BUCKET_TARGET = 4096;

/**
 * Float32 scores, in three passes over memory. (1) Validate, and count the keys by their top 16
 * bits (sign, exponent and 7 bits of mantissa). (2) Group consecutive prefixes into buckets of
 * about BUCKET_TARGET keys, and scatter every key and payload into its bucket: buckets follow the
 * data, so they stay even for probabilities, whose keys crowd in a few binades. (3) Sort each
 * bucket on its keys by `sortSegment`, in cache. Keys are recomputed from the float bits in each
 * pass rather than stored, which saves memory traffic.
 */
function sortFloat32(labels: Uint8Array, scores: Float32Array, nClasses: number): SortedScores {
  const n = scores.length;
  const bits = new Uint32Array(scores.buffer, scores.byteOffset, n);
  const prefixCounts = new Uint32Array(1 << 16);
  for (let i = 0; i < n; i++) {
    if (labels[i]! > 1) throw new RangeError(`multilabelAuc: label at ${describe(i, nClasses)} is ${labels[i]}; labels must be 0 or 1`);
    const u = bits[i]!;
    if ((u & 0x7fffffff) > 0x7f800000) throw new RangeError(`multilabelAuc: score at ${describe(i, nClasses)} is NaN`);
    prefixCounts[orderKey(u) >>> 16]!++;
  }

  // bucketOf[prefix] is monotone in the prefix, so bucket order is key order.
  const bucketOf = new Uint16Array(1 << 16);
  const starts: number[] = [0];
  let filled = 0;
  for (let p = 0; p < 1 << 16; p++) {
    const count = prefixCounts[p]!;
    if (filled > 0 && filled + count > BUCKET_TARGET && starts.length < 1 << 16) {
      starts.push(starts[starts.length - 1]! + filled);
      filled = 0;
    }
    bucketOf[p] = starts.length - 1;
    filled += count;
  }
  starts.push(n);
  const nBuckets = starts.length - 1;
  const next = Uint32Array.from(starts.slice(0, nBuckets));

  const keys = new Uint32Array(n);
  const payload = new Uint16Array(n);
  let c = 0;
  for (let i = 0; i < n; i++) {
    const k = orderKey(bits[i]!);
    const at = next[bucketOf[k >>> 16]!]!++;
    keys[at] = k;
    payload[at] = (c << 1) | labels[i]!;
    if (++c === nClasses) c = 0;
  }

  const scratchKeys = new Uint32Array(n);
  const scratchPayload = new Uint16Array(n);
  const counts = new Uint32Array(1 << 11);
  for (let b = 0; b < nBuckets; b++) sortSegment(keys, payload, scratchKeys, scratchPayload, starts[b]!, starts[b + 1]!, counts);
  return { hi: keys, lo: null, payload };
}

/** Float64 scores that float32 cannot hold exactly: 64-bit keys, LSD radix sort over both words. */
function sortFloat64(labels: Uint8Array, scores: Float64Array, nClasses: number): SortedScores {
  const n = labels.length;
  const payload = new Uint16Array(n);
  let c = 0;
  for (let i = 0; i < n; i++) {
    const label = labels[i]!;
    if (label > 1) throw new RangeError(`multilabelAuc: label at ${describe(i, nClasses)} is ${label}; labels must be 0 or 1`);
    payload[i] = (c << 1) | label;
    if (++c === nClasses) c = 0;
  }
  return radixSort({ ...float64Keys(scores, nClasses), payload });
}

function float64Keys(scores: Float64Array, nClasses: number) {
  // Float64Array elements are little-endian words [lo, hi] on every platform Node runs on.
  const bits = new Uint32Array(scores.buffer, scores.byteOffset, scores.length * 2);
  const hi = new Uint32Array(scores.length);
  const lo = new Uint32Array(scores.length);
  for (let i = 0; i < scores.length; i++) {
    if (Number.isNaN(scores[i])) throw new RangeError(`multilabelAuc: score at ${describe(i, nClasses)} is NaN`);
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

// Per-class sweep state, 8 doubles (one cache line) per class.
const GROUP = 0; // id of the tie group being collected
const PENDING_NEG = 1; // negatives in that group (PENDING_NEG + label indexes the pending count)
const PENDING_POS = 2;
const TP = 3; // positives above the group
const FP = 4; // negatives above the group
const AUC_HALVES = 5; // (positive, negative) pairs ranked right, in halves
const AP_SUM = 6; // Σ over thresholds of positives · precision
const STRIDE = 8;

/**
 * Walks the sorted keys from the highest score down. A tie group is closed for a class when the
 * next element of that class has a lower key: its p positives and n negatives add n·(2·positives
 * above) + p·n half-pairs to the AUC, and one precision-recall step p/nPos · tp/(tp+fp) to the AP.
 * The loop avoids branches on the label, which is random and would defeat branch prediction.
 */
function sweep(hi: Uint32Array, lo: Uint32Array | null, payload: Uint16Array, nClasses: number): MultilabelAuc {
  const n = hi.length;
  const st = new Float64Array(nClasses * STRIDE);
  for (let c = 0; c < nClasses; c++) st[c * STRIDE + GROUP] = -1;
  const lows = lo ?? hi; // 32-bit keys compare their only word twice, which costs less than a second loop
  const micro = new Float64Array(3); // pending negatives, pending positives, positives above
  let microHalves = 0;
  let microP = 0;
  let microN = 0;
  let group = -1;
  let prevHi = -1;
  let prevLo = -1;
  for (let i = n - 1; i >= 0; i--) {
    const h = hi[i]!;
    const l = lows[i]!;
    if (h !== prevHi || l !== prevLo) {
      const p = micro[1]!;
      const q = micro[0]!;
      microHalves += q * (2 * micro[2]!) + p * q;
      micro[2]! += p;
      microP += p;
      microN += q;
      micro[0] = 0;
      micro[1] = 0;
      group++;
      prevHi = h;
      prevLo = l;
    }
    const pl = payload[i]!;
    const label = pl & 1;
    const base = (pl >>> 1) * STRIDE;
    if (st[base + GROUP] !== group) {
      closeGroup(st, base);
      st[base + GROUP] = group;
    }
    st[base + PENDING_NEG + label]!++;
    micro[label]!++;
  }
  microHalves += micro[0]! * (2 * micro[2]!) + micro[1]! * micro[0]!;
  microP += micro[1]!;
  microN += micro[0]!;
  for (let c = 0; c < nClasses; c++) closeGroup(st, c * STRIDE);

  const perClass: (number | null)[] = [];
  const averagePrecision: (number | null)[] = [];
  const omitted: number[] = [];
  let aucTotal = 0;
  let apTotal = 0;
  for (let c = 0; c < nClasses; c++) {
    const pos = st[c * STRIDE + TP]!;
    const neg = st[c * STRIDE + FP]!;
    const ap = pos > 0 ? st[c * STRIDE + AP_SUM]! / pos : null;
    averagePrecision.push(ap);
    if (pos > 0 && neg > 0) {
      const auc = st[c * STRIDE + AUC_HALVES]! / (2 * pos * neg);
      perClass.push(auc);
      aucTotal += auc;
      apTotal += ap!;
    } else {
      perClass.push(null);
      omitted.push(c);
    }
  }
  const defined = nClasses - omitted.length;
  return {
    perClass,
    macro: defined > 0 ? aucTotal / defined : null,
    micro: microP > 0 && microN > 0 ? microHalves / (2 * microP * microN) : null,
    omitted,
    averagePrecision,
    macroAveragePrecision: defined > 0 ? apTotal / defined : null,
  };
}

function closeGroup(st: Float64Array, base: number): void {
  const p = st[base + PENDING_POS]!;
  const q = st[base + PENDING_NEG]!;
  const tp = st[base + TP]! + p;
  const fp = st[base + FP]! + q;
  st[base + AUC_HALVES]! += q * (2 * st[base + TP]!) + p * q;
  // Before a class's first group tp + fp is 0 (and p is 0): max() keeps 0/0 out without a branch.
  st[base + AP_SUM]! += (p * tp) / Math.max(1, tp + fp);
  st[base + TP] = tp;
  st[base + FP] = fp;
  st[base + PENDING_POS] = 0;
  st[base + PENDING_NEG] = 0;
}
