import { SpecError } from '@sweepd/core';
import { describe, expect, it } from 'vitest';
import { createStoppingRule, createStrategy } from './index.ts';

async function problemsOf(make: () => Promise<unknown>): Promise<string[]> {
  try {
    await make();
  } catch (err) {
    if (err instanceof SpecError) return err.problems.map((p) => `${p.path}: ${p.message}`);
    throw err;
  }
  throw new Error('expected a SpecError');
}

/** Three kinds of mistake in one space: a log scale from 0, low above high, a misspelled type. */
const badSpace = {
  a: { type: 'float', low: 0, high: 1, log: true },
  b: { type: 'int', low: 3, high: 1 },
  // biome-ignore lint/suspicious/noExplicitAny: a caller's typo, on purpose
  c: { type: 'integer', low: 0, high: 1 } as any,
} as const;

describe('createStrategy and createStoppingRule', () => {
  it('normalise the space like a spec: an int without step is sampled, never null', async () => {
    const strategy = await createStrategy(
      { name: 'random', options: { seed: 3 } },
      {
        space: { layers: { type: 'int', low: 0, high: 4 }, lr: { type: 'float', low: 1e-5, high: 1e-1, log: true } },
        direction: 'maximize',
      },
    );
    const asked = await strategy.ask([], 20);
    if (asked === 'done') throw new Error('random is never done');
    for (const s of asked) {
      const params = ('params' in s ? s.params : s) as Record<string, unknown>;
      expect(Number.isInteger(params.layers)).toBe(true);
      expect(params.layers).toBeGreaterThanOrEqual(0);
      expect(params.layers).toBeLessThanOrEqual(4);
      expect(typeof params.lr).toBe('number');
    }
  });

  it('name every problem of the space and the context by path', async () => {
    expect(
      await problemsOf(() =>
        createStrategy(
          { name: 'tpe' },
          {
            space: badSpace,
            // biome-ignore lint/suspicious/noExplicitAny: a caller's typo, on purpose
            direction: 'up' as any,
          },
        ),
      ),
    ).toEqual([
      'direction: must be maximize or minimize',
      'space.a.low: must be > 0 on a log scale',
      'space.b.low: must be <= high (3 > 1)',
      'space.c.type: must have type float, int or categorical (got "integer")',
    ]);
    expect(
      await problemsOf(() =>
        createStrategy(
          { name: 'tpe' },
          {
            space: badSpace,
            direction: 'maximize',
          },
        ),
      ),
    ).toEqual([
      'space.a.low: must be > 0 on a log scale',
      'space.b.low: must be <= high (3 > 1)',
      'space.c.type: must have type float, int or categorical (got "integer")',
    ]);
  });

  it('checks a stopping rule’s context and options', async () => {
    expect(await problemsOf(() => createStoppingRule({ name: 'median' }, { direction: 'maximize', metric: '', maxEpochs: 0 }))).toEqual([
      'metric: must name the objective metric',
      'maxEpochs: must be at least 1',
    ]);
    expect(
      await problemsOf(() =>
        createStoppingRule({ name: 'median', options: { warmup_epochs: -1 } }, { direction: 'maximize', metric: 'auc', maxEpochs: 5 }),
      ),
    ).toHaveLength(1);
    await expect(createStoppingRule({ name: 'median' }, { direction: 'maximize', metric: 'auc', maxEpochs: 5 })).resolves.toBeDefined();
  });
});
