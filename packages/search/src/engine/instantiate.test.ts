import { type Plugin, PluginRegistry, parseSpec, SpecError } from '@sweepd/core';
import { describe, expect, it } from 'vitest';
import { builtinStoppingRules } from '../stopping/index.ts';
import { builtinStrategies } from '../strategies/index.ts';
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
    stopping: [{ name: 'median', options: { warmup_epochs: 1, min_trials: 1 } }],
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
          'median can never stop a trial early here: with warmup_epochs 1 its first decision comes after epoch 2, the last of budget.max_epochs 2',
      },
    ]);
    // A restart rebuilds a stored study without the submit-time checks: it resumes.
    const built = await instantiate(parseSpec(spec), registry, { baseDir: process.cwd() });
    expect(built.rules.map((r) => r.name)).toEqual(['median']);
  });

  it('refuses options the trial budget leaves nothing to do: median waiting for more trials than there are, tpe never past its start-up, a grid cut short', async () => {
    const problems = async (change: Record<string, unknown>) => {
      const refused = await validateStudy(JSON.stringify({ ...spec, ...change }), full, { baseDir: process.cwd() }).catch(
        (e: unknown) => e,
      );
      return refused instanceof SpecError ? refused.problems : [];
    };
    const full = new PluginRegistry();
    for (const plugin of [...builtinStrategies, ...builtinStoppingRules]) full.register(plugin);
    const budget = { max_trials: 4, max_epochs: 5 };
    expect(await problems({ budget, strategy: { name: 'random' }, stopping: [{ name: 'median' }] })).toEqual([
      {
        path: 'stopping.0',
        message:
          'median can never stop a trial here: it waits for min_trials 5 other trials at an epoch, and budget.max_trials 4 leaves at most 3. Set min_trials below 4',
      },
    ]);
    expect(await problems({ budget, strategy: { name: 'random' }, stopping: [{ name: 'median', options: { min_trials: 3 } }] })).toEqual(
      [],
    );
    expect(await problems({ budget, strategy: { name: 'tpe' }, stopping: [] })).toEqual([
      {
        path: 'strategy',
        message:
          'tpe would never use its model: its n_startup_trials 10 start-up draws take all of budget.max_trials 4. Set n_startup_trials below 4 (a third of it is usual), or use random',
      },
    ]);
    expect(await problems({ budget, strategy: { name: 'tpe', options: { n_startup_trials: 2 } }, stopping: [] })).toEqual([]);
    const grid = {
      budget,
      space: {
        learning_rate: { type: 'float', low: 1e-4, high: 1e-2, log: true },
        optimizer: { type: 'categorical', choices: ['sgd', 'adam', 'rmsprop'] },
        frozen_layers: { type: 'int', low: 0, high: 3 },
      },
      strategy: { name: 'grid', options: { points: 3 } },
      stopping: [],
    };
    expect(await problems(grid)).toEqual([
      {
        path: 'strategy',
        message: expect.stringMatching(
          /^grid has 36 points and budget.max_trials is 4: only the first 4 in its fixed order would run, every one of them with .*optimizer=sgd.*\. Raise budget.max_trials to 36/,
        ),
      },
    ]);
    expect(await problems({ ...grid, budget: { max_trials: 36, max_epochs: 5 } })).toEqual([]);
  });

  it('a trainer section that does not parse is not judged by the default runner it stands in for', async () => {
    const runner = (name: string, problem?: string): Plugin<'runner'> => ({
      kind: 'runner',
      name,
      parseOptions: (raw) => raw,
      create: () => ({ run: async () => ({ state: 'completed' }) }),
      checkSpec: () => (problem ? [{ path: 'fixed.epoch_sleep', message: problem }] : []),
    });
    // The command runner here, as the real one, requires options.command.
    const command: Plugin<'runner'> = {
      ...runner('command'),
      checkSpec: (s) => (Array.isArray(s.trainer.options.command) ? [] : [{ path: 'trainer.options.command', message: 'is required' }]),
    };
    const withRunners = new PluginRegistry()
      .register(walkStrategy())
      .register(runner('tfjs', 'is not a hyperparameter of the tfjs runner'))
      .register(command);
    const refusal = async (trainer: unknown) => {
      const typo = { ...spec, stopping: [], fixed: { epoch_sleep: 1 }, trainer };
      const refused = await validateStudy(JSON.stringify(typo), withRunners, { baseDir: process.cwd() }).catch((e: unknown) => e);
      return (refused as SpecError).problems;
    };
    // The options given under the typo are the options meant: not "options.command is required".
    expect(await refusal({ runner: 'command', option: { command: ['python3'] } })).toEqual([
      { path: 'trainer', message: "unknown key 'option' (did you mean 'options'?)" },
    ]);
    // Two typos of one key: the first that is a value of it stands for it, not the last.
    expect(await refusal({ runner: 'command', option: { command: ['python3'] }, optons: {} })).toEqual([
      { path: 'trainer', message: "unknown keys 'option' (did you mean 'options'?), 'optons' (did you mean 'options'?)" },
    ]);
    expect(await refusal({ runner: 'command', opts: {} })).toEqual([
      { path: 'trainer', message: "unknown key 'opts'" },
      { path: 'trainer.options.command', message: 'is required' },
    ]);
    // A runner name that does not parse: nothing names the runner, so no runner judges the spec.
    expect(await refusal({ runner: '', option: {} })).toEqual([
      { path: 'trainer.runner', message: 'must have at least 1 character' },
      { path: 'trainer', message: "unknown key 'option' (did you mean 'options'?)" },
    ]);
  });

  it('a trainer spoilt only by an unknown key is still checked by the runner it names, as meant, in the same answer', async () => {
    const strict: Plugin<'runner'> = {
      kind: 'runner',
      name: 'strict',
      parseOptions: (raw) => raw,
      create: () => ({ run: async () => ({ state: 'completed' }) }),
      checkSpec: (s) => [
        { path: 'fixed.epoch_sleep', message: `is not a hyperparameter of ${s.trainer.runner} (dataset ${s.trainer.dataset ?? 'unset'})` },
      ],
    };
    const withRunner = new PluginRegistry().register(walkStrategy()).register(strict);
    const typo = { ...spec, stopping: [], fixed: { epoch_sleep: 1 }, trainer: { runner: 'strict', datset: 'synthetic' } };
    const refused = await validateStudy(JSON.stringify(typo), withRunner, { baseDir: process.cwd() }).catch((e: unknown) => e);
    expect((refused as SpecError).problems).toEqual([
      { path: 'trainer', message: "unknown key 'datset' (did you mean 'dataset'?)" },
      { path: 'fixed.epoch_sleep', message: 'is not a hyperparameter of strict (dataset synthetic)' },
    ]);
    // A typo whose value is no value of the key it is near: left out, and the rest is still checked.
    const odd = { ...typo, trainer: { runner: 'strict', datset: 5 } };
    const refusedOdd = await validateStudy(JSON.stringify(odd), withRunner, { baseDir: process.cwd() }).catch((e: unknown) => e);
    expect((refusedOdd as SpecError).problems).toEqual([
      { path: 'trainer', message: "unknown key 'datset' (did you mean 'dataset'?)" },
      { path: 'fixed.epoch_sleep', message: 'is not a hyperparameter of strict (dataset unset)' },
    ]);
  });
});
