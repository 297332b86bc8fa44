import { z } from 'zod';
import { seedOption } from './common.ts';

/** TPE's options: Optuna's, plus where sweepd differs from it (each documented by its describe()). */
export const tpeOptions = z.strictObject({
  seed: seedOption,
  n_startup_trials: z
    .number()
    .int('must be an integer')
    .min(0, 'must be >= 0')
    .max(10_000)
    .default(10)
    .describe(
      'trials drawn before the model is used (a Latin hypercube: random, but stratified per parameter); fewer exploit sooner, more explore more',
    ),
  n_ei_candidates: z
    .number()
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .max(10_000)
    .default(24)
    .describe('candidates drawn from the good-trial density per suggestion; more is greedier and slower'),
  gamma: z
    .number()
    .positive('must be > 0')
    .max(1, 'must be at most 1')
    .default(0.1)
    .describe('fraction of trials counted as good: n_good = min(ceil(gamma·n), gamma_max)'),
  gamma_max: z.number().int('must be an integer').min(1, 'must be at least 1').default(25).describe('cap on the number of good trials'),
  prior_weight: z.number().positive('must be > 0').default(1).describe('weight of the broad prior kernel; higher explores more'),
  consider_magic_clip: z.boolean().default(true).describe('floor kernel widths at range/min(100, k+1) so dense regions do not collapse'),
  consider_endpoints: z
    .boolean()
    .default(false)
    .describe('let the range ends count as neighbours when setting the outermost kernels’ widths (wider edge kernels)'),
  multivariate: z
    .boolean()
    .default(true)
    .describe(
      'joint kernels over the unconditional parameters (captures interactions, e.g. optimizer × learning rate; conditional ones stay independent). ' +
        'On by default, unlike Optuna: on the anchor problems it matched or beat independent TPE everywhere; false = one model per parameter',
    ),
  good_weighting: z
    .enum(['flat', 'rank'])
    .default('flat')
    .describe("weights of the good trials' kernels: flat (Optuna), or rank (the best weighs n_good, the last good one 1: exploits harder)"),
  kernel_scoring: z
    .enum(['good-density', 'peak', 'density'])
    .default('good-density')
    .describe(
      'how kernels are scored: density = proper mixture densities; peak = every kernel by its shape, height at its centre = its weight whatever its width ' +
        "(what Optuna 3's TPE effectively does: its truncated-normal log-pdf omits the 1/σ term); good-density = the good trials' mixture as a density, " +
        "the bad trials' by peak, so a crowd of bad trials near a good one does not drown it: exploits the good region harder",
    ),
  constant_liar: z
    .boolean()
    .default(true)
    .describe('count queued/running trials as bad, so parallel asks spread out instead of piling on one point'),
});
export type TpeOptions = z.output<typeof tpeOptions>;
