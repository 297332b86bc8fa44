import path from 'node:path';
import { z } from 'zod';
import { issueProblem } from '@sweepd/core';
import { loadDiskDataset, manifestVersion } from './disk.ts';
import { generateFashionMosaic } from './fashion-mosaic.ts';
import { FASHION_CLASSES } from './fashion-mnist.ts';
import { generateSeed19, SEED19_PREVALENCE } from './seed19.ts';
import { generateSynthetic, syntheticClassNames } from './synthetic.ts';
import type { ImageDataset } from './types.ts';

export type { DatasetSplit, ImageDataset } from './types.ts';
export { generateSynthetic, type SyntheticOptions } from './synthetic.ts';
export { generateSeed19, SEED19_PREVALENCE, type Seed19Options } from './seed19.ts';
export {
  type DatasetManifest,
  loadDiskDataset,
  MANIFEST,
  readManifest,
  type WriteDiskDatasetOptions,
  writeDiskDataset,
} from './disk.ts';
export { encodeIdx, type IdxTensor, parseIdx, readIdxFile } from './idx.ts';
export {
  FASHION_CLASSES,
  FASHION_MNIST_DIR,
  FASHION_MNIST_PACKAGE,
  type FashionItems,
  type FashionMnist,
  fashionMnistDir,
  loadFashionMnist,
} from './fashion-mnist.ts';
export {
  FASHION_TRAIN_WEIGHTS,
  FASHION_VAL_WEIGHTS,
  type FashionMosaicOptions,
  fashionPretrainDataset,
  generateFashionMosaic,
  PRETRAIN_ITEMS,
  TARGET_TRAIN_ITEMS,
} from './fashion-mosaic.ts';

export const DATASET_NAMES = ['synthetic', 'seed-19', 'fashion-mosaic'] as const;
export type BuiltinDatasetName = (typeof DATASET_NAMES)[number];

const positiveInt = z.number().int().positive();
const syntheticOptions = z.strictObject({
  classes: positiveInt.max(1000).default(5),
  train_size: positiveInt.max(1_000_000).default(512),
  val_size: positiveInt.max(1_000_000).default(256),
  image_size: z.number().int().min(8).max(512).default(32),
  seed: z.number().int().min(0).default(0),
});
const seed19Options = syntheticOptions.omit({ classes: true }).extend({ train_size: positiveInt.max(1_000_000).default(1024) });
const fashionOptions = syntheticOptions.omit({ classes: true }).extend({
  train_size: positiveInt.max(1_000_000).default(2048),
  val_size: positiveInt.max(1_000_000).default(512),
  image_size: z
    .number()
    .int()
    .min(8)
    .max(224)
    .refine((n) => n % 2 === 0, { message: 'must be even (a 2×2 grid of items)' })
    .default(32),
});

export type DatasetOptions = z.input<typeof syntheticOptions>;

/**
 * Whether `name` names a dataset directory rather than a builtin: a path (./dir, ../dir, /dir,
 * anything with a slash). Spec files write `dataset: ./data/target`.
 */
export function isDatasetPath(name: string): boolean {
  return name.startsWith('.') || name.includes('/') || name.includes('\\') || path.isAbsolute(name);
}

/** Validates a builtin dataset name and its options; throws an Error naming the bad field. */
export function parseDatasetOptions(
  name: string,
  raw: unknown = {},
): { name: BuiltinDatasetName; options: z.output<typeof syntheticOptions> } {
  if (name === 'synthetic' || name === 'seed-19' || name === 'fashion-mosaic') {
    const schema = name === 'synthetic' ? syntheticOptions : name === 'seed-19' ? seed19Options : fashionOptions;
    const parsed = schema.safeParse(raw ?? {});
    if (!parsed.success) {
      const problems = parsed.error.issues
        .map((i) => issueProblem(i, [], raw ?? {}))
        .map((p) => `${p.path || '(options)'}: ${p.message}`)
        .join('; ');
      throw new Error(`dataset ${name}: invalid options: ${problems}`);
    }
    return { name, options: { classes: name === 'seed-19' ? 19 : 10, ...parsed.data } };
  }
  throw new Error(
    `unknown dataset ${JSON.stringify(name)}: expected one of ${DATASET_NAMES.join(', ')}, or a directory path (./dir) holding dataset.json`,
  );
}

/** The class names a builtin dataset reports per-class metrics under (val_auc[<name>]), without building it. */
export function builtinClassNames(name: BuiltinDatasetName, options: { classes: number }): readonly string[] {
  if (name === 'seed-19') return SEED19_PREVALENCE.map((c) => c.name);
  if (name === 'fashion-mosaic') return FASHION_CLASSES;
  return syntheticClassNames(options.classes);
}

// Built once per process: a worker runs many trials on the same data.
const cache = new Map<string, ImageDataset>();

/**
 * The dataset `name` with `options` (see parseDatasetOptions), built once per process. A path
 * (see isDatasetPath) loads the on-disk format (README.md beside this file); it takes no options.
 */
export function loadDataset(name: string, rawOptions: unknown = {}): ImageDataset {
  if (isDatasetPath(name)) {
    if (rawOptions && typeof rawOptions === 'object' && Object.keys(rawOptions).length > 0) {
      throw new Error(
        `dataset ${name}: a dataset directory takes no dataset_options (got ${Object.keys(rawOptions).join(', ')}); sizes and classes come from its dataset.json`,
      );
    }
    const dir = path.resolve(name);
    const key = `disk:${dir}:${manifestVersion(dir)}`;
    let dataset = cache.get(key);
    if (!dataset) {
      dataset = loadDiskDataset(dir);
      cache.set(key, dataset);
    }
    return dataset;
  }
  const { name: valid, options } = parseDatasetOptions(name, rawOptions);
  const key = `${valid}:${JSON.stringify(options)}`;
  let dataset = cache.get(key);
  if (!dataset) {
    const common = { trainSize: options.train_size, valSize: options.val_size, imageSize: options.image_size, seed: options.seed };
    dataset =
      valid === 'seed-19'
        ? generateSeed19(common)
        : valid === 'fashion-mosaic'
          ? generateFashionMosaic(common)
          : generateSynthetic({ ...common, classes: options.classes });
    cache.set(key, dataset);
  }
  return dataset;
}

/** Forgets cached datasets (their arrays become garbage). */
export function clearDatasetCache(): void {
  cache.clear();
}
