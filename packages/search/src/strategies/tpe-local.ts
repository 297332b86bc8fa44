import type { Params, Plugin, TrialView } from '@sweepd/core';
import { z } from 'zod';
import { axisUnit, axisValue, numericAxis, numericValue } from './axis.ts';
import { askRng, startupBudgetProblem } from './common.ts';
import { tpeStrategy } from './tpe.ts';
import { type TpeOptions, tpeOptions } from './tpe-options.ts';

/**
 * TPE with a share of local steps around the incumbent: after TPE's start-up, each suggestion is,
 * with probability `local_fraction`, the best completed trial's configuration with every numeric
 * parameter moved by a normal step of `local_scale` (in unit coordinates: the range, log-scaled
 * where `log`) and its categorical choices kept; otherwise TPE's own suggestion.
 *
 * Meant for studies with aggressive early stopping: few trials complete there, and TPE's density
 * model, which spreads its suggestions over every promising region, proposes few configurations
 * near the best one; the local steps refine it and give the best region several completed
 * measurements rather than one.
 */
export const tpeLocalOptions = tpeOptions.extend({
  local_fraction: z
    .number()
    .min(0, 'must be >= 0')
    .max(1, 'must be at most 1')
    .default(0.3)
    .describe('share of suggestions (after the start-up trials) that are local steps around the best completed trial'),
  local_scale: z
    .number()
    .positive('must be > 0')
    .max(1, 'must be at most 1')
    .default(0.05)
    .describe('standard deviation of a local step, as a fraction of each numeric range (log-scaled where log)'),
});
export type TpeLocalOptions = z.output<typeof tpeLocalOptions>;

export const tpeLocalStrategy: Plugin<'strategy', TpeLocalOptions> = {
  kind: 'strategy',
  name: 'tpe-local',
  description: 'TPE with a share of local steps around the best completed trial (for studies that stop most trials early)',
  parseOptions: (raw) => tpeLocalOptions.parse(raw ?? {}),
  checkOptions: (options, ctx) => startupBudgetProblem('tpe-local', options.n_startup_trials, ctx.maxTrials),
  async create(options, ctx) {
    const { local_fraction, local_scale, ...rest } = options;
    const tpe = await tpeStrategy.create(rest as TpeOptions, ctx);
    const sign = ctx.direction === 'maximize' ? 1 : -1;
    return {
      async ask(history, n) {
        const suggested = await tpe.ask(history, n);
        if (suggested === 'done' || local_fraction === 0) return suggested;
        const observed = history.filter((t) => (t.state === 'completed' || t.state === 'stopped') && Number.isFinite(t.value));
        if (observed.length < rest.n_startup_trials) return suggested;
        const incumbent = bestCompleted(history, sign);
        if (!incumbent) return suggested;
        const rng = askRng(rest.seed, history, ':local');
        return suggested.map((s) => (rng.next() < local_fraction ? localStep(incumbent.params) : s));

        /** The incumbent's configuration (so the same parameters are active) with its numeric values moved. */
        function localStep(centre: Params): Params {
          const out: Record<string, Params[string]> = { ...centre };
          for (const [name, param] of Object.entries(ctx.space)) {
            const v = centre[name];
            if (v === undefined || param.type === 'categorical') continue;
            const x = numericValue(v);
            if (x === undefined) continue;
            const axis = numericAxis(param);
            out[name] = axisValue(axis, axisUnit(axis, x) + local_scale * rng.normal());
          }
          return out as Params;
        }
      },
    };
  },
};

function bestCompleted(history: readonly TrialView[], sign: number): TrialView | undefined {
  let best: TrialView | undefined;
  for (const t of history) {
    if (t.state !== 'completed' || typeof t.value !== 'number' || !Number.isFinite(t.value)) continue;
    if (!best || sign * t.value > sign * (best.value as number)) best = t;
  }
  return best;
}
