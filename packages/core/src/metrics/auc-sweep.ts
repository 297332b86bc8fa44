/**
 * The counting half of multilabelAuc: walks (key, class, label) triples from the highest score down
 * and accumulates each class's ROC AUC and average precision, and the micro AUC over all pairs.
 *
 * A group of equal keys is one threshold: its p positives and q negatives of a class add
 * q·(2·positives above) + p·q half-pairs to that class's AUC (ties count one half) and one
 * precision-recall step p · tp/(tp + fp) to its AP sum, which is what scikit-learn computes from
 * its ROC and PR curves over distinct thresholds. Pair counts are integers below 2^53 for any
 * array that fits in memory, so the AUC is exact up to its final division.
 */

import type { MultilabelAuc } from './auc-result.ts';

// Per-class state, 8 doubles (one cache line) per class.
const TP = 0; // positives above the current threshold
const FP = 1; // negatives above the current threshold
const AUC_HALVES = 2; // (positive, negative) pairs ranked right, counted in halves
const AP_SUM = 3; // Σ over thresholds of positives · precision
const STAMP = 4; // id of the last tie group that touched the class
const PENDING_NEG = 5; // the class's negatives and positives in that group (PENDING_NEG + label)
const STRIDE = 8;

export class AucSweep {
  private readonly st: Float64Array;
  private readonly touched: Int32Array;
  private stamp = 0;
  private microHalves = 0;
  private microTp = 0;
  private microFp = 0;

  constructor(private readonly nClasses: number) {
    this.st = new Float64Array(nClasses * STRIDE);
    this.touched = new Int32Array(nClasses);
  }

  /**
   * Takes the elements [start, end) of arrays sorted ascending by (hi, lo), walking down from
   * end − 1. Successive calls must continue downwards, and a group of equal keys must not be split
   * between calls. `lo` may be `hi` itself for 32-bit keys. `payload` is (class << 1) | label.
   */
  addDescending(hi: Uint32Array, lo: Uint32Array, payload: Uint16Array, start: number, end: number): void {
    const st = this.st;
    let microHalves = this.microHalves;
    let microTp = this.microTp;
    let microFp = this.microFp;
    let i = end - 1;
    while (i >= start) {
      const h = hi[i]!;
      const l = lo[i]!;
      let j = i - 1;
      while (j >= start && hi[j] === h && lo[j] === l) j--;
      if (j === i - 1) {
        // A score no other element shares, the common case: no pending counts, and no branch on the label.
        const y = addSingle(st, payload[i]!);
        microHalves += (1 - y) * 2 * microTp;
        microTp += y;
        microFp += 1 - y;
      } else {
        const p = this.tieGroup(payload, j + 1, i + 1, 0xffff);
        const q = i - j - p;
        microHalves += q * 2 * microTp + p * q;
        microTp += p;
        microFp += q;
      }
      i = j;
    }
    this.microHalves = microHalves;
    this.microTp = microTp;
    this.microFp = microFp;
  }

  /**
   * Like addDescending for one bucket of packed values, (key's lower 16 bits) << 16 | payload, sorted
   * ascending by their upper halves: the bucket stands for the key's upper half.
   */
  addPackedDescending(packed: Uint32Array, start: number, end: number): void {
    const st = this.st;
    let microHalves = this.microHalves;
    let microTp = this.microTp;
    let microFp = this.microFp;
    let i = end - 1;
    while (i >= start) {
      const key = packed[i]! >>> 16;
      let j = i - 1;
      while (j >= start && packed[j]! >>> 16 === key) j--;
      if (j === i - 1) {
        const y = addSingle(st, packed[i]! & 0xffff);
        microHalves += (1 - y) * 2 * microTp;
        microTp += y;
        microFp += 1 - y;
      } else {
        const p = this.tieGroup(packed, j + 1, i + 1, 0xffff);
        const q = i - j - p;
        microHalves += q * 2 * microTp + p * q;
        microTp += p;
        microFp += q;
      }
      i = j;
    }
    this.microHalves = microHalves;
    this.microTp = microTp;
    this.microFp = microFp;
  }

  /** Closes one group of equal keys, (payload[t] & mask) for t in [from, to): returns its number of positives. */
  private tieGroup(payload: Uint16Array | Uint32Array, from: number, to: number, mask: number): number {
    const st = this.st;
    const stamp = ++this.stamp;
    let nTouched = 0;
    let positives = 0;
    for (let t = from; t < to; t++) {
      const pl = payload[t]! & mask;
      const base = (pl >>> 1) * STRIDE;
      if (st[base + STAMP] !== stamp) {
        st[base + STAMP] = stamp;
        st[base + PENDING_NEG] = 0;
        st[base + PENDING_NEG + 1] = 0;
        this.touched[nTouched++] = base;
      }
      st[base + PENDING_NEG + (pl & 1)]!++;
      positives += pl & 1;
    }
    for (let k = 0; k < nTouched; k++) {
      const base = this.touched[k]!;
      const p = st[base + PENDING_NEG + 1]!;
      const q = st[base + PENDING_NEG]!;
      st[base + AUC_HALVES]! += q * 2 * st[base + TP]! + p * q;
      const tp = st[base + TP]! + p;
      const fp = st[base + FP]! + q;
      st[base + AP_SUM]! += (p * tp) / (tp + fp);
      st[base + TP] = tp;
      st[base + FP] = fp;
    }
    return positives;
  }

  result(): MultilabelAuc {
    const st = this.st;
    const perClass: (number | null)[] = [];
    const averagePrecision: (number | null)[] = [];
    const omitted: number[] = [];
    let aucTotal = 0;
    let apTotal = 0;
    for (let c = 0; c < this.nClasses; c++) {
      const base = c * STRIDE;
      const pos = st[base + TP]!;
      const neg = st[base + FP]!;
      const ap = pos > 0 ? st[base + AP_SUM]! / pos : null;
      averagePrecision.push(ap);
      if (pos > 0 && neg > 0) {
        const auc = st[base + AUC_HALVES]! / (2 * pos * neg);
        perClass.push(auc);
        aucTotal += auc;
        apTotal += ap!;
      } else {
        perClass.push(null);
        omitted.push(c);
      }
    }
    const defined = this.nClasses - omitted.length;
    const pos = this.microTp;
    const neg = this.microFp;
    return {
      perClass,
      macro: defined > 0 ? aucTotal / defined : null,
      micro: pos > 0 && neg > 0 ? this.microHalves / (2 * pos * neg) : null,
      omitted,
      averagePrecision,
      macroAveragePrecision: defined > 0 ? apTotal / defined : null,
    };
  }
}

/**
 * One element whose score no other element shares (the common case): no pending counts, one
 * threshold step for its class. Returns its label, for the micro counts.
 */
function addSingle(st: Float64Array, payload: number): number {
  const y = payload & 1;
  const base = (payload >>> 1) * STRIDE;
  const tp = st[base + TP]! + y;
  const fp = st[base + FP]! + 1 - y;
  st[base + AUC_HALVES]! += (1 - y) * 2 * tp;
  st[base + AP_SUM]! += (y * tp) / (tp + fp);
  st[base + TP] = tp;
  st[base + FP] = fp;
  return y;
}
