import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { builtinStoppingRules } from './index.ts';
import { stoppingPlugin } from './plugin.ts';

describe('stoppingPlugin', () => {
  const schema = z.strictObject({ patience: z.number().int().min(1).default(3) });
  const plugin = stoppingPlugin('patient', 'Stops nothing, patiently.', schema, (options, ctx) => ({
    decide: () => ({ stop: true, reason: `${options.patience} ${ctx.metric}` }),
  }));

  it('declares a stopping plugin with its name and description', () => {
    expect(plugin.kind).toBe('stopping');
    expect(plugin.name).toBe('patient');
    expect(plugin.description).toBe('Stops nothing, patiently.');
  });

  it('parses missing options as {} (every default) and passes the parsed options and context to create', async () => {
    expect(plugin.parseOptions(undefined)).toEqual({ patience: 3 });
    expect(plugin.parseOptions(null)).toEqual({ patience: 3 });
    const rule = await plugin.create(plugin.parseOptions({ patience: 5 }), { direction: 'maximize', metric: 'val_auc', maxEpochs: 10 });
    expect(rule.decide({ id: 'a', number: 0, params: {}, state: 'running', epochs: [] }, [])).toEqual({ stop: true, reason: '5 val_auc' });
  });

  it('refuses bad options with an error naming the option', () => {
    expect(() => plugin.parseOptions({ patience: 0 })).toThrow(/patience/);
    expect(() => plugin.parseOptions({ patiense: 2 })).toThrow(/patiense/);
  });

  it('is what every built-in rule registers: kind stopping, a description, defaults from {}', () => {
    for (const rule of builtinStoppingRules) {
      expect(rule.kind).toBe('stopping');
      expect(rule.description?.length).toBeGreaterThan(10);
      expect(rule.parseOptions(undefined)).toEqual(rule.parseOptions({}));
    }
  });

  it('says, naming why, when the options leave a rule no epoch to act on before the last', () => {
    const ctx = (maxEpochs: number) => ({ direction: 'maximize' as const, metric: 'val_auc', maxEpochs });
    const check = (name: string, options: unknown, maxEpochs: number) => {
      const rule = builtinStoppingRules.find((r) => r.name === name);
      if (!rule?.checkOptions) throw new Error(`no rule ${name} with checkOptions`);
      return rule.checkOptions(rule.parseOptions(options), ctx(maxEpochs));
    };
    expect(check('asha', { max_epochs: 50, grace_period: 10 }, 2)).toBe(
      'asha can never stop a trial early here: with its first rung at grace_period·reduction_factor^min_early_stopping_rate = 10 (max_epochs 50) it has no epoch to act on before budget.max_epochs 2',
    );
    expect(check('median', { warmup_epochs: 99 }, 2)).toBe(
      'median can never stop a trial early here: with warmup_epochs 99 its first decision comes after epoch 100, past the last of budget.max_epochs 2',
    );
    expect(check('weight-stall', {}, 3)).toMatch(
      /weight-stall can never stop a trial early here: with warmup_epochs 1, patience 2 its first decision/,
    );
    expect(check('hyperband', { grace_period: 5 }, 5)).toMatch(/hyperband can never stop/);
    expect(check('learning-curve', { min_epochs: 4 }, 4)).toMatch(/with min_epochs 4 it has no epoch to act on before budget.max_epochs 4/);
    // Its own horizon bounds it too.
    expect(check('learning-curve', { min_epochs: 5, max_epochs: 4 }, 10)).toMatch(/with min_epochs 5 \(max_epochs 4\) it has no epoch/);
    // Both reasons at once: the second came out only after the first was fixed and the spec sent again.
    const median = builtinStoppingRules.find((r) => r.name === 'median');
    expect(median?.checkOptions?.(median.parseOptions({ warmup_epochs: 3 }), { ...ctx(3), maxTrials: 2 })).toBe(
      'median can never stop a trial here: it waits for min_trials 5 other trials at an epoch, and budget.max_trials 2 leaves at most 1. Set min_trials below 2; ' +
        'and besides, it can never stop a trial early here: with warmup_epochs 3 its first decision comes after epoch 4, past the last of budget.max_epochs 3',
    );
    // One epoch before the last is enough; so is every rule's default with a budget of 12.
    expect(check('median', { warmup_epochs: 1 }, 3)).toBeUndefined();
    expect(check('weight-stall', {}, 4)).toBeUndefined();
    for (const rule of builtinStoppingRules) expect(rule.checkOptions?.(rule.parseOptions({}), ctx(12))).toBeUndefined();
  });
});
