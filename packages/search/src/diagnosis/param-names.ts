import type { Params } from '@sweepd/core';

/**
 * The parameters the diagnosis reads by meaning, found by the names users' scripts give them:
 * the command runner leaves names free, and a study that calls its optimizer `opt` must not have
 * its adam and sgd trials compared as one optimizer.
 */

/** `learning_rate` first, then the other common spellings. */
const LEARNING_RATE = /^(learning_?rate|lr|base_lr|init(ial)?_lr|init(ial)?_learning_rate)$/i;
/** `optimizer` first, then the other common spellings (not `opt_epsilon` and the like: their values are numbers). */
const OPTIMIZER = /^(optimi[sz]er|opt|optim)(_name|_type)?$/i;

function named(params: Params, canonical: string, pattern: RegExp, type: 'number' | 'string'): string | undefined {
  if (typeof params[canonical] === type) return canonical;
  return Object.keys(params).find((k) => pattern.test(k) && typeof params[k] === type);
}

/** Which of `names` (a search space's) is the learning rate, if one is. */
export function learningRateParam(names: readonly string[]): string | undefined {
  return names.includes('learning_rate') ? 'learning_rate' : names.find((n) => LEARNING_RATE.test(n));
}

/** The name of the learning-rate parameter among `params`, if there is one. */
export function learningRateName(params: Params): string | undefined {
  return named(params, 'learning_rate', LEARNING_RATE, 'number');
}

/** The trial's learning rate, under whichever of its names it goes by. */
export function learningRateOf(trial: { params: Params }): number | undefined {
  const name = learningRateName(trial.params);
  const lr = name === undefined ? undefined : trial.params[name];
  return typeof lr === 'number' && Number.isFinite(lr) && lr > 0 ? lr : undefined;
}

/** The name of the optimizer parameter among `params`, if there is one. */
export function optimizerName(params: Params): string | undefined {
  return named(params, 'optimizer', OPTIMIZER, 'string');
}

/** The trial's optimizer ('adam', 'sgd', …), under whichever of its names it goes by. */
export function optimizerOf(trial: { params: Params }): string | undefined {
  const name = optimizerName(trial.params);
  return name === undefined ? undefined : (trial.params[name] as string);
}

/** Whether the optimizer has an epsilon in its step (the adaptive ones): TF-slim's opt_epsilon means nothing to sgd or momentum. */
export function hasEpsilon(optimizer: string | undefined): boolean {
  return /adam|rmsprop|adadelta/i.test(optimizer ?? '');
}
