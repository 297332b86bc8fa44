import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Rng } from '../space/random.ts';
import { type MultilabelAuc, multilabelAuc, rocAuc } from './auc.ts';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

interface Fixture extends MultilabelAuc {
  name: string;
  nSamples: number;
  nClasses: number;
  dtype: 'float32' | 'float64';
  labels: number[];
  scores: number[];
}

const fixtures: Fixture[] = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(join(FIXTURES, f), 'utf8')) as Fixture);

function expectClose(actual: number | null | undefined, expected: number | null | undefined, what: string) {
  if (expected === null || expected === undefined) {
    expect(actual, what).toBeNull();
    return;
  }
  expect(actual, what).not.toBeNull();
  expect(Math.abs(actual! - expected), `${what}: ${actual} vs ${expected}`).toBeLessThanOrEqual(1e-12);
}

function expectMatches(got: MultilabelAuc, want: MultilabelAuc, name: string) {
  expect(got.omitted, `${name} omitted`).toEqual(want.omitted);
  for (const [c, v] of want.perClass.entries()) expectClose(got.perClass[c], v, `${name} AUC class ${c}`);
  for (const [c, v] of want.averagePrecision.entries()) expectClose(got.averagePrecision[c], v, `${name} AP class ${c}`);
  expectClose(got.macro, want.macro, `${name} macro`);
  expectClose(got.micro, want.micro, `${name} micro`);
  expectClose(got.macroAveragePrecision, want.macroAveragePrecision, `${name} macro AP`);
}

/** Pair counting straight from the definition of ROC AUC, O(n²). */
function bruteAuc(labels: ArrayLike<number>, scores: ArrayLike<number>): number | null {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== 1) continue;
    for (let j = 0; j < labels.length; j++) {
      if (labels[j] !== 0) continue;
      pairs++;
      if (scores[i]! > scores[j]!) wins += 1;
      else if (scores[i] === scores[j]) wins += 0.5;
    }
  }
  return pairs === 0 ? null : wins / pairs;
}

/** Average precision from its definition: Σ over distinct thresholds (R_k − R_{k−1}) · P_k. */
function bruteAp(labels: ArrayLike<number>, scores: ArrayLike<number>): number | null {
  const thresholds = [...new Set(Array.from(scores))].sort((a, b) => b - a);
  const nPos = Array.from(labels).filter((y) => y === 1).length;
  if (nPos === 0) return null;
  let ap = 0;
  let prevRecall = 0;
  for (const t of thresholds) {
    let tp = 0;
    let predicted = 0;
    for (let i = 0; i < labels.length; i++) {
      if (scores[i]! >= t) {
        predicted++;
        tp += labels[i]!;
      }
    }
    ap += (tp / nPos - prevRecall) * (tp / predicted);
    prevRecall = tp / nPos;
  }
  return ap;
}

function column<T extends Float32Array | Float64Array | Uint8Array>(data: T, c: number, nClasses: number): number[] {
  const out: number[] = [];
  for (let i = c; i < data.length; i += nClasses) out.push(data[i]!);
  return out;
}

describe('multilabelAuc against scikit-learn fixtures', () => {
  it('has the fixtures', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(10);
  });

  for (const f of fixtures) {
    it(`${f.name}`, () => {
      const labels = Uint8Array.from(f.labels);
      const scores = f.dtype === 'float32' ? Float32Array.from(f.scores) : Float64Array.from(f.scores);
      expect(labels.length).toBe(f.nSamples * f.nClasses);
      expectMatches(multilabelAuc(labels, scores, f.nClasses), f, f.name);
      // The same values in the other container: float32 data widened to double takes the narrowing path.
      if (f.dtype === 'float32') expectMatches(multilabelAuc(labels, Float64Array.from(scores), f.nClasses), f, `${f.name} as float64`);
    });
  }
});

