import {
  type ActivationSparsity,
  diagnoseEpoch,
  multilabelAuc,
  Rng,
  type EpochRecord,
  type LayerStats,
  type RunnerContext,
  type TrialOutcome,
} from '@sweepd/core';
import * as tf from '@tensorflow/tfjs';
import type { ImageDataset } from '../data/index.ts';
import { dataParallelObstacle, type GradientThreads } from './data-parallel.ts';
import { isRelu, LayerDiagnostics, sparsityOf } from './diagnostics.ts';
import { FeatureStore } from './feature-store.ts';
import { disposeModelWeights, freezeLayers, splitAtFrozenPrefix } from './model.ts';
import { buildOptimizer, disposeOptimizer, learningRateAt, setLearningRate } from './optimizer.ts';
import type { TrainingParams } from './params.ts';
import { dataParallelStep, type StepContext, singleThreadStep } from './train-step.ts';

export interface TrialSettings {
  params: TrainingParams;
  maxEpochs: number;
  backend: string;
  /** Train the suffix on cached features of the frozen prefix when that gives the same result. */
  featureCache: boolean;
  /** Shares frozen-prefix features between the trials of a worker (optional). */
  featureStore?: FeatureStore;
  diagnostics: boolean;
  probeSize: number;
  evalBatchSize: number;
  /**
   * Gradient threads for data-parallel training (see data-parallel.ts); absent: one thread.
   * Unused when the trained part of the model has batch-dependent or random layers.
   */
  gradientThreads?: GradientThreads;
}

class Stopped extends Error {}

// Datasets are built once per process, so object identity names them for the feature store.
const datasetIds = new WeakMap<ImageDataset, number>();
function datasetKey(d: ImageDataset): string {
  let id = datasetIds.get(d);
  if (id === undefined) {
    id = nextDatasetId++;
    datasetIds.set(d, id);
  }
  return `${d.name}#${id}`;
}
let nextDatasetId = 1;

/** Yields to the event loop so that an abort (a stop message) can arrive between batches. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

function abortReason(signal: AbortSignal): string {
  const r: unknown = signal.reason;
  if (typeof r === 'string') return r;
  if (r instanceof Error && r.name !== 'AbortError') return r.message;
  return 'stopped';
}

/** A seeded permutation of 0..n-1 (Fisher–Yates), the same for the same seed and epoch. */
function permutation(n: number, rng: Rng): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = p[i] as number;
    p[i] = p[j] as number;
    p[j] = t;
  }
  return p;
}

function splitTensors(split: ImageDataset['train'], d: ImageDataset): { x: tf.Tensor4D; y: tf.Tensor2D } {
  return {
    x: tf.tensor4d(split.images, [split.count, d.height, d.width, d.channels]),
    y: tf.tensor2d(split.labels, [split.count, d.classes.length], 'float32'),
  };
}

/** Runs `model` over `x` in batches and concatenates the outputs (kept by the caller). */
function predictInBatches(model: tf.LayersModel, x: tf.Tensor, batchSize: number): tf.Tensor {
  const n = x.shape[0] as number;
  const parts: tf.Tensor[] = [];
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    parts.push(tf.tidy(() => model.predict(x.slice(start, size)) as tf.Tensor));
  }
  const out = parts.length === 1 ? (parts[0] as tf.Tensor) : tf.concat(parts);
  if (parts.length > 1) tf.dispose(parts);
  return out;
}

/**
 * The validation pass. The first `probe` images go through a model that also returns the ReLU
 * layers' outputs, so the activation statistics cost no extra forward pass.
 */
function evaluate(
  trainModel: tf.LayersModel,
  probeModel: tf.LayersModel | undefined,
  probeLayers: readonly string[],
  inputs: tf.Tensor,
  labels: tf.Tensor,
  probe: number,
  batchSize: number,
): { logits: tf.Tensor; loss: tf.Scalar; activations: Map<string, ActivationSparsity>; activationSeconds: number } {
  const activations = new Map<string, ActivationSparsity>();
  let activationSeconds = 0;
  const { logits, loss } = tf.tidy(() => {
    const n = inputs.shape[0] as number;
    const parts: tf.Tensor[] = [];
    let start = 0;
    if (probeModel && probe > 0) {
      const [head, ...relus] = probeModel.predict(inputs.slice(0, probe)) as tf.Tensor[];
      // Timed as diagnostics although reading the outputs also waits for the probe batch's forward pass.
      const t0 = performance.now();
      relus.forEach((t, i) => {
        activations.set(probeLayers[i] as string, sparsityOf(t));
      });
      activationSeconds = (performance.now() - t0) / 1000;
      parts.push(head as tf.Tensor);
      start = probe;
    }
    for (; start < n; start += batchSize) parts.push(trainModel.predict(inputs.slice(start, Math.min(batchSize, n - start))) as tf.Tensor);
    const all = parts.length === 1 ? (parts[0] as tf.Tensor) : tf.concat(parts);
    return { logits: all, loss: tf.losses.sigmoidCrossEntropy(labels, all) as tf.Scalar };
  });
  return { logits, loss, activations, activationSeconds };
}

