import * as tf from '@tensorflow/tfjs';
import type { TrainingParams } from './params.ts';

/** The tfjs optimizer matching slim's flags (see params.ts for the defaults). */
export function buildOptimizer(p: TrainingParams, learningRate = p.learningRate): tf.Optimizer {
  switch (p.optimizer) {
    case 'sgd':
      return tf.train.sgd(learningRate);
    case 'momentum':
      return tf.train.momentum(learningRate, p.momentum);
    case 'rmsprop':
      return tf.train.rmsprop(learningRate, p.rmspropDecay, p.rmspropMomentum, p.epsilon, false);
    case 'adam':
      return tf.train.adam(learningRate, p.adamBeta1, p.adamBeta2, p.epsilon);
  }
}

/**
 * Changes the rate of a live optimizer. SGD and momentum cache −lr in a scalar tensor, so only
 * setLearningRate() reaches them (assigning learningRate does nothing); rmsprop and adam read
 * the learningRate field on every step.
 */
export function setLearningRate(optimizer: tf.Optimizer, learningRate: number): void {
  // Not instanceof: tfjs optimizers define Symbol.hasInstance duck-typing, so every optimizer is an "SGDOptimizer".
  const sgdLike = optimizer as unknown as { setLearningRate?: (lr: number) => void };
  if (typeof sgdLike.setLearningRate === 'function') {
    sgdLike.setLearningRate(learningRate); // sgd, and momentum which extends it
  } else {
    (optimizer as unknown as { learningRate: number }).learningRate = learningRate;
  }
}

/**
 * The rate in effect during epoch `epoch0` (0-based), applied per epoch:
 * - fixed: learning_rate;
 * - exponential (slim, staircase): learning_rate · factor^⌊epoch0 / num_epochs_per_decay⌋;
 * - polynomial (power 1): linear from learning_rate at epoch 0 towards end_learning_rate at maxEpochs.
 */
export function learningRateAt(p: TrainingParams, epoch0: number, maxEpochs: number): number {
  switch (p.decayType) {
    case 'fixed':
      return p.learningRate;
    case 'exponential':
      return p.learningRate * p.decayFactor ** Math.floor(epoch0 / p.epochsPerDecay);
    case 'polynomial': {
      const progress = Math.min(epoch0, maxEpochs) / Math.max(1, maxEpochs);
      return (p.learningRate - p.endLearningRate) * (1 - progress) + p.endLearningRate;
    }
  }
}

/**
 * Disposes an optimizer and its slots. MomentumOptimizer.dispose() (tfjs 4.22) forgets the −lr
 * scalar it inherits from SGDOptimizer, one leaked tensor per trial; free it too.
 */
export function disposeOptimizer(optimizer: tf.Optimizer): void {
  optimizer.dispose();
  const inherited = (optimizer as unknown as { c?: tf.Tensor }).c;
  if (inherited && !inherited.isDisposed) inherited.dispose();
}
