import * as tf from '@tensorflow/tfjs';

/** The name of the classification head every model built or loaded here ends with. */
export const HEAD_LAYER = 'logits';

/**
 * The reference backbone: 32×32×3 → three conv3×3 blocks (16/32/64 filters, ReLU, 2×2 max-pool)
 * → dense 64 ReLU → dense nClasses. The head outputs logits; the sigmoid is applied by the loss
 * (sigmoid cross-entropy on logits is stable where a clipped sigmoid + log is not) and to the
 * predictions.
 */
export function buildSmallCnn(options: { classes: number; inputShape?: [number, number, number]; seed?: number }): tf.LayersModel {
  const seed = options.seed ?? 0;
  const init = (k: number) => tf.initializers.glorotUniform({ seed: seed * 16 + k });
  const input = tf.input({ shape: options.inputShape ?? [32, 32, 3], name: 'image' });
  let x: tf.SymbolicTensor = input;
  [16, 32, 64].forEach((filters, i) => {
    x = tf.layers
      .conv2d({ name: `conv${i + 1}`, filters, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(i) })
      .apply(x) as tf.SymbolicTensor;
    x = tf.layers.maxPooling2d({ name: `pool${i + 1}`, poolSize: 2 }).apply(x) as tf.SymbolicTensor;
  });
  x = tf.layers.flatten({ name: 'flatten' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.dense({ name: 'fc1', units: 64, activation: 'relu', kernelInitializer: init(3) }).apply(x) as tf.SymbolicTensor;
  const logits = tf.layers.dense({ name: HEAD_LAYER, units: options.classes, kernelInitializer: init(4) }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logits, name: 'small_cnn' });
}

/**
 * A new model sharing `backbone`'s layers up to its penultimate layer, with a fresh head of
 * `classes` logits: a pretrained head knows the source task's classes, not the target's.
 *
 * The head starts at zero (as BiT does), so an untrained model gives every image the same score
 * and its AUC is exactly chance (0.5). A random head is not neutral: the features are ReLU
 * outputs, all ≥ 0, and an image holding more objects activates more of them, so a class whose
 * random weights sum negative ranks its own positives low — with the seed shared by every trial,
 * the quickstart's trials all started at macro AUC 0.37, and those that learned slowly stayed
 * below chance. From zero, the first step already points each class's logit at its label; the
 * gradient still reaches the backbone from the second step on.
 */
export function replaceHead(backbone: tf.LayersModel, classes: number, _seed = 0): tf.LayersModel {
  const layers = backbone.layers;
  if (layers.length < 2)
    throw new Error(`backbone ${backbone.name} has ${layers.length} layer(s): need at least a feature layer and a head`);
  const features = (layers[layers.length - 2] as tf.layers.Layer).getOutputAt(0) as tf.SymbolicTensor;
  // The source task's head is dropped: free its weights now, nothing else references them.
  for (const w of (layers[layers.length - 1] as tf.layers.Layer).weights) w.dispose();
  const head = tf.layers.dense({ name: HEAD_LAYER, units: classes, kernelInitializer: 'zeros' });
  return tf.model({ inputs: backbone.inputs, outputs: head.apply(features) as tf.SymbolicTensor, name: `${backbone.name}_finetune` });
}

/** Layers that own weights, in order from the input: the ones `frozen_layers` counts. */
export function weightedLayers(model: tf.LayersModel): tf.layers.Layer[] {
  return model.layers.filter((l) => l.weights.length > 0);
}

/**
 * Freezes the first `count` layers that have weights (pooling, flatten etc. are not counted) and
 * returns their names. At least one layer must stay trainable.
 */
export function freezeLayers(model: tf.LayersModel, count: number): string[] {
  const weighted = weightedLayers(model);
  if (count >= weighted.length) {
    throw new Error(
      `frozen_layers ${count} would freeze every layer with weights: the model has ${weighted.length} (${weighted.map((l) => l.name).join(', ')}), so frozen_layers must be at most ${weighted.length - 1}`,
    );
  }
  weighted.forEach((layer, i) => {
    layer.trainable = i >= count;
  });
  return weighted.slice(0, count).map((l) => l.name);
}

/** Layers whose output does not depend on the training flag (safe to run once in inference mode). */
const TRAINING_INDEPENDENT = new Set([
  'InputLayer',
  'Conv2D',
  'DepthwiseConv2D',
  'SeparableConv2D',
  'Dense',
  'MaxPooling2D',
  'AveragePooling2D',
  'GlobalAveragePooling2D',
  'GlobalMaxPooling2D',
  'Flatten',
  'Activation',
  'ReLU',
  'Reshape',
  'ZeroPadding2D',
]);

/** Whether the model is a plain chain: every layer feeds only the next one. */
export function isChain(model: tf.LayersModel): boolean {
  const layers = model.layers;
  return layers.every((layer, i) => {
    const inbound = layer.inboundNodes.flatMap((n) => n.inboundLayers);
    return i === 0 ? inbound.length === 0 : inbound.length === 1 && inbound[0] === layers[i - 1];
  });
}

export interface FrozenSplit {
  /** Input → output of the last layer before the first trainable one. */
  prefix: tf.LayersModel;
  /** The remaining layers (the same layer objects, sharing weights) applied to the prefix's output. */
  suffix: tf.LayersModel;
  prefixLayers: string[];
  /** The symbolic output of each suffix layer inside the suffix graph (for multi-output probes). */
  suffixOutputs: Map<string, tf.SymbolicTensor>;
}

/**
 * Splits a chain model after its frozen prefix so that the prefix can be computed once and the
 * suffix trained on the cached features. Undefined when that would not give the same result:
 * no frozen prefix, a branching graph, or a prefix layer that behaves differently in training.
 */
export function splitAtFrozenPrefix(model: tf.LayersModel): FrozenSplit | undefined {
  if (!isChain(model)) return undefined;
  const layers = model.layers;
  const firstTrainable = layers.findIndex((l) => l.weights.length > 0 && l.trainable);
  if (firstTrainable <= 1) return undefined;
  const prefixLayers = layers.slice(0, firstTrainable);
  if (!prefixLayers.every((l) => TRAINING_INDEPENDENT.has(l.getClassName()))) return undefined;
  const cut = prefixLayers[prefixLayers.length - 1] as tf.layers.Layer;
  const prefix = tf.model({ inputs: model.inputs, outputs: cut.getOutputAt(0) as tf.SymbolicTensor, name: `${model.name}_prefix` });
  const featureShape = (cut.getOutputAt(0) as tf.SymbolicTensor).shape.slice(1) as number[];
  const featureInput = tf.input({ shape: featureShape, name: 'cached_features' });
  let x: tf.SymbolicTensor = featureInput;
  const suffixOutputs = new Map<string, tf.SymbolicTensor>();
  for (const layer of layers.slice(firstTrainable)) {
    x = layer.apply(x) as tf.SymbolicTensor;
    suffixOutputs.set(layer.name, x);
  }
  const suffix = tf.model({ inputs: featureInput, outputs: x, name: `${model.name}_suffix` });
  return { prefix, suffix, prefixLayers: prefixLayers.map((l) => l.name), suffixOutputs };
}

/**
 * Frees every weight of `model`. LayersModel.dispose() is not enough once layers have been
 * applied more than once (the cached-feature suffix re-applies them, which raises their
 * reference counts), so the variables are disposed directly.
 */
export function disposeModelWeights(model: tf.LayersModel): void {
  for (const layer of model.layers) {
    for (const w of layer.weights) {
      try {
        w.dispose();
      } catch {
        // already disposed
      }
    }
  }
}
