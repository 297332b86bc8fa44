import { PluginRegistry } from '@sweepd/core';
import { strategyContractSuite } from '@sweepd/core/testing';
import { describe, expect, it } from 'vitest';
import halton, { radicalInverse } from './halton.ts';

strategyContractSuite('halton (example plugin)', halton, { options: { seed: 1 } });

describe('halton example plugin', () => {
  it('loads through the registry as a spec would name it', async () => {
    const registry = new PluginRegistry();
    const plugin = await registry.load('./halton.ts', import.meta.dirname);
    expect(plugin.name).toBe('halton');
    const s = await registry.create(
      'strategy',
      { name: 'halton', options: { seed: 2 } },
      { space: { x: { type: 'float', low: 0, high: 1, log: false } }, direction: 'maximize', metric: 'auc', maxTrials: 10, maxEpochs: 1 },
      'strategy',
    );
    expect(await s.ask([], 3)).toHaveLength(3);
  });

  it('computes the van der Corput sequence in base 2', () => {
    expect([1, 2, 3, 4, 5].map((i) => radicalInverse(i, 2))).toEqual([0.5, 0.25, 0.75, 0.125, 0.625]);
  });

  it('spreads 64 points over every eighth of [0, 1] exactly 8 times (unlike random draws)', async () => {
    const s = await halton.create(
      { seed: 0 },
      { space: { x: { type: 'float', low: 0, high: 1, log: false } }, direction: 'maximize', metric: 'auc', maxTrials: 64, maxEpochs: 1 },
    );
    const answer = (await s.ask([], 64)) as Array<{ x: number }>;
    const counts = new Array(8).fill(0);
    for (const p of answer) counts[Math.floor(p.x * 8)]++;
    expect(counts).toEqual(new Array(8).fill(8));
  });
});
