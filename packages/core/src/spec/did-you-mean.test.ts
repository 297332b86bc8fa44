import { describe, expect, it } from 'vitest';
import { keysAt, nearestName } from './did-you-mean.ts';
import { checkSpec } from './parse.ts';
import { specSchema } from './schema.ts';

describe('did you mean', () => {
  it('names the known key one typo away, and nothing for a word far from every key', () => {
    expect(nearestName('stoping', ['strategy', 'stopping', 'space'])).toBe('stopping');
    expect(nearestName('max_tirals', ['max_trials', 'max_epochs'])).toBe('max_trials');
    expect(nearestName('wd', ['weight_decay', 'cwd'])).toBe('cwd');
    expect(nearestName('learning', ['stopping', 'space'])).toBeUndefined();
  });

  it("reads a schema's keys through defaults, arrays and unions", () => {
    expect(keysAt(specSchema, [])).toContain('stopping');
    expect(keysAt(specSchema, ['budget'])).toEqual(['max_trials', 'max_epochs', 'parallelism', 'max_consecutive_failures']);
    expect(keysAt(specSchema, ['trainer'])).toContain('runner');
    expect(keysAt(specSchema, ['stopping', 0])).toEqual(['name', 'options']);
    expect(keysAt(specSchema, ['space', 'lr'])).toEqual(expect.arrayContaining(['type', 'low', 'high', 'choices', 'when']));
  });

  it('an unknown key in a spec says which known key it is probably meant to be', () => {
    const problems = checkSpec({
      name: 'x',
      objective: { metric: 'val_auc_macro', direcion: 'maximize' },
      space: { lr: { type: 'float', low: 0.001, high: 0.1, lgo: true } },
      budget: { max_trial: 2, max_epochs: 3 },
      stoping: [],
      trainer: { runner: 'simulate', options: {} },
    }).problems.map((p) => `${p.path}: ${p.message}`);
    expect(problems).toEqual(
      expect.arrayContaining([
        "objective: unknown key 'direcion' (did you mean 'direction'?)",
        "space.lr: unknown key 'lgo' (did you mean 'log'?)",
        "budget: unknown key 'max_trial' (did you mean 'max_trials'?)",
        ": unknown key 'stoping' (did you mean 'stopping'?)",
      ]),
    );
  });
});
