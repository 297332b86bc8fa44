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
});
