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
 * naming its path), and `create` builds the rule for one study. With `earliestStop`, its
 * checkOptions refuses at submit options that leave the rule no epoch to act on before the
 * budget's last (the trial is over by then: a stop there would only relabel it), rather than
 * running a rule that never stops anything.
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
    create: (options, ctx) => create(options, ctx),
    ...(earliestStop
      ? {
          checkOptions(options: O, ctx: StoppingContext): string | undefined {
            const earliest = earliestStop(options, ctx.maxEpochs);
            if (earliest.epoch !== undefined && earliest.epoch < ctx.maxEpochs) return undefined;
            return (
              `${name} can never stop a trial early here: ${earliest.because}, ` +
              `${earliest.epoch === undefined ? 'leaves it no epoch to act on' : `lets it act only after epoch ${earliest.epoch}`} ` +
              `and trials end at budget.max_epochs ${ctx.maxEpochs}`
            );
          },
        }
      : {}),
  };
}
