/**
 * The training hyperparameters the tfjs runner understands, named after the TF-slim training
 * flags a practitioner already uses, so an exported config can be pasted back as flags.
 * Ranges are the values that make sense; a spec that searches or fixes outside them is rejected.
 */
export type HyperparameterRule =
  | { kind: 'float'; min: number; max: number; minExclusive?: boolean; maxExclusive?: boolean; doc: string }
  | { kind: 'int'; min: number; max: number; doc: string }
  | { kind: 'choice'; choices: readonly string[]; doc: string };

export const OPTIMIZERS = ['sgd', 'momentum', 'rmsprop', 'adam'] as const;
export const DECAY_TYPES = ['fixed', 'exponential', 'polynomial'] as const;

export const TRAINER_HYPERPARAMETERS: Readonly<Record<string, HyperparameterRule>> = {
  learning_rate: { kind: 'float', min: 0, max: 10, minExclusive: true, doc: 'initial learning rate' },
  optimizer: { kind: 'choice', choices: OPTIMIZERS, doc: 'sgd, momentum, rmsprop or adam' },
  momentum: { kind: 'float', min: 0, max: 1, maxExclusive: true, doc: 'momentum of the momentum optimizer' },
  rmsprop_momentum: { kind: 'float', min: 0, max: 1, maxExclusive: true, doc: 'momentum of rmsprop' },
  rmsprop_decay: { kind: 'float', min: 0, max: 1, maxExclusive: true, doc: 'decay of rmsprop’s squared-gradient average' },
  adam_beta1: { kind: 'float', min: 0, max: 1, maxExclusive: true, doc: 'adam’s first-moment decay' },
  adam_beta2: { kind: 'float', min: 0, max: 1, maxExclusive: true, doc: 'adam’s second-moment decay' },
  opt_epsilon: { kind: 'float', min: 0, max: 10, minExclusive: true, doc: 'epsilon of rmsprop and adam' },
  learning_rate_decay_type: { kind: 'choice', choices: DECAY_TYPES, doc: 'fixed, exponential or polynomial' },
  learning_rate_decay_factor: { kind: 'float', min: 0, max: 1, minExclusive: true, doc: 'exponential decay factor' },
  num_epochs_per_decay: { kind: 'float', min: 0, max: 1e6, minExclusive: true, doc: 'epochs between decays' },
  end_learning_rate: { kind: 'float', min: 0, max: 10, doc: 'final rate of polynomial decay' },
  weight_decay: { kind: 'float', min: 0, max: 1, doc: 'L2 penalty on kernels' },
  batch_size: { kind: 'int', min: 1, max: 4096, doc: 'images per step' },
  frozen_layers: { kind: 'int', min: 0, max: 1000, doc: 'layers frozen, counted from the input' },
  seed: { kind: 'int', min: 0, max: 2 ** 31 - 1, doc: 'seed of weight init and data order' },
};

/** A sentence saying why `value` is not allowed for `name`, or undefined when it is. */
export function checkHyperparameterValue(name: string, value: number | string | boolean): string | undefined {
  const rule = TRAINER_HYPERPARAMETERS[name];
  if (!rule) return undefined;
  if (rule.kind === 'choice') {
    return typeof value === 'string' && rule.choices.includes(value)
      ? undefined
      : `must be one of ${rule.choices.join(', ')} (got ${JSON.stringify(value)})`;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) return `must be a finite number (got ${JSON.stringify(value)})`;
  if (rule.kind === 'int' && !Number.isInteger(value)) return `must be an integer (got ${value})`;
  const lowOk = rule.kind === 'float' && rule.minExclusive ? value > rule.min : value >= rule.min;
  const highOk = rule.kind === 'float' && rule.maxExclusive ? value < rule.max : value <= rule.max;
  if (!lowOk || !highOk) {
    const lo = rule.kind === 'float' && rule.minExclusive ? '(' : '[';
    const hi = rule.kind === 'float' && rule.maxExclusive ? ')' : ']';
    return `must be in ${lo}${rule.min}, ${rule.max}${hi} for ${rule.doc} (got ${value})`;
  }
  return undefined;
}