/**
 * Fine-tunes `model` (already carrying the target's head) on `dataset` for one trial and reports
 * every epoch. Owns and disposes `model` and every tensor it creates: the worker's tensor count is
 * the same before and after.
 */
export async function trainTrial(
  model: tf.LayersModel,
  dataset: ImageDataset,
  settings: TrialSettings,
  ctx: RunnerContext,
): Promise<TrialOutcome> {
  const { params, maxEpochs } = settings;
  const classes = dataset.classes.length;
  const owned: tf.Tensor[] = [];
  const keep = <T extends tf.Tensor>(t: T): T => {
    owned.push(t);
    return t;
  };
  let optimizer: tf.Optimizer | undefined;
  let diagnostics: LayerDiagnostics | undefined;
  let parallel: GradientThreads | undefined;
  try {
    const frozen = freezeLayers(model, params.frozenLayers);
    const train = splitTensors(dataset.train, dataset);
    const val = splitTensors(dataset.validation, dataset);
    owned.push(train.x, train.y, val.x, val.y);

    // The frozen prefix's output never changes during the trial: compute it once.
    const split = settings.featureCache ? splitAtFrozenPrefix(model) : undefined;
    const trainModel = split ? split.suffix : model;
    let trainInputs: tf.Tensor = train.x;
    let valInputs: tf.Tensor = val.x;
    let featureSeconds = 0;
    let featureHit = false;
    if (split) {
      const t0 = performance.now();
      const store = settings.featureStore;
      const key = store ? FeatureStore.key(datasetKey(dataset), split.prefix) : '';
      const hit = store?.get(key);
      if (hit) {
        trainInputs = keep(tf.tensor(hit.train, [dataset.train.count, ...hit.shape]));
        valInputs = keep(tf.tensor(hit.validation, [dataset.validation.count, ...hit.shape]));
        featureHit = true;
      } else {
        trainInputs = keep(predictInBatches(split.prefix, train.x, settings.evalBatchSize));
        valInputs = keep(predictInBatches(split.prefix, val.x, settings.evalBatchSize));
        if (store) {
          const shape = trainInputs.shape.slice(1);
          store.set(key, { shape, train: trainInputs.dataSync() as Float32Array, validation: valInputs.dataSync() as Float32Array });
        }
      }
      featureSeconds = (performance.now() - t0) / 1000;
      ctx.log(
        `feature cache: frozen prefix ${split.prefixLayers.join(' → ')} ${featureHit ? 'reused from an earlier trial' : 'computed once'} in ${featureSeconds.toFixed(2)} s`,
      );
    }

    const trainable = trainModel.trainableWeights;
    const variables = trainable.map((w) => w.read() as tf.Variable);
    const kernels = trainable.filter((w) => w.originalName.endsWith('kernel')).map((w) => w.read());
    optimizer = buildOptimizer(params, learningRateAt(params, 0, maxEpochs));
    // Activation probe: the first probeSize validation images. ReLU layers in the trained part
    // are read off the validation pass; those in a cached frozen prefix never change, so once.
    const probeCount = settings.diagnostics ? Math.min(settings.probeSize, dataset.validation.count) : 0;
    let probeModel: tf.LayersModel | undefined;
    let probeLayers: string[] = [];
    const fixedActivations = new Map<string, ActivationSparsity>();
    if (settings.diagnostics) {
      diagnostics = new LayerDiagnostics(model);
      const relus = model.layers.filter(isRelu);
      const inTrained = split ? relus.filter((l) => split.suffixOutputs.has(l.name)) : relus;
      probeLayers = inTrained.map((l) => l.name);
      if (inTrained.length) {
        const outputs = inTrained.map((l) => (split ? split.suffixOutputs.get(l.name) : l.getOutputAt(0)) as tf.SymbolicTensor);
        probeModel = tf.model({ inputs: trainModel.inputs, outputs: [trainModel.outputs[0] as tf.SymbolicTensor, ...outputs] });
      }
      const inPrefix = split ? relus.filter((l) => !split.suffixOutputs.has(l.name)) : [];
      if (inPrefix.length) {
        const prefixProbe = tf.model({ inputs: model.inputs, outputs: inPrefix.map((l) => l.getOutputAt(0) as tf.SymbolicTensor) });
        tf.tidy(() => {
          const r = prefixProbe.predict(val.x.slice(0, probeCount));
          (Array.isArray(r) ? r : [r]).forEach((t, i) => {
            fixedActivations.set((inPrefix[i] as tf.layers.Layer).name, sparsityOf(t));
          });
        });
      }
    }

    const nTrain = dataset.train.count;
    const batchSize = Math.min(params.batchSize, nTrain);
    if (settings.gradientThreads) {
      const obstacle = dataParallelObstacle(trainModel);
      if (obstacle) ctx.log(`data-parallel training off: ${obstacle}`);
      else if (batchSize < settings.gradientThreads.count) ctx.log(`data-parallel training off: batch of ${batchSize}`);
      else {
        parallel = settings.gradientThreads;
        await parallel.beginTrial(trainModel, trainInputs, train.y);
      }
    }
    const step: StepContext = {
      model: trainModel,
      optimizer,
      variables,
      kernels,
      weightDecay: params.weightDecay,
      inputs: trainInputs,
      labels: train.y,
    };
    const baseNotes = {
      backend: settings.backend,
      threads: parallel ? parallel.count : 1,
      frozen_layers: frozen,
      feature_cache: split !== undefined,
      feature_cache_reused: featureHit,
    };

    // Earlier epochs' layer statistics, for the stalled/dying flags (which compare with the previous epoch).
    const layerHistory: LayerStats[][] = [];
    for (let epoch = 1; epoch <= maxEpochs; epoch++) {
      const started = performance.now();
      const lr = learningRateAt(params, epoch - 1, maxEpochs);
      setLearningRate(optimizer, lr);
      const order = permutation(nTrain, new Rng(`${params.seed}:epoch:${epoch}`));
      // Summed on the backend: reading a loss back every batch would stall the pipeline.
      let lossSum: tf.Scalar = tf.scalar(0);
      try {
        for (let start = 0; start < nTrain; start += batchSize) {
          await yieldToEventLoop();
          if (ctx.signal.aborted) throw new Stopped(abortReason(ctx.signal));
          const size = Math.min(batchSize, nTrain - start);
          const rows = order.subarray(start, start + size);
          const dataLoss = parallel ? await dataParallelStep(step, rows, parallel) : singleThreadStep(step, rows);
          const batchLoss = tf.mul(dataLoss, size) as tf.Scalar;
          dataLoss.dispose();
          const next = tf.add(lossSum, batchLoss) as tf.Scalar;
          tf.dispose([lossSum, batchLoss]);
          lossSum = next;
        }
        const trainLoss = ((await lossSum.data())[0] as number) / nTrain;
        const trainSeconds = (performance.now() - started) / 1000;

        const evaluated = evaluate(trainModel, probeModel, probeLayers, valInputs, val.y, probeCount, settings.evalBatchSize);
        const scores = (await evaluated.logits.data()) as Float32Array;
        const valLoss = (await evaluated.loss.data())[0] as number;
        tf.dispose([evaluated.logits, evaluated.loss]);

        const diverged = !Number.isFinite(trainLoss) || !Number.isFinite(valLoss) || scores.some(Number.isNaN);
        const metrics: Record<string, number> = { train_loss: trainLoss, val_loss: valLoss, learning_rate: lr };
        const notes: Record<string, unknown> = { ...baseNotes };
        let layers: LayerStats[] = [];
        if (!diverged) {
          // Logits, not sigmoids, as scores: same order, and no ties from float32 saturation at 1.
          const auc = multilabelAuc(dataset.validation.labels, scores, classes);
          if (auc.macro !== null) metrics.val_auc_macro = auc.macro;
          if (auc.micro !== null) metrics.val_auc_micro = auc.micro;
          if (auc.macroAveragePrecision !== null) metrics.val_ap_macro = auc.macroAveragePrecision;
          dataset.classes.forEach((name, k) => {
            const a = auc.perClass[k];
            const ap = auc.averagePrecision[k];
            if (a !== null && a !== undefined) metrics[`val_auc[${name}]`] = a;
            if (ap !== null && ap !== undefined) metrics[`val_ap[${name}]`] = ap;
          });
          notes.auc_undefined_classes = auc.omitted.map((k) => dataset.classes[k]);
          if (diagnostics) {
            const d1 = performance.now();
            layers = diagnostics.collect(new Map([...fixedActivations, ...evaluated.activations]));
            // { stalled, dying, detail }: what the weight-stall and dead-units rules fall back on.
            notes.diagnostics = diagnoseEpoch(layers, layerHistory);
            layerHistory.push(layers);
            notes.diagnostics_seconds = evaluated.activationSeconds + (performance.now() - d1) / 1000;
          }
        } else {
          notes.diverged = true;
        }
        metrics.epoch_seconds = (performance.now() - started) / 1000;
        notes.train_seconds = trainSeconds;
        if (epoch === 1 && split) notes.feature_cache_seconds = featureSeconds;
        const record: EpochRecord = { epoch, metrics, layers, notes };
        await ctx.report(record);
        if (diverged) {
          const what = !Number.isFinite(trainLoss)
            ? `train_loss is ${trainLoss}`
            : !Number.isFinite(valLoss)
              ? `val_loss is ${valLoss}`
              : 'validation outputs are NaN';
          return { state: 'failed', reason: `diverged: ${what} at epoch ${epoch}`, notes: baseNotes };
        }
      } finally {
        lossSum.dispose();
      }
      if (ctx.signal.aborted) return { state: 'stopped', reason: abortReason(ctx.signal), notes: baseNotes };
    }
    return { state: 'completed', notes: baseNotes };
  } catch (error) {
    if (error instanceof Stopped) return { state: 'stopped', reason: error.message };
    throw error;
  } finally {
    if (parallel) await parallel.endTrial().catch((e: Error) => ctx.log(`gradient threads: ${e.message}`));
    if (optimizer) disposeOptimizer(optimizer);
    tf.dispose(owned);
    disposeModelWeights(model);
  }
}
