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

  it('refuses, naming why, a rule whose options leave it no epoch to act on before the last', async () => {
    const ctx = (maxEpochs: number) => ({ direction: 'maximize' as const, metric: 'val_auc', maxEpochs });
    const build = async (name: string, options: unknown, maxEpochs: number) => {
      const rule = builtinStoppingRules.find((r) => r.name === name);
      if (!rule) throw new Error(`no rule ${name}`);
      return rule.create(rule.parseOptions(options), ctx(maxEpochs));
    };
    await expect(build('asha', { max_epochs: 50, grace_period: 10 }, 2)).rejects.toThrow(
      'asha can never stop a trial here: its first rung, grace_period·reduction_factor^min_early_stopping_rate = 10 (max_epochs 50), leaves it no epoch to act on and trials end at budget.max_epochs 2',
    );
    await expect(build('median', { warmup_epochs: 99 }, 2)).rejects.toThrow(
      'median can never stop a trial here: warmup_epochs 99, lets it act only after epoch 100 and trials end at budget.max_epochs 2',
    );
    await expect(build('weight-stall', {}, 3)).rejects.toThrow(/weight-stall can never stop a trial here: warmup_epochs 1, patience 2/);
    await expect(build('hyperband', { grace_period: 5 }, 5)).rejects.toThrow(/hyperband can never stop/);
    await expect(build('learning-curve', { min_epochs: 4 }, 4)).rejects.toThrow(/min_epochs 4, lets it act only after epoch 4/);
    // One epoch before the last is enough; so is every rule's default with a budget of 12.
    await expect(build('median', { warmup_epochs: 1 }, 3)).resolves.toBeDefined();
    await expect(build('weight-stall', {}, 4)).resolves.toBeDefined();
    for (const rule of builtinStoppingRules) await expect(build(rule.name, {}, 12)).resolves.toBeDefined();
  });
});
