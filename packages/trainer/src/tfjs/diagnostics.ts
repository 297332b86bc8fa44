import {
  absoluteMovement,
  activationSparsity,
  type ActivationSparsity,
  type LayerStats,
  relativeMovement,
  summarize,
  updateRatio,
} from '@sweepd/core';
import type * as tf from '@tensorflow/tfjs';
import { weightedLayers } from './model.ts';

interface Snapshot {
  kernel?: Float32Array;
  bias?: Float32Array;
}

function readWeights(layer: tf.layers.Layer): Snapshot {
  const snap: Snapshot = {};
  for (const w of layer.weights) {
    // dataSync copies out of the backend: a snapshot, not a view of the live variable.
    const values = w.read().dataSync() as Float32Array;
    if (w.originalName.endsWith('/kernel') || w.originalName.endsWith('/depthwise_kernel')) snap.kernel = values;
    else if (w.originalName.endsWith('/bias')) snap.bias = values;
  }
  return snap;
}

function isZero(values: Float32Array): boolean {
  for (let i = 0; i < values.length; i++) if (values[i] !== 0) return false;
  return true;
}

/** Whether the layer's output is a ReLU's (a ReLU layer, or any layer with activation 'relu'). */
export function isRelu(layer: tf.layers.Layer): boolean {
  if (layer.getClassName() === 'ReLU') return true;
  const activation = (layer.getConfig() as { activation?: unknown }).activation;
  return activation === 'relu';
}

/** Sparsity and dead-unit fraction of one ReLU output (units on the last axis). */
export function sparsityOf(activations: tf.Tensor): ActivationSparsity {
  const units = activations.shape[activations.shape.length - 1] as number;
  return activationSparsity(activations.dataSync() as Float32Array, units);
}

/**
 * Per-layer weight statistics at the end of each epoch (LayerStats): kernel movement relative to
 * the initial (pretrained) weights, absolute bias movement (biases start at zero), the last
 * epoch's update ratio, and a histogram summary of the kernel. A few hundred thousand floats:
 * plain JS over one copy each is cheaper than tensor ops. The ReLU sparsities come from the
 * trial, which gets them from the validation pass it makes anyway (see trial.ts).
 */
export class LayerDiagnostics {
  private readonly layers: tf.layers.Layer[];
  private readonly initial = new Map<string, Snapshot>();
  private readonly previous = new Map<string, Snapshot>();
  private readonly frozenStats = new Map<string, Omit<LayerStats, 'layer' | 'trainable'>>();

  constructor(model: tf.LayersModel) {
    this.layers = weightedLayers(model);
    for (const layer of this.layers) {
      const snap = readWeights(layer);
      this.initial.set(layer.name, snap);
      this.previous.set(layer.name, snap);
    }
  }

  collect(activations: ReadonlyMap<string, ActivationSparsity>): LayerStats[] {
    const stats: LayerStats[] = [];
    const seen = new Set<string>();
    for (const layer of this.layers) {
      const s: LayerStats = { layer: layer.name, trainable: layer.trainable };
      seen.add(layer.name);
      // A frozen layer's weights do not change: its statistics are computed once.
      const cached = this.frozenStats.get(layer.name);
      if (cached && !layer.trainable) {
        stats.push({ ...s, ...cached, ...activations.get(layer.name) });
        continue;
      }
      const current = readWeights(layer);
      const initial = this.initial.get(layer.name) as Snapshot;
      const previous = this.previous.get(layer.name) as Snapshot;
      if (current.kernel && initial.kernel && previous.kernel) {
        // Movement relative to a kernel that was all zeros (a fresh head) is undefined, not infinite.
        if (!isZero(initial.kernel)) s.kernelMovement = relativeMovement(current.kernel, initial.kernel);
        if (!isZero(previous.kernel)) s.updateRatio = updateRatio(current.kernel, previous.kernel);
        const summary = summarize(current.kernel);
        s.mean = summary.mean;
        s.std = summary.std;
        s.fractionNegative = summary.fractionNegative;
        s.quantiles = [...summary.quantiles];
      }
      if (current.bias && initial.bias) s.biasMovement = absoluteMovement(current.bias, initial.bias);
      if (!layer.trainable) {
        const { layer: _name, trainable: _t, ...rest } = s;
        this.frozenStats.set(layer.name, rest);
      }
      this.previous.set(layer.name, current);
      stats.push({ ...s, ...activations.get(layer.name) });
    }
    // A ReLU without weights of its own (an Activation/ReLU layer) still gets its sparsity.
    for (const [name, a] of activations) {
      if (!seen.has(name)) stats.push({ layer: name, trainable: false, ...a });
    }
    return stats;
  }
}
