import { absoluteMovement, activationSparsity, type LayerStats, relativeMovement, summarize, updateRatio } from '@sweepd/core';
import * as tf from '@tensorflow/tfjs';
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

function isRelu(layer: tf.layers.Layer): boolean {
  if (layer.getClassName() === 'ReLU') return true;
  const activation = (layer.getConfig() as { activation?: unknown }).activation;
  return activation === 'relu';
}

/**
 * Per-layer weight and activation statistics at the end of each epoch (LayerStats):
 * kernel movement relative to the initial (pretrained) weights, absolute bias movement (biases
 * start at zero), the last epoch's update ratio, a histogram summary of the kernel, and the
 * sparsity / dead-unit fraction of every ReLU layer on a fixed probe batch. The weights are a
 * few hundred thousand floats, so plain JS over one copy each is cheaper than tensor ops.
 */
export class LayerDiagnostics {
  private readonly layers: tf.layers.Layer[];
  private readonly initial = new Map<string, Snapshot>();
  private readonly previous = new Map<string, Snapshot>();
  private readonly reluLayers: tf.layers.Layer[];
  private readonly probeModel: tf.LayersModel | undefined;

  constructor(
    model: tf.LayersModel,
    private readonly probe: tf.Tensor,
  ) {
    this.layers = weightedLayers(model);
    for (const layer of this.layers) {
      const snap = readWeights(layer);
      this.initial.set(layer.name, snap);
      this.previous.set(layer.name, snap);
    }
    this.reluLayers = model.layers.filter(isRelu);
    this.probeModel = this.reluLayers.length
      ? tf.model({ inputs: model.inputs, outputs: this.reluLayers.map((l) => l.output as tf.SymbolicTensor), name: `${model.name}_relu_probe` })
      : undefined;
  }

  collect(): LayerStats[] {
    const activations = this.activationStats();
    const stats: LayerStats[] = [];
    const seen = new Set<string>();
    for (const layer of this.layers) {
      const current = readWeights(layer);
      const initial = this.initial.get(layer.name) as Snapshot;
      const previous = this.previous.get(layer.name) as Snapshot;
      const s: LayerStats = { layer: layer.name, trainable: layer.trainable };
      if (current.kernel && initial.kernel && previous.kernel) {
        s.kernelMovement = relativeMovement(current.kernel, initial.kernel);
        s.updateRatio = updateRatio(current.kernel, previous.kernel);
        const summary = summarize(current.kernel);
        s.mean = summary.mean;
        s.std = summary.std;
        s.fractionNegative = summary.fractionNegative;
        s.quantiles = [...summary.quantiles];
      }
      if (current.bias && initial.bias) s.biasMovement = absoluteMovement(current.bias, initial.bias);
      Object.assign(s, activations.get(layer.name));
      this.previous.set(layer.name, current);
      stats.push(s);
      seen.add(layer.name);
    }
    // A ReLU without weights of its own (an Activation/ReLU layer) still gets its sparsity.
    for (const [name, a] of activations) {
      if (!seen.has(name)) stats.push({ layer: name, trainable: false, ...a });
    }
    return stats;
  }

  private activationStats(): Map<string, { sparsity: number; deadFraction: number }> {
    const out = new Map<string, { sparsity: number; deadFraction: number }>();
    if (!this.probeModel) return out;
    const outputs = tf.tidy(() => {
      const r = (this.probeModel as tf.LayersModel).predict(this.probe);
      return Array.isArray(r) ? r : [r];
    });
    this.reluLayers.forEach((layer, i) => {
      const t = outputs[i] as tf.Tensor;
      const units = t.shape[t.shape.length - 1] as number;
      const { sparsity, deadFraction } = activationSparsity(t.dataSync() as Float32Array, units);
      out.set(layer.name, { sparsity, deadFraction });
    });
    tf.dispose(outputs);
    return out;
  }

  dispose(): void {
    // The probe model shares the trial model's layers; the trial disposes those.
    this.initial.clear();
    this.previous.clear();
  }
}
