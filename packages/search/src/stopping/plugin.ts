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
  /**
   * What the trial budget makes of these options, when it defeats the rule (undefined: nothing):
   * a sentence that follows the rule's name ("can never stop a trial here: …").
   */
  trialsCheck?: (options: O, maxTrials: number) => string | undefined,
): Plugin<'stopping', O> {
  return {
    kind: 'stopping',
    name,
    description,
    parseOptions: (raw) => optionsSchema.parse(raw ?? {}),
    create: (options, ctx) => create(options, ctx),
    ...(earliestStop || trialsCheck
      ? {
          // Both reasons when both hold: fixing the one said would only reveal the other at the next submit.
          checkOptions(options: O, ctx: StoppingContext): string | undefined {
            const problems: string[] = [];
            const fromTrials = trialsCheck && ctx.maxTrials !== undefined ? trialsCheck(options, ctx.maxTrials) : undefined;
            if (fromTrials) problems.push(`${name} ${fromTrials}`);
            const earliest = earliestStop?.(options, ctx.maxEpochs);
            if (earliest && !(earliest.epoch !== undefined && earliest.epoch < ctx.maxEpochs)) {
              // Its first decision comes after epoch `earliest.epoch`; a stop after the last epoch stops nothing.
              const when =
                earliest.epoch === undefined
                  ? `it has no epoch to act on before budget.max_epochs ${ctx.maxEpochs}`
                  : `its first decision comes after epoch ${earliest.epoch}, ${earliest.epoch === ctx.maxEpochs ? 'the last' : 'past the last'} of budget.max_epochs ${ctx.maxEpochs}`;
              const lead = fromTrials ? 'and besides, it can never stop a trial early here' : `${name} can never stop a trial early here`;
              problems.push(`${lead}: with ${earliest.because} ${when}`);
            }
            return problems.length > 0 ? problems.join('; ') : undefined;
          },
        }
      : {}),
  };
}
