import { describe, expect, it } from 'vitest';
import { parseSpec } from '../spec/parse.ts';
import { Rng } from './random.ts';
import { checkParams, fromUnit, isActive, orderedNames, paramsKey, sampleParam, sampleSpace, toUnit } from './space.ts';

const { space } = parseSpec({
  name: 's',
  objective: {},
  space: {
    momentum: { type: 'float', low: 0, high: 0.99, when: { optimizer: ['momentum'] } },
    learning_rate: { type: 'float', low: 1e-8, high: 1e-1, log: true },
    optimizer: { type: 'categorical', choices: ['sgd', 'momentum', 'adam'] },
    frozen_layers: { type: 'int', low: 0, high: 8, step: 2 },
  },
  budget: { max_trials: 1, max_epochs: 1 },
});

describe('search space', () => {
  it('orders parameters so a condition comes before what it gates', () => {
    const order = orderedNames(space);
    expect(order.indexOf('optimizer')).toBeLessThan(order.indexOf('momentum'));
  });

  it('samples inside the space, conditionals only where active, reproducibly by seed', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const draws = Array.from({ length: 2000 }, () => sampleSpace(space, a));
    expect(draws).toEqual(Array.from({ length: 2000 }, () => sampleSpace(space, b)));
    for (const p of draws) {
      expect(checkParams(space, p)).toEqual([]);
      expect('momentum' in p).toBe(p.optimizer === 'momentum');
      expect([0, 2, 4, 6, 8]).toContain(p.frozen_layers);
    }
    // Log-uniform: about as many draws in each decade of the learning rate.
    const decades = new Array(7).fill(0);
    for (const p of draws) decades[Math.floor(-Math.log10(p.learning_rate as number)) - 1]++;
    for (const n of decades) expect(n).toBeGreaterThan(200);
    expect(new Set(draws.map(paramsKey)).size).toBe(2000);
  });

  it('maps values to the unit interval and back, in log space where asked', () => {
    const lr = space.learning_rate;
    if (!lr) throw new Error('missing');
    expect(toUnit(lr, 1e-8)).toBeCloseTo(0, 12);
    expect(toUnit(lr, 1e-1)).toBeCloseTo(1, 12);
    expect(toUnit(lr, 1e-4)).toBeCloseTo(4 / 7, 12);
    expect(fromUnit(lr, 4 / 7) as number).toBeCloseTo(1e-4, 15);
    const frozen = space.frozen_layers;
    if (!frozen) throw new Error('missing');
    expect(fromUnit(frozen, 0.49)).toBe(4);
    expect(fromUnit(frozen, 2)).toBe(8);
  });

  it('names what is wrong with a configuration', () => {
    expect(checkParams(space, { learning_rate: 1, optimizer: 'sgd', frozen_layers: 3, momentum: 0.9, extra: 1 })).toEqual([
      'momentum: present although its condition does not hold',
      'learning_rate: 1 is outside [1e-8, 0.1]',
      'frozen_layers: 3 is not an integer on step 2',
      'extra: not a parameter of the space',
    ]);
    expect(checkParams(space, { optimizer: 'momentum', learning_rate: Number.NaN, frozen_layers: 0 })).toEqual([
      'momentum: missing',
      'learning_rate: NaN is not a finite number',
    ]);
    expect(isActive(space.momentum as never, { optimizer: 'momentum' })).toBe(true);
  });

  it('draws uniform numbers in [0, 1) with distinct streams per seed', () => {
    const r = new Rng('study:1');
    const xs = Array.from({ length: 10_000 }, () => r.next());
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(xs.reduce((a, b) => a + b, 0) / xs.length).toBeCloseTo(0.5, 1);
    expect(new Rng('study:2').next()).not.toBe(new Rng('study:1').next());
  });

  it('reads a parameter named like an object member (constructor) from the config itself only', () => {
    const named = parseSpec({
      name: 's',
      objective: {},
      space: {
        opt: { type: 'categorical', choices: ['a', 'b'] },
        constructor: { type: 'categorical', choices: [0, 1, 2], when: { opt: ['a'] } },
        toString: { type: 'categorical', choices: ['x'], when: { constructor: [0, 1] } },
      },
      budget: { max_trials: 1, max_epochs: 1 },
    }).space;
    expect(checkParams(named, { opt: 'b' })).toEqual([]);
    expect(checkParams(named, { opt: 'a' })).toEqual(['constructor: missing']);
    expect(isActive(named.toString as never, { opt: 'b' })).toBe(false);
    const rng = new Rng(3);
    for (let i = 0; i < 200; i++) expect(checkParams(named, sampleSpace(named, rng))).toEqual([]);
  });

  it('draws across a float range wider than the largest double (a study stored before such ranges were refused)', () => {
    const wide = { type: 'float', low: -1.7e308, high: 1.7e308, log: false } as const;
    expect(fromUnit(wide, 0.5)).toBe(0);
    expect(fromUnit(wide, 0)).toBe(-1.7e308);
    expect(fromUnit(wide, 1)).toBe(1.7e308);
    expect(fromUnit(wide, 0.25) as number).toBeCloseTo(-0.85e308, -300);
    expect(toUnit(wide, 0)).toBe(0.5);
    expect(toUnit(wide, 0.85e308)).toBeCloseTo(0.75, 12);
    const rng = new Rng(1);
    const draws = Array.from({ length: 200 }, () => sampleParam(wide, rng) as number);
    expect(new Set(draws).size).toBe(200);
    expect(draws.filter((x) => x < 0).length).toBeGreaterThan(50);
    expect(draws.every((x) => Number.isFinite(x) && x >= wide.low && x <= wide.high)).toBe(true);
  });
});
