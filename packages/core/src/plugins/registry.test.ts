import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SpecError } from '../spec/errors.ts';
import type { Plugin } from './contracts.ts';
import { PluginLoadError, PluginRegistry } from './registry.ts';

const fixtures = `${import.meta.dirname}/fixtures`;

const seeded: Plugin<'strategy', { seed: number }> = {
  kind: 'strategy',
  name: 'seeded',
  parseOptions: (raw) => z.strictObject({ seed: z.number().int().min(0) }).parse(raw),
  create: () => ({ ask: async () => [] }),
};

const ctx = { space: {}, direction: 'maximize', metric: 'm', maxTrials: 1, maxEpochs: 1 } as const;

describe('PluginRegistry', () => {
  it('names what is wrong with a plugin module', async () => {
    const registry = new PluginRegistry();
    const cases: [string, RegExp][] = [
      ['./missing.ts', /plugin \.\/missing\.ts could not be imported: .*missing/i],
      ['./throws-on-import.ts', /could not be imported: this plugin cannot initialise/],
      ['./no-default.ts', /has no default export that is a plugin object/],
      ['./wrong-kind.ts', /has kind "sampler"; expected one of strategy, stopping, runner/],
      ['./no-create.ts', /must have parseOptions\(\) and create\(\) functions/],
      ['no-such-package-sweepd', /could not be imported/],
    ];
    for (const [specifier, message] of cases) {
      const err = await registry.load(specifier, fixtures).catch((e: unknown) => e);
      expect(err, specifier).toBeInstanceOf(PluginLoadError);
      expect((err as Error).message, specifier).toMatch(message);
    }
    expect(registry.names('strategy')).toEqual([]);
  });

  it('reports bad options and unknown names as spec problems at their path', async () => {
    const registry = new PluginRegistry().register(seeded);
    const bad = await registry
      .create('strategy', { name: 'seeded', options: { seed: -1, extra: true } }, ctx, 'strategy')
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(SpecError);
    expect((bad as SpecError).problems.map((p) => p.path).sort()).toEqual(['strategy.options', 'strategy.options.seed']);
    // In the words of the spec's own checks, not zod's ("Unrecognized key", "Invalid input: …").
    expect((bad as SpecError).problems.map((p) => p.message)).toContain("unknown key 'extra'");
    const mistyped = await registry
      .create('strategy', { name: 'seeded', options: { seed: 'one' } }, ctx, 'strategy')
      .catch((e: unknown) => e);
    expect((mistyped as SpecError).problems).toEqual([{ path: 'strategy.options.seed', message: 'must be a number (got "one")' }]);
    const unknown = await registry.create('strategy', { name: 'tpe' }, ctx, 'strategy').catch((e: unknown) => e);
    expect((unknown as SpecError).problems).toEqual([{ path: 'strategy.name', message: "no strategy named 'tpe' (known: seeded)" }]);
    await expect(registry.create('strategy', { name: 'seeded', options: { seed: 3 } }, ctx, 'strategy')).resolves.toHaveProperty('ask');
  });

  it('keeps a fork’s plugins out of its parent', () => {
    const parent = new PluginRegistry();
    const child = parent.fork().register(seeded);
    expect(child.names('strategy')).toEqual(['seeded']);
    expect(parent.names('strategy')).toEqual([]);
  });
});
