/** The committed event files (fixtures/, written by fixtures/make_fixtures.py) and what the script recorded about them. */

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { maskedCrc32c } from './crc.ts';

export const FIXTURES_DIR = fileURLToPath(new URL('./fixtures/', import.meta.url));
export const FIXTURE_SETS = ['tf1', 'tf2', 'torch'] as const;
export type FixtureSet = (typeof FIXTURE_SETS)[number];

export interface SampleStats {
  count: number;
  mean: number;
  std: number;
  fractionNegative: number;
  quantiles: number[];
  /** numpy's 'inverted_cdf' quantiles: the smallest sample with at least a fraction p at or below it. */
  quantilesInvertedCdf: number[];
  zeroFraction: number;
}

/** One value as the script wrote it; `file` is the run directory ('' at the top). */
export interface Written {
  file: string;
  step: number;
  tag: string;
  value?: number;
  histogram?: SampleStats;
}

/** One summary value as TensorBoard's Python reader decoded it; `file` is relative to the set's directory. */
export interface Decoded {
  file: string;
  step: number;
  tag: string;
  simpleValue?: number;
  histo?: {
    min: number;
    max: number;
    num: number;
    sum: number;
    sumSquares: number;
    buckets: number;
    nonemptyIndex: number[];
    nonemptyLimit: number[];
    nonemptyCount: number[];
  };
  tensor?: { shape: number[]; values: number[] };
  plugin?: string;
  other?: string;
}

export const EXPECTED = JSON.parse(readFileSync(join(FIXTURES_DIR, 'expected.json'), 'utf8')) as Record<
  FixtureSet,
  { written: Written[]; decoded: Decoded[] }
>;

/** Event files of a fixture set, relative to its directory, sorted. */
export function fixtureFiles(set: FixtureSet): string[] {
  return (readdirSync(join(FIXTURES_DIR, set), { recursive: true }) as string[])
    .filter((f) => f.split('/').pop()!.startsWith('events.out.tfevents.'))
    .sort();
}

/** TFRecord framing of `data` (length, its checksum, the data, its checksum), as a writer of event files frames each record. */
export function tfRecord(data: Uint8Array): Buffer {
  const out = Buffer.alloc(16 + data.length);
  out.writeUInt32LE(data.length, 0);
  out.writeUInt32LE(maskedCrc32c(out, 0, 8), 8);
  out.set(data, 12);
  out.writeUInt32LE(maskedCrc32c(data), 12 + data.length);
  return out;
}
