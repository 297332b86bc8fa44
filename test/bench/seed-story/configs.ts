/**
 * The seed story's configs, run on the CPU testbed (seed-story.ts) and on a GPU machine
 * (examples/pytorch/gpu_seed_story.sh, read back by gpu-results.ts): the practitioner's TF-slim
 * config, the human answer's suggestions and two epsilon-1e-8 references.
 */

export type Params = Record<string, number | string | boolean>;

export interface Config {
  key: string;
  label: string;
  params: Params;
}

/** The TF-slim flags every run shares: batch, weight decay, TF1 RMSProp, the exponential schedule. */
export const TF_SLIM: Params = {
  batch_size: 32,
  weight_decay: 4e-5,
  rmsprop_tf1: true,
  rmsprop_momentum: 0.9,
  rmsprop_decay: 0.9,
  learning_rate_decay_type: 'exponential',
  learning_rate_decay_factor: 0.94,
  num_epochs_per_decay: 2,
};

export const PRACTITIONER: Params = { optimizer: 'rmsprop', learning_rate: 0.01, opt_epsilon: 1.0, frozen_layers: 0 };

/** The human answer's suggestions, by key. */
export const HUMAN = ['adam', 'adam-frozen', 'rmsprop-low'];

/** The configs; `frozenAll` is the frozen_layers value that freezes every convolution (the model's block count, or 'all' to fill in later). */
export function seedStoryConfigs(frozenAll: number | 'all'): Config[] {
  return [
    { key: 'practitioner', label: 'practitioner: TF1 RMSProp 0.01, eps 1.0', params: PRACTITIONER },
    {
      key: 'adam',
      label: 'human: Adam 1e-4, all layers',
      params: { optimizer: 'adam', learning_rate: 1e-4, opt_epsilon: 1e-8, frozen_layers: 0 },
    },
    {
      key: 'adam-frozen',
      label: 'human: Adam 1e-4, convs frozen',
      params: { optimizer: 'adam', learning_rate: 1e-4, opt_epsilon: 1e-8, frozen_layers: frozenAll },
    },
    {
      key: 'rmsprop-low',
      label: 'human: TF1 RMSProp 1e-4',
      params: { optimizer: 'rmsprop', learning_rate: 1e-4, opt_epsilon: 1.0, frozen_layers: 0 },
    },
    {
      key: 'eps-small',
      label: 'reference: TF1 RMSProp 0.01, eps 1e-8',
      params: { optimizer: 'rmsprop', learning_rate: 0.01, opt_epsilon: 1e-8, frozen_layers: 0 },
    },
    {
      // At 0.01 the wide testbed's units stay alive (under 10 % dead; sparsity ~90 % in the last
      // block): this one kills them, so that the dying-units diagnosis is exercised on every seed.
      key: 'eps-small-high',
      label: 'reference: TF1 RMSProp 0.1, eps 1e-8',
      params: { optimizer: 'rmsprop', learning_rate: 0.1, opt_epsilon: 1e-8, frozen_layers: 0 },
    },
  ];
}
