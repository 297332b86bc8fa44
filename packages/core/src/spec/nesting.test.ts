import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { nestingProblem } from './nesting.ts';

const examples = path.resolve(import.meta.dirname, '../../../../examples');

describe('nestingProblem', () => {
  it('passes real specs, YAML and JSON', () => {
    for (const f of ['quickstart.yaml', 'inception-finetune.yaml']) {
      const text = readFileSync(path.join(examples, f), 'utf8');
      expect(nestingProblem(text), f).toBeUndefined();
      expect(nestingProblem(JSON.stringify({ text }))).toBeUndefined();
    }
    expect(nestingProblem('name: "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["')).toBeUndefined();
    expect(nestingProblem(`a: 1 # ${'['.repeat(100)}`)).toBeUndefined();
  });

  it('refuses deep brackets and deep block nesting, fast', () => {
    const t0 = performance.now();
    expect(nestingProblem('['.repeat(100_000) + ']'.repeat(100_000))).toContain('deeper than 64');
    expect(nestingProblem('{a:'.repeat(50_000))).toContain('deeper than 64');
    expect(nestingProblem(Array.from({ length: 5000 }, (_, i) => `${' '.repeat(i)}- `).join('\n'))).toContain('indented more than');
    expect(nestingProblem(`${'- '.repeat(50_000)}x`)).toContain('indented more than');
    // A guard against a blow-up (a quadratic scan of 100,000 brackets takes minutes), not a speed target.
    expect(performance.now() - t0).toBeLessThan(5_000);
  });
});
