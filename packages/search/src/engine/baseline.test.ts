import { afterEach, describe, expect, it } from 'vitest';
import { type Plugin, PluginRegistry, type Runner, type Store } from '@sweepd/core';
import { openStore } from '@sweepd/core/store';
import { divergenceRulePlugin } from '../stopping/index.ts';
import { belowRule, curveRunner as knownCurve, startEngine, until, walkStrategy } from './engine.test-helpers.ts';

/** The shared curve, with train_loss NaN from epoch 2 at rates ≥ 0.5 (for the divergence rule). */
const curveRunner = (delayMs = 0) => knownCurve(delayMs, { divergeFrom: 0.5 });

const practitioner = { learning_rate: 1e-8, optimizer: 'rmsprop', momentum: 0.9 };
const spec = (extra: Record<string, unknown> = {}) => ({
  name: 'baseline-test',
  objective: { metric: 'val_auc_macro', direction: 'maximize' },
  space: {
    learning_rate: { type: 'float', low: 1e-8, high: 1, log: true },
    optimizer: { type: 'categorical', choices: ['adam', 'rmsprop'] },
    momentum: { type: 'float', low: 0, high: 0.99, when: { optimizer: ['rmsprop'] } },
  },
  baseline: practitioner,
  strategy: { name: 'walk' },
  budget: { max_trials: 4, max_epochs: 3, parallelism: 2 },
  trainer: { runner: 'test' },
  ...extra,
});

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function setup(store: Store, runner: Runner) {
  // Every trial the walk suggests is adam; the baseline alone is rmsprop.
  const registry = new PluginRegistry()
    .register(walkStrategy({ optimizer: 'adam' }))
    .register(belowRule)
    .register(divergenceRulePlugin as Plugin);
  const started = await startEngine(store, registry, runner);
  cleanups.push(started.close);
  return started;
}

async function memoryStore(): Promise<Store> {
  const store = await openStore({ dataDir: 'memory://' });
  cleanups.unshift(() => store.close()); // closed after the engines that use it
  return store;
}

describe('the baseline trial', () => {
  it('runs first as trial 0, tagged, with exactly its params, counted in max_trials, spared by ranking rules', async () => {
    const store = await memoryStore();
    // Epochs 50 ms apart: a stop decided at epoch 2 reaches the trial before its last epoch (a trial
    // that trains every epoch before its stop takes effect is completed, not stopped).
    const { engine } = await setup(store, curveRunner(50));
    const study = await engine.submit(JSON.stringify(spec({ stopping: [{ name: 'below' }] })));
    await until(async () => (await store.getStudy(study.id))?.state === 'completed');
    const trials = await store.listTrials(study.id);
    expect(trials.map((t) => t.number)).toEqual([0, 1, 2, 3]);
    const [baseline, ...rest] = trials;
    expect(baseline?.params).toEqual(practitioner);
    expect(baseline?.tags).toEqual({ baseline: true });
    // Its AUC (0.5) is below the rule's 0.65 from epoch 2, yet it ran all its epochs.
    expect(baseline?.state).toBe('completed');
    expect(baseline?.epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
    expect(rest.every((t) => t.tags?.baseline === undefined && t.params.optimizer === 'adam' && !('momentum' in t.params))).toBe(true);
    // The strategy saw the baseline in its history: its walk continued from one trial on.
    expect(rest.map((t) => t.params.learning_rate)).toEqual([1, 2, 3].map((i) => 10 ** -i - 1e-9));
    // The same low AUC on a trial of the strategy's is stopped by the rule.
    const low = await engine.submit(
      JSON.stringify(
        spec({
          name: 'no-baseline',
          baseline: undefined,
          stopping: [{ name: 'below' }],
          budget: { max_trials: 8, max_epochs: 3, parallelism: 2 },
        }),
      ),
    );
    await until(async () => (await store.getStudy(low.id))?.state === 'completed');
    const lowest = (await store.listTrials(low.id)).find((t) => t.number === 7); // lr 1e-7: AUC 0.6
    expect(lowest?.state).toBe('stopped');
    expect(lowest?.reason).toMatch(/^below/);
  }, 120_000);

  it('is stopped by divergence all the same', async () => {
    const store = await memoryStore();
    const { engine } = await setup(store, curveRunner(100)); // slow enough for the stop to arrive before epoch 3
    const study = await engine.submit(
      JSON.stringify(spec({ baseline: { ...practitioner, learning_rate: 0.9 }, stopping: [{ name: 'below' }, { name: 'divergence' }] })),
    );
    await until(async () => (await store.getStudy(study.id))?.state === 'completed');
    const [baseline] = await store.listTrials(study.id);
    expect(baseline?.tags).toEqual({ baseline: true });
    expect(baseline?.state).toBe('stopped');
    expect(baseline?.reason).toMatch(/^divergence: train_loss is NaN at epoch 2/);
  }, 120_000);

  it('is not created twice when the daemon restarts while it runs', async () => {
    const store = await memoryStore();
    const first = await setup(store, curveRunner(200));
    const study = await first.engine.submit(JSON.stringify(spec({ budget: { max_trials: 3, max_epochs: 3, parallelism: 1 } })));
    await until(async () => ((await store.listTrials(study.id))[0]?.epochs.length ?? 0) >= 1);
    await first.close(); // the daemon goes away with the baseline half run
    expect((await store.listTrials(study.id)).map((t) => t.number)).toEqual([0]);
    await setup(store, curveRunner(0));
    await until(async () => (await store.getStudy(study.id))?.state === 'completed');
    const trials = await store.listTrials(study.id);
    expect(trials.map((t) => t.number)).toEqual([0, 1, 2]);
    expect(trials.filter((t) => t.tags?.baseline === true).map((t) => t.number)).toEqual([0]);
    expect(trials[0]?.params).toEqual(practitioner);
    expect(trials.every((t) => t.state === 'completed')).toBe(true);
  }, 120_000);
});
