import type { Plugin, StoppingContext, StoppingRule } from '@sweepd/core';
import type { z } from 'zod';

/**
 * The plugin a stopping rule registers under `name`: its options are parsed by `optionsSchema`
 * (no options at all means `{}`, so every default applies, and a bad option throws zod's error
 * naming its path), and `create` builds the rule for one study.
 */
export function stoppingPlugin<O>(
  name: string,
  description: string,
  optionsSchema: z.ZodType<O>,
  create: (options: O, ctx: StoppingContext) => StoppingRule,
): Plugin<'stopping', O> {
  return {
    kind: 'stopping',
    name,
    description,
    parseOptions: (raw) => optionsSchema.parse(raw ?? {}),
    create: (options, ctx) => create(options, ctx),
  };
}
