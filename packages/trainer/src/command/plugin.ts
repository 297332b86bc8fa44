import type { Plugin } from '@sweepd/core';
import { checkCommandSpec, commandSpecWarnings } from './check-spec.ts';
import { CommandRunner } from './runner.ts';

/**
 * `trainer.runner: command`: runs the user's own training script per trial. Its options are the
 * job's `trainer.options` (checked at submit by checkSpec, and again per trial), so the plugin
 * itself takes none.
 */
export const commandRunnerPlugin: Plugin<'runner', Record<string, never>> = {
  kind: 'runner',
  name: 'command',
  description: "runs the user's own training script (any framework) and reads its epoch reports",
  parseOptions(raw) {
    if (raw !== undefined && raw !== null && (typeof raw !== 'object' || Object.keys(raw).length > 0))
      throw new Error('the command runner takes its options from trainer.options of each spec');
    return {};
  },
  create: (_options, ctx) => new CommandRunner({ cacheDir: ctx.cacheDir }),
  checkSpec: checkCommandSpec,
  specWarnings: commandSpecWarnings,
};
