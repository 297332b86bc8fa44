import { z } from 'zod';
import { generateSeed19 } from './seed19.ts';
import { generateSynthetic } from './synthetic.ts';
import type { ImageDataset } from './types.ts';

export type { DatasetSplit, ImageDataset } from './types.ts';
export { generateSynthetic, type SyntheticOptions } from './synthetic.ts';
export { generateSeed19, SEED19_PREVALENCE, type Seed19Options } from './seed19.ts';

export const DATASET_NAMES = ['synthetic', 'seed-19'] as const;

const positiveInt = z.number().int().positive();
const syntheticOptions = z.strictObject({
  classes: positiveInt.max(1000).default(5),
  train_size: positiveInt.max(1_000_000).default(512),
  val_size: positiveInt.max(1_000_000).default(256),
  image_size: z.number().int().min(8).max(512).default(32),
  seed: z.number().int().min(0).default(0),
});
const seed19Options = syntheticOptions.omit({ classes: true }).extend({ train_size: positiveInt.max(1_000_000).default(1024) });

export type DatasetOptions = z.input<typeof syntheticOptions>;

/** Validates a dataset name and its options; throws an Error naming the bad field. */
export function parseDatasetOptions(
  name: string,
  raw: unknown = {},
): { name: (typeof DATASET_NAMES)[number]; options: z.output<typeof syntheticOptions> } {
  if (name === 'synthetic' || name === 'seed-19') {
    const schema = name === 'synthetic' ? syntheticOptions : seed19Options;
    const parsed = schema.safeParse(raw ?? {});
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(options)'}: ${i.message}`).join('; ');
      throw new Error(`dataset ${name}: invalid options: ${problems}`);
    }
    return { name, options: { classes: 19, ...parsed.data } };
  }
  throw new Error(`unknown dataset ${JSON.stringify(name)}: expected one of ${DATASET_NAMES.join(', ')}`);
}

// Built once per process: a worker runs many trials on the same data.
const cache = new Map<string, ImageDataset>();

/** The dataset `name` with `options` (see parseDatasetOptions), generated once per process. */
export function loadDataset(name: string, rawOptions: unknown = {}): ImageDataset {
  const { name: valid, options } = parseDatasetOptions(name, rawOptions);
  const key = `${valid}:${JSON.stringify(options)}`;
  let dataset = cache.get(key);
  if (!dataset) {
    const common = { trainSize: options.train_size, valSize: options.val_size, imageSize: options.image_size, seed: options.seed };
    dataset = valid === 'seed-19' ? generateSeed19(common) : generateSynthetic({ ...common, classes: options.classes });
    cache.set(key, dataset);
  }
  return dataset;
}

/** Forgets cached datasets (their arrays become garbage). */
export function clearDatasetCache(): void {
  cache.clear();
}
