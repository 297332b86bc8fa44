/**
 * The learning-curve problems of the pruning benchmark. `lr_auc` is the public one (the simulate
 * runner's built-in curve); the other three are held out: generated with other curve shapes,
 * noise, optimum locations and one minimised metric, and never used to choose the stopping
 * configuration. test/bench/references/pruning_optuna.py defines the same problems for Optuna;
 * the bench compares both definitions' noise-free values at probe points before it trusts a figure.
 *
 * Every problem has the same search space (the lr_auc space: lr log-uniform 1e-8..1e-1, one of
 * four optimizers, 0..10 frozen layers), 20 epochs, and a noise-free curve `at(params, epoch)`
 * to which the bench adds N(0, noise²) per epoch.
 */
import { type Params, Rng, type Space } from '@sweepd/core';
import { lrAucAtEpoch, lrAucParams } from '../../packages/trainer/src/simulate/index.ts';
import { NOISE_SD } from '../../packages/trainer/src/simulate/curves.ts';

export const SPACE: Space = {
  lr: { type: 'float', low: 1e-8, high: 1e-1, log: true },
  optimizer: { type: 'categorical', choices: ['sgd', 'momentum', 'rmsprop', 'adam'] },
  frozen: { type: 'int', low: 0, high: 10, step: 1, log: false },
} as Space;

export interface CurveProblem {
  name: string;
  /** One line for the table: what makes the problem differ. */
  about: string;
  direction: 'maximize' | 'minimize';
  /** The metric before any training (an untrained head): what a user would give as `initial_value`. */
  initialValue: number;
  noise: number;
  /** Noise-free value after `epoch` epochs (epoch 0 = initialValue). */
  at(params: Params, epoch: number): number;
}

type Table = Readonly<Record<string, number>>;

/** A gaussian bump in log10(lr) per optimizer, minus a quadratic penalty in frozen layers. */
function response(center: Table, peak: Table, width: number, frozenBest: number, frozenPen: number) {
  return (lr: number, optimizer: string, frozen: number): number => {
    const z = (Math.log10(lr) - (center[optimizer] as number)) / width;
    return 0.5 + ((peak[optimizer] as number) - 0.5) * Math.exp(-0.5 * z * z) - frozenPen * (frozen - frozenBest) ** 2;
  };
}

/** Time constant in epochs: `base` at lr 10^pivot, `per` times slower per decade lower, clipped. */
function timeConstant(base: number, pivot: number, exponent: number, lo: number, hi: number) {
  return (lr: number): number => Math.min(hi, Math.max(lo, base * 10 ** (exponent * (pivot - Math.log10(lr)))));
}

const softplus = (x: number): number => (x > 30 ? x : Math.log1p(Math.exp(x)));

const powerFinal = response(
  { sgd: -1.5, momentum: -2.2, rmsprop: -3.6, adam: -3.2 },
  { sgd: 0.945, momentum: 0.952, rmsprop: 0.938, adam: 0.946 },
  0.7,
  3,
  0.0015,
);
const powerTau = timeConstant(1.5, -2.5, 0.4, 0.3, 40);

const bloomFinal = response(
  { sgd: -2.5, momentum: -3.0, rmsprop: -3.5, adam: -4.2 },
  { sgd: 0.93, momentum: 0.935, rmsprop: 0.94, adam: 0.948 },
  0.8,
  5,
  0.002,
);
const bloomTau = timeConstant(3, -3, 0.5, 0.5, 50);
const BLOOM_DELAY: Table = { sgd: 0, momentum: 0, rmsprop: 1, adam: 4 };
/** Once it starts, adam learns faster than its rate alone says: the late bloomer that ends best. */
const BLOOM_SPEED: Table = { sgd: 1, momentum: 1, rmsprop: 1, adam: 0.35 };
/** High rates learn fast but plateau lower: the final AUC loses this much per decade above 10^-3.5. */
const BLOOM_FAST_PENALTY = 0.02;

