import type { Params } from '@sweepd/core';
import { checkHyperparameterValue } from './hyperparameters.ts';

/**
 * The training hyperparameters of one trial, with TF-slim's train_image_classifier defaults for
 * those the spec leaves out, so that a config exported as flags means the same thing there:
 *
 *   learning_rate 0.01, optimizer rmsprop, rmsprop_decay 0.9, rmsprop_momentum 0.9, momentum 0.9,
 *   adam_beta1 0.9, adam_beta2 0.999, learning_rate_decay_type exponential,
 *   learning_rate_decay_factor 0.94, num_epochs_per_decay 2, end_learning_rate 0.0001,
 *   weight_decay 0.00004, batch_size 32, frozen_layers 0, seed 0.
 *
 * One deliberate difference: slim uses opt_epsilon (default 1.0) for Adam too, which makes
 * Adam crawl at the rates people search (1e-4 … 1e-3); absent opt_epsilon is 1.0 for rmsprop
 * (slim) and 1e-8 for adam (Keras/TF default). An explicit opt_epsilon applies to both.
 */
export interface TrainingParams {
  learningRate: number;
  optimizer: 'sgd' | 'momentum' | 'rmsprop' | 'adam';
  momentum: number;
  rmspropMomentum: number;
  rmspropDecay: number;
  adamBeta1: number;
  adamBeta2: number;
  epsilon: number;
  decayType: 'fixed' | 'exponential' | 'polynomial';
  decayFactor: number;
  epochsPerDecay: number;
  endLearningRate: number;
  weightDecay: number;
  batchSize: number;
  frozenLayers: number;
  seed: number;
}

const DEFAULTS = {
  learning_rate: 0.01,
  optimizer: 'rmsprop',
  momentum: 0.9,
  rmsprop_momentum: 0.9,
  rmsprop_decay: 0.9,
  adam_beta1: 0.9,
  adam_beta2: 0.999,
  learning_rate_decay_type: 'exponential',
  learning_rate_decay_factor: 0.94,
  num_epochs_per_decay: 2,
  end_learning_rate: 0.0001,
  weight_decay: 0.00004,
  batch_size: 32,
  frozen_layers: 0,
  seed: 0,
} as const;

/** Merges the defaults under `params` and checks every value against the catalogue in core. */
export function resolveTrainingParams(params: Params): TrainingParams {
  const problems: string[] = [];
  for (const [name, value] of Object.entries(params)) {
    const problem = checkHyperparameterValue(name, value);
    // The catalogue's upper bound on learning_rate guards searches; a job may still ask for a
    // diverging rate on purpose (the divergence test does), so only its sign is enforced here.
    if (name === 'learning_rate' && typeof value === 'number' && Number.isFinite(value) && value > 0) continue;
    if (problem) problems.push(`${name} ${problem}`);
  }
  if (problems.length) throw new Error(`invalid hyperparameters: ${problems.join('; ')}`);
  const p = { ...DEFAULTS, ...params } as Record<string, number | string | boolean>;
  const num = (name: string) => p[name] as number;
  const optimizer = p.optimizer as TrainingParams['optimizer'];
  const epsilon = params.opt_epsilon !== undefined ? (params.opt_epsilon as number) : optimizer === 'adam' ? 1e-8 : 1.0;
  return {
    learningRate: num('learning_rate'),
    optimizer,
    momentum: num('momentum'),
    rmspropMomentum: num('rmsprop_momentum'),
    rmspropDecay: num('rmsprop_decay'),
    adamBeta1: num('adam_beta1'),
    adamBeta2: num('adam_beta2'),
    epsilon,
    decayType: p.learning_rate_decay_type as TrainingParams['decayType'],
    decayFactor: num('learning_rate_decay_factor'),
    epochsPerDecay: num('num_epochs_per_decay'),
    endLearningRate: num('end_learning_rate'),
    weightDecay: num('weight_decay'),
    batchSize: num('batch_size'),
    frozenLayers: num('frozen_layers'),
    seed: num('seed'),
  };
}
