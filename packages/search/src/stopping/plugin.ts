import type { Plugin, StoppingContext, StoppingRule } from '@sweepd/core';
import type { z } from 'zod';

/** The first epoch after which a rule can stop a trial (undefined: none), and the options that set it. */
export interface EarliestStop {
  epoch: number | undefined;
  because: string;
}

/**
 * The plugin a stopping rule registers under `name`: its options are parsed by `optionsSchema`
 * (no options at all means `{}`, so every default applies, and a bad option throws zod's error
 * naming its path), and `create` builds the rule for one study. With `earliestStop`, a rule whose
 * options leave it no epoch to act on before the budget's last is refused when the study is built
 * (a 400 at submit), not run as a rule that silently never stops anything.
 */
export function stoppingPlugin<O>(
  name: string,
  description: string,
  optionsSchema: z.ZodType<O>,
  create: (options: O, ctx: StoppingContext) => StoppingRule,
  earliestStop?: (options: O, maxEpochs: number) => EarliestStop,
): Plugin<'stopping', O> {
  return {
    kind: 'stopping',
    name,
    description,
    parseOptions: (raw) => optionsSchema.parse(raw ?? {}),
    create: (options, ctx) => {
      const earliest = earliestStop?.(options, ctx.maxEpochs);
      // Rules are asked after every epoch but the last: one first able to act at the last epoch never acts.
      if (earliest && (earliest.epoch === undefined || earliest.epoch >= ctx.maxEpochs)) {
        throw new Error(
          `${name} can never stop a trial here: ${earliest.because}, ` +
            `${earliest.epoch === undefined ? 'leaves it no epoch to act on' : `lets it act only after epoch ${earliest.epoch}`} ` +
            `and trials end at budget.max_epochs ${ctx.maxEpochs}`,
        );
      }
      return create(options, ctx);
    },
  };
}
