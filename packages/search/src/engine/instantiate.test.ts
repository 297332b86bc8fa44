import { type Plugin, PluginRegistry, parseSpec, SpecError } from '@sweepd/core';
import { describe, expect, it } from 'vitest';
import { builtinStoppingRules } from '../stopping/index.ts';
import { walkStrategy } from './engine.test-helpers.ts';
import { instantiate, validateStudy } from './instantiate.ts';

describe('submit-time checks against resuming a stored study', () => {
  const registry = new PluginRegistry().register(walkStrategy());
  for (const rule of builtinStoppingRules) registry.register(rule);
  const spec = {
    name: 'never-acts',
    objective: { metric: 'val_auc_macro', direction: 'maximize' },
    space: { learning_rate: { type: 'float', low: 1e-5, high: 1e-1, log: true } },
    strategy: { name: 'walk' },
    stopping: [{ name: 'median', options: { warmup_epochs: 1 } }],
    budget: { max_trials: 2, max_epochs: 2 },
    trainer: { runner: 'test' },
  };

  it('refuses at submit a rule that can never act, but builds it for a study stored before the check', async () => {
    const refused = await validateStudy(JSON.stringify(spec), registry, { baseDir: process.cwd() }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SpecError);
    expect((refused as SpecError).problems).toEqual([
      {
        path: 'stopping.0',
        message:
          'median can never stop a trial early here: warmup_epochs 1, lets it act only after epoch 2 and trials end at budget.max_epochs 2',
      },
    ]);
    // A restart rebuilds a stored study without the submit-time checks: it resumes.
    const built = await instantiate(parseSpec(spec), registry, process.cwd());
    expect(built.rules.map((r) => r.name)).toEqual(['median']);
  });

  it('a trainer section that does not parse is not judged by the default runner it stands in for', async () => {
    const runner = (name: string, problem?: string): Plugin<'runner'> => ({
      kind: 'runner',
      name,
      parseOptions: (raw) => raw,
      create: () => ({ run: async () => ({ state: 'completed' }) }),
      checkSpec: () => (problem ? [{ path: 'fixed.epoch_sleep', message: problem }] : []),
    });
    const withRunners = new PluginRegistry()
      .register(walkStrategy())
      .register(runner('tfjs', 'is not a hyperparameter of the tfjs runner'))
      .register(runner('command'));
    const typo = { ...spec, stopping: [], fixed: { epoch_sleep: 1 }, trainer: { runner: 'command', option: { command: ['python3'] } } };
    const refused = await validateStudy(JSON.stringify(typo), withRunners, { baseDir: process.cwd() }).catch((e: unknown) => e);
    expect((refused as SpecError).problems).toEqual([{ path: 'trainer', message: "unknown key 'option' (did you mean 'options'?)" }]);
  });
});
