import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeSpecText } from './parse.ts';
import { sizeProblem } from './size.ts';
import { SpecError } from './errors.ts';

const examples = path.resolve(import.meta.dirname, '../../../../examples');

describe('sizeProblem', () => {
  it('passes real specs, YAML and JSON', () => {
    for (const f of ['quickstart.yaml', 'inception-finetune.yaml']) {
      const text = readFileSync(path.join(examples, f), 'utf8');
      expect(sizeProblem(text), f).toBeUndefined();
      expect(sizeProblem(JSON.stringify({ text }))).toBeUndefined();
    }
  });

  it('refuses, before parsing, a body of tens of thousands of keys that would hold the parser for seconds', () => {
    const block = Array.from({ length: 40_000 }, (_, i) => `k${i}: ${i}`).join('\n');
    const flow = JSON.stringify(Object.fromEntries(Array.from({ length: 25_000 }, (_, i) => [`k${i}`, i])));
    const list = `x: [${Array.from({ length: 30_000 }, (_, i) => i).join(',')}]`;
    for (const text of [block, flow, list]) {
      const t0 = performance.now();
      const err = (() => {
        try {
          decodeSpecText(text);
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(SpecError);
      expect((err as SpecError).problems[0]?.message).toMatch(/more than the \d+ any spec needs/);
      // A guard against building the whole document first, not a speed target.
      expect(performance.now() - t0).toBeLessThan(5_000);
    }
  });
});
