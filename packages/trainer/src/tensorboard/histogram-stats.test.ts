import { join } from 'node:path';
import { QUANTILE_LEVELS } from '@sweepd/core';
import { describe, expect, it } from 'vitest';
import { EventDecoder } from './event-decoder.ts';
import { EXPECTED, FIXTURE_SETS, FIXTURES_DIR, type FixtureSet, fixtureFiles } from './fixtures.ts';
import type { Histogram } from './histogram.ts';
import { histogramStats } from './histogram-stats.ts';
import { RecordFileReader } from './record-reader.ts';

async function histograms(set: FixtureSet): Promise<Map<string, Histogram>> {
  const out = new Map<string, Histogram>();
  for (const file of fixtureFiles(set)) {
    const path = join(FIXTURES_DIR, set, file);
    const decoder = new EventDecoder(path);
    const run = file.includes('/') ? file.slice(0, file.lastIndexOf('/')) : '';
    for (const record of await new RecordFileReader(path).readNew()) {
      for (const p of decoder.decode(record.data, record.offset))
        if (p.kind === 'histogram') out.set(`${run}|${p.tag}|${p.step}`, p.histogram);
    }
  }
  return out;
}

/** The non-empty buckets as [left, right, count]. */
function buckets(h: Histogram): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (let i = 0; i < h.rows.length; i += 3) if (h.rows[i + 2] !== 0) out.push([h.rows[i]!, h.rows[i + 1]!, h.rows[i + 2]!]);
  return out;
}

/** Width of the non-empty bucket holding v (the widest, when v sits on an edge). */
function bucketWidthAt(h: Histogram, v: number): number {
  let width = 0;
  for (const [l, r] of buckets(h)) if (l <= v && v <= r) width = Math.max(width, r - l);
  return width;
}

function maxWidth(h: Histogram): number {
  return Math.max(...buckets(h).map(([l, r]) => r - l));
}

/** Count in the non-empty bucket that straddles zero, over the total. */
function straddlingShare(h: Histogram): number {
  for (const [l, r, c] of buckets(h)) if (l < 0 && r > 0) return c / h.num;
  return 0;
}

describe('histogramStats against the samples behind the real fixtures', () => {
  for (const set of FIXTURE_SETS) {
    it(`${set}: mean, std, negative fraction and quantiles within the bucket resolution (exact where the proto has sums)`, async () => {
      const all = await histograms(set);
      const written = EXPECTED[set].written.filter((w) => w.histogram);
      expect(written.length).toBeGreaterThan(3);
      for (const w of written) {
        const h = all.get(`${w.file}|${w.tag}|${w.step}`);
        expect(h, `${w.file}/${w.tag}@${w.step}`).toBeDefined();
        const s = histogramStats(h!)!;
        const truth = w.histogram!;
        const label = `${set} ${w.tag}@${w.step}`;
        if (h!.sum !== undefined) {
          // HistogramProto: exact sums, min and max.
          expect(Math.abs(s.mean - truth.mean), label).toBeLessThanOrEqual(1e-9 * (Math.abs(truth.mean) + truth.std + 1e-12));
          expect(Math.abs(s.std - truth.std), label).toBeLessThanOrEqual(1e-6 * (truth.std + Math.abs(truth.mean)) + 1e-12);
          expect(s.quantiles[0]).toBe(Math.fround(truth.quantiles[0]!));
          expect(s.quantiles[QUANTILE_LEVELS.length - 1]).toBe(Math.fround(truth.quantiles[QUANTILE_LEVELS.length - 1]!));
        } else {
          expect(Math.abs(s.mean - truth.mean), label).toBeLessThanOrEqual(maxWidth(h!) / 2 + 1e-12);
          expect(Math.abs(s.std - truth.std), label).toBeLessThanOrEqual(maxWidth(h!) + 1e-12);
        }
        expect(Math.abs(s.fractionNegative - truth.fractionNegative), label).toBeLessThanOrEqual(straddlingShare(h!) + 1e-12);
        for (const [i, q] of s.quantiles.entries()) {
          // The estimate lies in the bucket of the smallest sample with a fraction p at or below it.
          const exact = truth.quantilesInvertedCdf[i]!;
          const tolerance = bucketWidthAt(h!, exact) + 1e-7 * Math.abs(exact);
          expect(Math.abs(q - exact), `${label} q${QUANTILE_LEVELS[i]}`).toBeLessThanOrEqual(tolerance);
        }
      }
    });
  }
});

function tensorHistogram(rows: [number, number, number][]): Histogram {
  const nonempty = rows.filter((r) => r[2] > 0);
  return {
    rows: rows.flat(),
    min: Math.min(...nonempty.map((r) => r[0])),
    max: Math.max(...nonempty.map((r) => r[1])),
    num: rows.reduce((a, r) => a + r[2], 0),
  };
}

describe('histogramStats on constructed histograms', () => {
  it('is exact for values spread uniformly over equal buckets', () => {
    const s = histogramStats(
      tensorHistogram(Array.from({ length: 10 }, (_, i) => [i / 10, (i + 1) / 10, 100] as [number, number, number])),
    )!;
    expect(s.mean).toBeCloseTo(0.5, 12);
    expect(s.std).toBeCloseTo(Math.sqrt(1 / 12), 12);
    expect(s.fractionNegative).toBe(0);
    for (const [i, p] of QUANTILE_LEVELS.entries()) expect(s.quantiles[i]).toBeCloseTo(p, 12);
  });

  it('interpolates the negative fraction inside the bucket that straddles zero', () => {
    const s = histogramStats(
      tensorHistogram([
        [-3, -1, 2],
        [-1, 3, 4],
        [3, 5, 2],
      ]),
    )!;
    expect(s.fractionNegative).toBeCloseTo((2 + 4 * 0.25) / 8, 12);
    expect(s.quantiles[3]).toBeCloseTo(1, 12); // median: 4 of 8 values below, half-way through [-1, 3)
  });

  it('takes a zero-width bucket as that exact value (TF2 writes one for a constant tensor)', () => {
    const s = histogramStats(
      tensorHistogram([
        [0, 0, 0],
        [0, 0, 0],
        [0, 0, 10],
      ]),
    )!;
    expect(s).toEqual({ mean: 0, std: 0, fractionNegative: 0, quantiles: QUANTILE_LEVELS.map(() => 0) });
    const negative = histogramStats(tensorHistogram([[-0.5, -0.5, 4]]))!;
    expect(negative.fractionNegative).toBe(1);
    expect(negative.quantiles).toEqual(QUANTILE_LEVELS.map(() => -0.5));
  });

  it('gives nothing for an empty histogram', () => {
    expect(histogramStats({ rows: [], min: 0, max: 0, num: 0 })).toBeUndefined();
  });
});
