import type { Plugin } from '@sweepd/core';
import { z } from 'zod';
import { askRng, drawRandom, historyKeys, repeatsPossible, seedOption } from './common.ts';

const randomOptions = z.strictObject({ seed: seedOption });
export type RandomOptions = z.output<typeof randomOptions>;

/** Uniform (log-uniform where `log`) draws; avoids repeating a configuration where the space allows. */
export const randomStrategy: Plugin<'strategy', RandomOptions> = {
  kind: 'strategy',
  name: 'random',
  description: 'independent uniform draws (log-uniform on log scales), reproducible by seed',
  parseOptions: (raw) => randomOptions.parse(raw ?? {}),
  create(options, ctx) {
    const keyed = repeatsPossible(ctx.space);
    return {
      async ask(history, n) {
        const taken = keyed ? historyKeys(ctx.space, history) : new Set<string>();
        return drawRandom(ctx.space, askRng(options.seed, history), n, taken);
      },
    };
  },
};
