import type { RunnerContext } from '@sweepd/core';
import * as tf from '@tensorflow/tfjs';
import type { ImageDataset } from '../data/index.ts';
import { predictInBatches } from './evaluate.ts';
import { FeatureStore } from './feature-store.ts';
import { type FrozenSplit, splitAtFrozenPrefix } from './model.ts';

// Datasets are built once per process, so object identity names them for the feature store.
const datasetIds = new WeakMap<ImageDataset, number>();
let nextDatasetId = 1;
function datasetKey(d: ImageDataset): string {
  let id = datasetIds.get(d);
  if (id === undefined) {
    id = nextDatasetId++;
    datasetIds.set(d, id);
  }
  return `${d.name}#${id}`;
}

export interface TrainingInputs {
  /** The frozen prefix and the trained suffix, when the features are cached. */
  split?: FrozenSplit;
  /** The model part that is trained: the suffix, or the whole model. */
  trainModel: tf.LayersModel;
  trainInputs: tf.Tensor;
  valInputs: tf.Tensor;
  featureSeconds: number;
  featureHit: boolean;
}

/**
 * What the trained part of the model sees. The frozen prefix's output never changes during the
 * trial: with `featureCache` it is computed once (or taken from `store`, shared between the
 * trials of a worker) and the suffix trains on it; otherwise the images themselves. Tensors it
 * creates go to `keep` (the trial disposes them).
 */
export function trainingInputs(
  model: tf.LayersModel,
  dataset: ImageDataset,
  images: { train: tf.Tensor; validation: tf.Tensor },
  options: { featureCache: boolean; featureStore?: FeatureStore; evalBatchSize: number },
  keep: <T extends tf.Tensor>(t: T) => T,
  ctx: Pick<RunnerContext, 'log'>,
): TrainingInputs {
  const split = options.featureCache ? splitAtFrozenPrefix(model) : undefined;
  if (!split) return { trainModel: model, trainInputs: images.train, valInputs: images.validation, featureSeconds: 0, featureHit: false };
  const t0 = performance.now();
  const store = options.featureStore;
  const key = store ? FeatureStore.key(datasetKey(dataset), split.prefix) : '';
  const hit = store?.get(key);
  let trainInputs: tf.Tensor;
  let valInputs: tf.Tensor;
  if (hit) {
    trainInputs = keep(tf.tensor(hit.train, [dataset.train.count, ...hit.shape]));
    valInputs = keep(tf.tensor(hit.validation, [dataset.validation.count, ...hit.shape]));
  } else {
    trainInputs = keep(predictInBatches(split.prefix, images.train, options.evalBatchSize));
    valInputs = keep(predictInBatches(split.prefix, images.validation, options.evalBatchSize));
    if (store) {
      const shape = trainInputs.shape.slice(1);
      store.set(key, { shape, train: trainInputs.dataSync() as Float32Array, validation: valInputs.dataSync() as Float32Array });
    }
  }
  const featureSeconds = (performance.now() - t0) / 1000;
  const featureHit = hit !== undefined;
  ctx.log(
    `feature cache: frozen prefix ${split.prefixLayers.join(' → ')} ${featureHit ? 'reused from an earlier trial' : 'computed once'} in ${featureSeconds.toFixed(2)} s`,
  );
  return { split, trainModel: split.suffix, trainInputs, valInputs, featureSeconds, featureHit };
}
