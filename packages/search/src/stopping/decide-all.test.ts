import { registry } from '@sweepd/core';
import { describe, expect, it } from 'vitest';
import { createStoppingRule } from '../create.ts';
import '../index.ts';
import { builtinStoppingRules, decideAll, tagsForTrialAll } from './index.ts';
import { flat, METRIC, trial } from './test-histories.ts';

const ctx = { direction: 'maximize' as const, metric: METRIC, maxEpochs: 20 };

describe('decideAll and the registered rules', () => {
  it('registers every built-in rule by name', () => {
    expect(registry.names('stopping')).toEqual(
      expect.arrayContaining([
        'asha',
        'dead-units',
        'divergence',
        'hyperband',
        'learning-curve',
        'median',
        'startup-screen',
        'weight-stall',
      ]),
    );
    expect(builtinStoppingRules.map((p) => p.name)).toHaveLength(8);
  });

  it('asks rules in order: the first that says stop wins and is named', async () => {
    const rules = [
      { name: 'divergence', rule: await createStoppingRule({ name: 'divergence' }, ctx) },
      { name: 'asha', rule: await createStoppingRule({ name: 'asha', options: { grace_period: 3 } }, ctx) },
      { name: 'median', rule: await createStoppingRule({ name: 'median', options: { min_trials: 1 } }, ctx) },
    ];
    const peers = [0.8, 0.85, 0.9, 0.95].map((v, i) => trial(i, flat(v, 20)));
    // Epoch 3 is asha's first rung and 0.5 is not in the top 1/4: asha says stop before median is asked.
    expect(decideAll(rules, trial(9, flat(0.5, 3)), peers)).toMatchObject({
      stop: true,
      rule: 'asha',
      reason: expect.stringMatching(/^asha: /),
    });
    // Epoch 2 is no rung: asha passes, median stops.
    expect(decideAll(rules, trial(9, flat(0.5, 2)), peers)).toMatchObject({ stop: true, rule: 'median' });
    // A diverging loss is caught first whatever the others say.
    const nan = trial(9, [0.5], { metrics: () => ({ train_loss: Number.NaN }) });
    expect(decideAll(rules, nan, peers)).toMatchObject({ stop: true, rule: 'divergence' });
    expect(decideAll(rules, trial(9, [0.99, 0.99, 0.99]), peers)).toEqual({ stop: false });
    expect(decideAll([], trial(9, [0.1]), peers)).toEqual({ stop: false });
  });

  it('names bare rules by position and merges their tags', async () => {
    const hyperband = await createStoppingRule({ name: 'hyperband' }, ctx);
    const median = await createStoppingRule({ name: 'median', options: { min_trials: 1 } }, ctx);
    expect(decideAll([hyperband, median], trial(9, [0.1, 0.1], { tags: { bracket: 2 } }), [trial(0, flat(0.9, 20))])).toMatchObject({
      rule: '#1',
    });
    expect(tagsForTrialAll([median, { name: 'hb', rule: hyperband }], 5)).toEqual(hyperband.tagsForTrial?.(5));
  });

  it('reports bad options through the registry as a SpecError with the path', async () => {
    await expect(createStoppingRule({ name: 'asha', options: { reduction_factor: 1 } }, ctx)).rejects.toThrow(
      /stopping\.options\.reduction_factor/,
    );
    await expect(createStoppingRule({ name: 'nope' }, ctx)).rejects.toThrow(/no stopping named 'nope'/);
  });
});
