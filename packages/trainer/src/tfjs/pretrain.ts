import { access } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { ImageDataset } from '../data/index.ts';
import { loadDataset } from '../data/index.ts';
import { buildSmallCnn } from './model.ts';
import { saveModelToDir } from './model-io.ts';

export interface PretrainOptions {
  /** Where model.json and weights.bin go; reused when model.json is already there. */
  dir: string;
  /** The source task. */
  dataset: ImageDataset;
  epochs: number;
  seed: number;
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

async function doPretrain({ dir, dataset, epochs, seed, log = () => {} }: PretrainOptions): Promise<string> {
  const saved = await access(path.join(dir, 'model.json')).then(
    () => true,
    () => false,
  );
  if (saved) return dir;
  const started = performance.now();
  const model = buildSmallCnn({ classes: dataset.classes.length, inputShape: [dataset.height, dataset.width, dataset.channels], seed });
  const { train } = dataset;
  const x = tf.tensor4d(train.images, [train.count, dataset.height, dataset.width, dataset.channels]);
  const y = tf.tensor2d(train.labels, [train.count, dataset.classes.length], 'float32');
  const optimizer = tf.train.adam(1e-3);
  try {
    model.compile({ optimizer, loss: (labels: tf.Tensor, logits: tf.Tensor) => tf.losses.sigmoidCrossEntropy(labels, logits) });
    const history = await model.fit(x, y, { epochs, batchSize: 32, shuffle: true, verbose: 0 });
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

/** Pretrains (once) and returns the directory of the builtin backbone for `imageSize` images. */
export function builtinBackboneDir(cacheDir: string, imageSize: number, log?: (message: string) => void): Promise<string> {
  const dir = path.join(cacheDir, 'models', `small-cnn-synthetic12-${imageSize}px`);
  return pretrainBackbone({ dir, dataset: builtinSourceDataset(imageSize), epochs: 3, seed: 1001, ...(log ? { log } : {}) });
}
