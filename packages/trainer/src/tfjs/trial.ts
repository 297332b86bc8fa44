import { diagnoseEpoch, type EpochRecord, type LayerStats, type RunnerContext, type TrialOutcome } from '@sweepd/core';
import * as tf from '@tensorflow/tfjs';
import type { ImageDataset } from '../data/index.ts';
import { dataParallelObstacle, type GradientThreads } from './data-parallel.ts';
import { LayerDiagnostics } from './diagnostics.ts';
import { abortReason, Stopped, trainEpoch } from './epoch-loop.ts';
import { evaluate, recordAuc } from './evaluate.ts';
import { trainingInputs } from './feature-cache.ts';
import type { FeatureStore } from './feature-store.ts';
import { disposeModelWeights, freezeLayers } from './model.ts';
import { buildOptimizer, disposeOptimizer, learningRateAt, setLearningRate } from './optimizer.ts';
import type { TrainingParams } from './params.ts';
import { type ActivationProbe, buildProbe } from './probe.ts';
import type { StepContext } from './train-step.ts';

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

function splitTensors(split: ImageDataset['train'], d: ImageDataset): { x: tf.Tensor4D; y: tf.Tensor2D } {
  return {
    x: tf.tensor4d(split.images, [split.count, d.height, d.width, d.channels]),
    y: tf.tensor2d(split.labels, [split.count, d.classes.length], 'float32'),
  };
}

/**
 * Fine-tunes `model` (already carrying the target's head) on `dataset` for one trial and reports
 * every epoch: the inputs (cached frozen-prefix features, feature-cache.ts), the activation probe
 * (probe.ts), then per epoch a pass over the training set (epoch-loop.ts) and a validation pass
 * with AUCs and layer statistics (evaluate.ts). Owns and disposes `model` and every tensor it
 * creates: the worker's tensor count is the same before and after.
 */
export async function trainTrial(
  model: tf.LayersModel,
  dataset: ImageDataset,
  settings: TrialSettings,
  ctx: RunnerContext,
): Promise<TrialOutcome> {
  const { params, maxEpochs } = settings;
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
    const inputs = trainingInputs(model, dataset, { train: train.x, validation: val.x }, settings, keep, ctx);
    const { split, trainModel } = inputs;

    const trainable = trainModel.trainableWeights;
    const variables = trainable.map((w) => w.read() as tf.Variable);
    const kernels = trainable.filter((w) => w.originalName.endsWith('kernel')).map((w) => w.read());
    optimizer = buildOptimizer(params, learningRateAt(params, 0, maxEpochs));
    const probeCount = settings.diagnostics ? Math.min(settings.probeSize, dataset.validation.count) : 0;
    let probe: ActivationProbe = { layers: [], fixed: new Map() };
    if (settings.diagnostics) {
      diagnostics = new LayerDiagnostics(model);
      probe = buildProbe(model, trainModel, split, val.x, probeCount);
    }

    const nTrain = dataset.train.count;
    const batchSize = Math.min(params.batchSize, nTrain);
    if (settings.gradientThreads) {
      const obstacle = dataParallelObstacle(trainModel);
      if (obstacle) ctx.log(`data-parallel training off: ${obstacle}`);
      else if (batchSize < settings.gradientThreads.count) ctx.log(`data-parallel training off: batch of ${batchSize}`);
      else {
        parallel = settings.gradientThreads;
        await parallel.beginTrial(trainModel, inputs.trainInputs, train.y);
      }
    }
    const step: StepContext = {
      model: trainModel,
      optimizer,
      variables,
      kernels,
      weightDecay: params.weightDecay,
      inputs: inputs.trainInputs,
      labels: train.y,
    };
    const baseNotes = {
      backend: settings.backend,
      threads: parallel ? parallel.count : 1,
      frozen_layers: frozen,
      feature_cache: split !== undefined,
      feature_cache_reused: inputs.featureHit,
    };

    // Earlier epochs' layer statistics, for the stalled/dying flags (which compare with the previous epoch).
    const layerHistory: LayerStats[][] = [];
    for (let epoch = 1; epoch <= maxEpochs; epoch++) {
      const started = performance.now();
      const lr = learningRateAt(params, epoch - 1, maxEpochs);
      setLearningRate(optimizer, lr);
      const trainLoss = await trainEpoch(step, {
        nTrain,
        batchSize,
        seed: params.seed,
        epoch,
        signal: ctx.signal,
        ...(parallel ? { parallel } : {}),
      });
      const trainSeconds = (performance.now() - started) / 1000;

      const evaluated = evaluate(trainModel, probe.model, probe.layers, inputs.valInputs, val.y, probeCount, settings.evalBatchSize);
      const scores = (await evaluated.logits.data()) as Float32Array;
      const valLoss = (await evaluated.loss.data())[0] as number;
      tf.dispose([evaluated.logits, evaluated.loss]);

      const diverged = !Number.isFinite(trainLoss) || !Number.isFinite(valLoss) || scores.some(Number.isNaN);
      const metrics: Record<string, number> = { train_loss: trainLoss, val_loss: valLoss, learning_rate: lr };
      const notes: Record<string, unknown> = { ...baseNotes };
      let layers: LayerStats[] = [];
      if (!diverged) {
        recordAuc(dataset, scores, metrics, notes);
        if (diagnostics) {
          const d1 = performance.now();
          layers = diagnostics.collect(new Map([...probe.fixed, ...evaluated.activations]));
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
      if (epoch === 1 && split) notes.feature_cache_seconds = inputs.featureSeconds;
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
