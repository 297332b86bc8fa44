import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventDecodeError, EventDecoder, type SummaryPoint } from './event-decoder.ts';
import { type Decoded, EXPECTED, FIXTURE_SETS, FIXTURES_DIR, type FixtureSet, fixtureFiles } from './fixtures.ts';
import { RecordFileReader } from './record-reader.ts';

async function decodeSet(set: FixtureSet): Promise<(SummaryPoint & { file: string })[]> {
  const out: (SummaryPoint & { file: string })[] = [];
  for (const file of fixtureFiles(set)) {
    const path = join(FIXTURES_DIR, set, file);
    const decoder = new EventDecoder(path);
    for (const record of await new RecordFileReader(path).readNew()) {
      for (const point of decoder.decode(record.data, record.offset)) out.push({ ...point, file });
    }
  }
  return out;
}

/** The histogram TensorBoard's reader decoded, in the collector's bucket layout. */
function expectSameHistogram(point: SummaryPoint, expected: Decoded): void {
  if (point.kind !== 'histogram') throw new Error(`${expected.tag} at step ${expected.step}: decoded as ${point.kind}`);
  const h = point.histogram;
  const rows = h.rows.length / 3;
  const left = Array.from({ length: rows }, (_, i) => h.rows[3 * i]!);
  const right = Array.from({ length: rows }, (_, i) => h.rows[3 * i + 1]!);
  const count = Array.from({ length: rows }, (_, i) => h.rows[3 * i + 2]!);
  if (expected.histo) {
    const e = expected.histo;
    expect([h.min, h.max, h.num, h.sum, h.sumSquares]).toEqual([e.min, e.max, e.num, e.sum, e.sumSquares]);
    expect(count.length).toBe(e.buckets);
    const nonempty = [...count.keys()].filter((i) => count[i] !== 0);
    expect(nonempty).toEqual(e.nonemptyIndex);
    expect(nonempty.map((i) => count[i])).toEqual(e.nonemptyCount);
    // A bucket's right edge is its limit, clamped to the exact max.
    expect(nonempty.map((i) => right[i])).toEqual(e.nonemptyLimit.map((l) => Math.min(l, e.max)));
  } else {
    expect(expected.tensor!.shape).toEqual([rows, 3]);
    expect([...h.rows]).toEqual(expected.tensor!.values);
    expect(left.length + right.length).toBe(2 * rows);
  }
}

describe('EventDecoder on real event files', () => {
  for (const set of FIXTURE_SETS) {
    it(`${set}: every summary value equals what TensorBoard's Python reader decodes`, async () => {
      const points = await decodeSet(set);
      const expected = EXPECTED[set].decoded;
      expect(points.map((p) => [p.file, p.step, p.tag])).toEqual(expected.map((e) => [e.file, e.step, e.tag]));
      for (const [i, e] of expected.entries()) {
        const p = points[i]!;
        if (e.simpleValue !== undefined) expect(p).toMatchObject({ kind: 'scalar', value: e.simpleValue });
        else if (e.histo || (e.tensor && e.tensor.shape.length === 2)) expectSameHistogram(p, e);
        else if (e.tensor) expect(p).toMatchObject({ kind: 'scalar', value: e.tensor.values[0] });
        else expect(p.kind).toBe('other');
      }
    });

    it(`${set}: every scalar equals what the script wrote, rounded to float32`, async () => {
      const points = await decodeSet(set);
      const written = EXPECTED[set].written.filter((w) => w.value !== undefined);
      expect(written.length).toBeGreaterThan(5);
      for (const w of written) {
        const found = points.filter((p) => p.tag === w.tag && p.step === w.step && (w.file === '' || p.file.startsWith(`${w.file}/`)));
        expect(found, `${w.file}/${w.tag}@${w.step}`).toHaveLength(1);
        const value = found[0]!.kind === 'scalar' ? found[0]!.value : Number.NaN;
        // tf.nn.zero_fraction divides in float32; the script's numpy mean is float64, so those agree to a float32 ulp.
        if (w.tag.startsWith('sparsity/')) expect(Math.abs(value - w.value!)).toBeLessThanOrEqual(2 ** -23 * w.value!);
        else expect(value).toBe(Math.fround(w.value!));
      }
    });
  }

  it('covers every layout: TF1 simple_value and HistogramProto, TF2 tensors, torch new-style float_val tensors', () => {
    const kinds = (set: FixtureSet) =>
      new Set(
        EXPECTED[set].decoded.map((e) =>
          e.simpleValue !== undefined ? 'simple' : e.histo ? 'histo' : e.tensor ? `tensor/${e.plugin}` : e.other,
        ),
      );
    expect(kinds('tf1')).toEqual(new Set(['simple', 'histo']));
    expect(kinds('tf2')).toEqual(new Set(['tensor/scalars', 'tensor/histograms']));
    expect(kinds('torch')).toEqual(new Set(['simple', 'histo', 'tensor/scalars']));
  });

  it('names the file and offset of a record that is not an Event', () => {
    const decoder = new EventDecoder('/logs/events.out.tfevents.x');
    // Field 1 (wall_time, double) with a varint wire type and a truncated tail.
    expect(() => decoder.decode(Uint8Array.from([0x0a, 0xff]), 1234)).toThrow(EventDecodeError);
    expect(() => decoder.decode(Uint8Array.from([0x0a, 0xff]), 1234)).toThrow(
      /events\.out\.tfevents\.x: not a tensorboard\.Event.*offset 1234/,
    );
  });
});