const lossFinal = response(
  { sgd: -1.8, momentum: -2.8, rmsprop: -3.3, adam: -3.8 },
  { sgd: 0.942, momentum: 0.948, rmsprop: 0.94, adam: 0.944 },
  0.9,
  8,
  0.002,
);
const lossTau = timeConstant(2.5, -2.5, 0.5, 0.5, 50);
const LOSS_START = 0.69;

export const PROBLEMS: readonly CurveProblem[] = [
  {
    name: 'lr_auc',
    about: 'public: saturating exponential, noise 0.005, best adam/rmsprop',
    direction: 'maximize',
    initialValue: 0.5,
    noise: NOISE_SD,
    at(params, epoch) {
      const { lr, optimizer, frozen } = lrAucParams(params);
      return lrAucAtEpoch(lr, optimizer, frozen, epoch);
    },
  },
  {
    name: 'power_law',
    about: 'held out: power-law approach (still rising at epoch 20), best momentum at high lr',
    direction: 'maximize',
    initialValue: 0.5,
    noise: 0.005,
    at(params, epoch) {
      const { lr, optimizer, frozen } = lrAucParams(params);
      const final = powerFinal(lr, optimizer, frozen);
      return final - (final - 0.5) * (1 + epoch / powerTau(lr)) ** -1.2;
    },
  },
  {
    name: 'late_bloom',
    about: 'held out: adam starts 4 epochs late and ends best, fast rates plateau lower (curves cross), noise 0.008',
    direction: 'maximize',
    initialValue: 0.5,
    noise: 0.008,
    at(params, epoch) {
      const { lr, optimizer, frozen } = lrAucParams(params);
      const fast = Math.max(0, Math.log10(lr) + 3.5);
      const final = bloomFinal(lr, optimizer, frozen) - BLOOM_FAST_PENALTY * fast;
      const progress = softplus(epoch - (BLOOM_DELAY[optimizer] as number)) - softplus(-(BLOOM_DELAY[optimizer] as number));
      return final - (final - 0.5) * Math.exp(-progress / (bloomTau(lr) * (BLOOM_SPEED[optimizer] as number)));
    },
  },
  {
    name: 'noisy_loss',
    about: 'held out: a loss to minimise from 0.69, noise 0.012, best momentum, 8 frozen',
    direction: 'minimize',
    initialValue: LOSS_START,
    noise: 0.012,
    at(params, epoch) {
      const { lr, optimizer, frozen } = lrAucParams(params);
      const final = LOSS_START - (lossFinal(lr, optimizer, frozen) - 0.5);
      return final + (LOSS_START - final) * Math.exp(-epoch / lossTau(lr));
    },
  },
];

export function problemNamed(name: string): CurveProblem {
  const found = PROBLEMS.find((p) => p.name === name);
  if (!found) throw new Error(`unknown curve problem '${name}' (known: ${PROBLEMS.map((p) => p.name).join(', ')})`);
  return found;
}

/** The noisy value a trial reports at `epoch`, its noise drawn from the trial's own generator in epoch order. */
export function observe(problem: CurveProblem, params: Params, epoch: number, rng: Rng): number {
  return problem.at(params, epoch) + problem.noise * rng.normal();
}

/** Probe points for comparing this file with the Python reference's definitions. */
export const PROBES: ReadonlyArray<{ params: Params; epoch: number }> = [
  { params: { lr: 1e-3, optimizer: 'rmsprop', frozen: 6 }, epoch: 1 },
  { params: { lr: 1e-4, optimizer: 'adam', frozen: 6 }, epoch: 5 },
  { params: { lr: 3e-2, optimizer: 'sgd', frozen: 2 }, epoch: 20 },
  { params: { lr: 6e-3, optimizer: 'momentum', frozen: 9 }, epoch: 3 },
  { params: { lr: 2e-5, optimizer: 'adam', frozen: 0 }, epoch: 12 },
  { params: { lr: 1e-7, optimizer: 'sgd', frozen: 10 }, epoch: 20 },
];

export { Rng };