describe('multilabelAuc against the definitions', () => {
  it('matches pair counting and thresholded precision on ties, infinities and wide ranges', () => {
    const rng = new Rng(7);
    const n = 700;
    const k = 4;
    const labels = new Uint8Array(n * k);
    const scores = new Float64Array(n * k);
    for (let i = 0; i < n * k; i++) {
      const c = i % k;
      const y = rng.next() < [0.5, 0.1, 0.9, 0.3][c]! ? 1 : 0;
      labels[i] = y;
      let s = rng.normal() + y;
      if (c === 1) s = Math.round(s * 4) / 4; // heavy ties
      if (c === 2 && rng.next() < 0.05) s = rng.next() < 0.5 ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
      if (c === 3) s = s * 10 ** rng.int(30); // keys spread over many binades
      scores[i] = s;
    }
    for (const container of [Float64Array, Float32Array]) {
      const s = container.from(scores);
      const got = multilabelAuc(labels, s, k);
      for (let c = 0; c < k; c++) {
        const y = column(labels, c, k);
        const sc = column(s, c, k);
        expect(Math.abs(got.perClass[c]! - bruteAuc(y, sc)!)).toBeLessThan(1e-12);
        expect(Math.abs(got.averagePrecision[c]! - bruteAp(y, sc)!)).toBeLessThan(1e-12);
      }
      expect(Math.abs(got.micro! - bruteAuc(labels, s)!)).toBeLessThan(1e-12);
    }
  });

  it('sorts large float32 inputs correctly (bucketed path) as a plain sort would', () => {
    // 120,000 scores with clusters, exact zeros and ones, and many ties: compare with rocAuc on the
    // same data shuffled, and with an independent rank-sum computed over Array.prototype.sort.
    const rng = new Rng(11);
    const n = 120_000;
    const labels = new Uint8Array(n);
    const scores = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const y = rng.next() < 0.3 ? 1 : 0;
      labels[i] = y;
      const r = rng.next();
      scores[i] =
        r < 0.1
          ? 0
          : r < 0.15
            ? 1
            : r < 0.5
              ? Math.round((0.3 + 0.2 * y + 0.1 * rng.normal()) * 1000) / 1000
              : 1 / (1 + Math.exp(-(rng.normal() + y)));
    }
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
    let rankSumPos = 0;
    let nPos = 0;
    for (let i = 0; i < n; ) {
      let j = i;
      while (j < n && scores[order[j]!] === scores[order[i]!]) j++;
      const midRank = (i + 1 + j) / 2; // ranks i+1 … j share their mean
      for (let t = i; t < j; t++) {
        if (labels[order[t]!] === 1) {
          rankSumPos += midRank;
          nPos++;
        }
      }
      i = j;
    }
    const nNeg = n - nPos;
    const expected = (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
    expect(Math.abs(rocAuc(labels, scores)! - expected)).toBeLessThan(1e-12);
  });

  it('gives the same micro AUC as rocAuc over the flattened data', () => {
    const rng = new Rng(3);
    const labels = Uint8Array.from({ length: 3000 }, () => (rng.next() < 0.4 ? 1 : 0));
    const scores = Float32Array.from(labels, (y) => Math.round((rng.next() + 0.3 * y) * 100) / 100);
    expect(multilabelAuc(labels, scores, 6).micro).toBe(rocAuc(labels, scores));
  });
});

describe('rocAuc', () => {
  it('counts ties as one half', () => {
    expect(rocAuc(Uint8Array.of(1, 0), Float64Array.of(0.5, 0.5))).toBe(0.5);
    expect(rocAuc(Uint8Array.of(1, 0, 1, 0), Float32Array.of(0.9, 0.1, 0.4, 0.4))).toBe(0.875);
  });

  it('treats -0 and +0 as equal', () => {
    expect(rocAuc(Uint8Array.of(1, 0), Float32Array.of(-0, 0))).toBe(0.5);
    expect(rocAuc(Uint8Array.of(1, 0), Float64Array.of(0, -0))).toBe(0.5);
  });

  it('is null when one label value is missing', () => {
    expect(rocAuc(Uint8Array.of(1, 1), Float64Array.of(0.2, 0.3))).toBeNull();
    expect(rocAuc(new Uint8Array(0), new Float32Array(0))).toBeNull();
  });
});

describe('multilabelAuc input validation', () => {
  it('rejects mismatched lengths', () => {
    expect(() => multilabelAuc(new Uint8Array(6), new Float32Array(5), 3)).toThrow(/scores has length 5 but labels has 6/);
    expect(() => multilabelAuc(new Uint8Array(7), new Float32Array(7), 3)).toThrow(/not a multiple of nClasses=3/);
  });

  it('rejects a bad class count', () => {
    expect(() => multilabelAuc(new Uint8Array(4), new Float32Array(4), 0)).toThrow(/nClasses must be an integer/);
    expect(() => multilabelAuc(new Uint8Array(4), new Float32Array(4), 1.5)).toThrow(/nClasses must be an integer/);
  });

  it('rejects labels other than 0/1, naming the first one', () => {
    const labels = Uint8Array.of(0, 1, 1, 0, 2, 3);
    expect(() => multilabelAuc(labels, new Float32Array(6), 2)).toThrow(/label at index 4 \(sample 2, class 0\) is 2/);
  });

  it('rejects NaN scores in either container, naming the first one', () => {
    const labels = Uint8Array.of(0, 1, 1, 0);
    expect(() => multilabelAuc(labels, Float32Array.of(0.1, 0.2, 0.3, Number.NaN), 2)).toThrow(
      /score at index 3 \(sample 1, class 1\) is NaN/,
    );
    expect(() => multilabelAuc(labels, Float64Array.of(0.1, Number.NaN, 0.3, Number.NaN), 2)).toThrow(
      /score at index 1 \(sample 0, class 1\) is NaN/,
    );
    // The first bad index of either kind is the one reported.
    expect(() => multilabelAuc(Uint8Array.of(0, 1, 7, 0), Float64Array.of(0.1, 0.2, 0.3, Number.NaN), 2)).toThrow(/label at index 2/);
    expect(() => multilabelAuc(Uint8Array.of(0, 1, 7, 0), Float32Array.of(0.1, Number.NaN, 0.3, 0.4), 2)).toThrow(/score at index 1/);
  });
});
