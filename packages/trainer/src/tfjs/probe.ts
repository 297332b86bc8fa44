import type { ActivationSparsity } from '@sweepd/core';
import * as tf from '@tensorflow/tfjs';
import { isRelu, sparsityOf } from './diagnostics.ts';
import type { FrozenSplit } from './model.ts';

export interface ActivationProbe {
  /** The trained part with its ReLU layers' outputs as extra outputs (read off the validation pass). */
  model?: tf.LayersModel;
  /** The ReLU layers `model` returns, in output order after the head. */
  layers: string[];
  /** The ReLU layers of a cached frozen prefix: they never change, so they are measured once. */
  fixed: Map<string, ActivationSparsity>;
}

/**
 * The activation probe: the first `count` validation images. ReLU layers in the trained part are
 * read off the validation pass; those in a cached frozen prefix never change, so once, here.
 */
export function buildProbe(
  model: tf.LayersModel,
  trainModel: tf.LayersModel,
  split: FrozenSplit | undefined,
  validationImages: tf.Tensor,
  count: number,
): ActivationProbe {
  const relus = model.layers.filter(isRelu);
  const inTrained = split ? relus.filter((l) => split.suffixOutputs.has(l.name)) : relus;
  const probe: ActivationProbe = { layers: inTrained.map((l) => l.name), fixed: new Map() };
  if (inTrained.length) {
    const outputs = inTrained.map((l) => (split ? split.suffixOutputs.get(l.name) : l.getOutputAt(0)) as tf.SymbolicTensor);
    probe.model = tf.model({ inputs: trainModel.inputs, outputs: [trainModel.outputs[0] as tf.SymbolicTensor, ...outputs] });
  }
  const inPrefix = split ? relus.filter((l) => !split.suffixOutputs.has(l.name)) : [];
  if (inPrefix.length) {
    const prefixProbe = tf.model({ inputs: model.inputs, outputs: inPrefix.map((l) => l.getOutputAt(0) as tf.SymbolicTensor) });
    tf.tidy(() => {
      const r = prefixProbe.predict(validationImages.slice(0, count));
      (Array.isArray(r) ? r : [r]).forEach((t, i) => {
        probe.fixed.set((inPrefix[i] as tf.layers.Layer).name, sparsityOf(t));
      });
    });
  }
  return probe;
}
