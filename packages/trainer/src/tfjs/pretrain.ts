import { access, rm } from 'node:fs/promises';
import path from 'node:path';
import { acquireDirLock, type DirLock, DirLockError } from '@sweepd/core';
import * as tf from '@tensorflow/tfjs';
import { fashionPretrainDataset, type ImageDataset, loadDataset } from '../data/index.ts';
import { buildSmallCnn } from './model.ts';
import { saveModelToDir } from './model-io.ts';

export interface PretrainOptions {
  /** Where model.json and weights.bin go; reused when model.json is already there. */
  dir: string;
  /** The source task. */
  dataset: ImageDataset;
  epochs: number;
  seed: number;
  /** Adam's rate and the batch size (default 1e-3 and 32). */
  learningRate?: number;
  batchSize?: number;
  log?: (message: string) => void;
}

const inFlight = new Map<string, Promise<string>>();

/**
 * Trains the reference CNN on a source task and saves it (model.json + weights.bin) to `dir`,
 * the stand-in for an ImageNet backbone. Returns `dir`. Reused if already saved; concurrent
 * calls in one process share one training.
 */
export function pretrainBackbone(options: PretrainOptions): Promise<string> {
  const key = path.resolve(options.dir);
  let pending = inFlight.get(key);
  if (!pending) {
    pending = doPretrain(options).finally(() => inFlight.delete(key));
    inFlight.set(key, pending);
  }
  return pending;
}

const isSaved = (dir: string) =>
  access(path.join(dir, 'model.json')).then(
    () => true,
    () => false,
  );

/**
 * Trainer processes share one cache directory: the first to need a backbone pretrains it under a
 * lock file, the others wait for its model.json (or take over the lock if its holder died).
 */
async function doPretrain(options: PretrainOptions): Promise<string> {
  const { dir } = options;
  for (;;) {
    if (await isSaved(dir)) return dir;
    let lock: DirLock;
    try {
      lock = await acquireDirLock(`${path.resolve(dir)}.lock`, `pretraining of ${dir}`);
    } catch (err) {
      if (!(err instanceof DirLockError)) throw err;
      await new Promise((resolve) => setTimeout(resolve, 250));
      continue;
    }
    try {
      if (await isSaved(dir)) return dir;
      return await trainAndSave(options);
    } finally {
      await lock.release();
    }
  }
}

async function trainAndSave({
  dir,
  dataset,
  epochs,
  seed,
  learningRate = 1e-3,
  batchSize = 32,
  log = () => {},
}: PretrainOptions): Promise<string> {
  const started = performance.now();
  const model = buildSmallCnn({ classes: dataset.classes.length, inputShape: [dataset.height, dataset.width, dataset.channels], seed });
  const { train } = dataset;
  const x = tf.tensor4d(train.images, [train.count, dataset.height, dataset.width, dataset.channels]);
  const y = tf.tensor2d(train.labels, [train.count, dataset.classes.length], 'float32');
  const optimizer = tf.train.adam(learningRate);
  try {
    model.compile({ optimizer, loss: (labels: tf.Tensor, logits: tf.Tensor) => tf.losses.sigmoidCrossEntropy(labels, logits) });
    const history = await model.fit(x, y, { epochs, batchSize, shuffle: true, verbose: 0 });
    const losses = history.history.loss as number[];
    await saveModelToDir(model, dir);
    log(
      `pretrained ${model.name} on ${dataset.name} (${dataset.classes.length} classes, ${train.count} images, ${epochs} epochs, final loss ${losses.at(-1)?.toFixed(4)}) in ${((performance.now() - started) / 1000).toFixed(1)} s → ${dir}`,
    );
    return dir;
  } finally {
    tf.dispose([x, y]);
    optimizer.dispose();
    model.dispose();
  }
}

/** The source task of 'builtin:small-cnn': 12 synthetic classes, a different seed from any target. */
export function builtinSourceDataset(imageSize: number): ImageDataset {
  return loadDataset('synthetic', { classes: 12, train_size: 1024, val_size: 64, image_size: imageSize, seed: 1001 });
}

/**
 * The builtin backbones: the reference CNN pretrained on a source task, cached under the cache
 * directory per image size. 'builtin:small-cnn' learned 12 synthetic shape classes (the stand-in
 * for ImageNet on the synthetic targets); 'builtin:fashion-cnn' learned Fashion-MNIST mosaics
 * made of other items than the fashion-mosaic target uses (data/README.md).
 */
export const BUILTIN_MODELS = {
  'builtin:small-cnn': {
    dirName: (imageSize: number) => `small-cnn-synthetic12-${imageSize}px${smallImages(imageSize) ? '-e8b16' : ''}`,
    source: builtinSourceDataset,
    epochs: 3,
    /**
     * At 12–16 px a step costs a quarter of a 32 px one: the backbone gets 8 epochs at batch 16 and
     * Adam 3e-3 (source loss 0.45; after the 3 epochs at batch 32 and 1e-3 it was 0.54, hardly below
     * the 0.61 of a constant guess, and a linear head on its features reached AUC 0.73 at best).
     */
    recipe: (imageSize: number) => (smallImages(imageSize) ? { epochs: 8, batchSize: 16, learningRate: 3e-3 } : {}),
    seed: 1001,
    defaultImageSize: 32,
  },
  'builtin:fashion-cnn': {
    dirName: (imageSize: number) => `fashion-cnn-${imageSize}px`,
    source: (imageSize: number) => fashionPretrainDataset(imageSize),
    // Real images need more passes than the synthetic shapes (loss 0.44 after 3 epochs at 16px).
    epochs: 5,
    recipe: (_imageSize: number) => ({}),
    seed: 2001,
    defaultImageSize: 32,
  },
} as const;
export type BuiltinModel = keyof typeof BUILTIN_MODELS;

export function isBuiltinModel(ref: string): ref is BuiltinModel {
  return Object.hasOwn(BUILTIN_MODELS, ref);
}

function smallImages(imageSize: number): boolean {
  return imageSize >= 12 && imageSize <= 16;
}

/** Where the builtin `ref` for `imageSize` images is (or will be) saved. */
export function builtinModelPath(ref: BuiltinModel, cacheDir: string, imageSize: number): string {
  return path.join(cacheDir, 'models', BUILTIN_MODELS[ref].dirName(imageSize));
}

/** Pretrains `ref` once (again when `force`) and returns its directory. */
export async function builtinModelDir(
  ref: BuiltinModel,
  cacheDir: string,
  imageSize: number,
  log?: (message: string) => void,
  force = false,
): Promise<string> {
  const spec = BUILTIN_MODELS[ref];
  const dir = builtinModelPath(ref, cacheDir, imageSize);
  if (force) await rm(dir, { recursive: true, force: true });
  return pretrainBackbone({
    dir,
    dataset: spec.source(imageSize),
    epochs: spec.epochs,
    seed: spec.seed,
    ...spec.recipe(imageSize),
    ...(log ? { log } : {}),
  });
}

/** Pretrains (once) and returns the directory of 'builtin:small-cnn' for `imageSize` images. */
export function builtinBackboneDir(cacheDir: string, imageSize: number, log?: (message: string) => void): Promise<string> {
  return builtinModelDir('builtin:small-cnn', cacheDir, imageSize, log);
}
