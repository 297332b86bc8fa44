import { afterEach, describe, expect, it } from 'vitest';
import { LocalBus, type Plugin, PluginRegistry, type Runner, type Store, type Subscription } from '@sweepd/core';
import { openStore } from '@sweepd/core/store';
import { startWorker } from '@sweepd/trainer';
import { divergenceRulePlugin } from '../stopping/index.ts';
import { StudyEngine } from './engine.ts';

// Walks learning rates 10^-1, 10^-2, ... with adam, so every trial but the baseline is known in advance.
const walk: Plugin<'strategy'> = {
  kind: 'strategy',
  name: 'walk',
  parseOptions: (raw) => raw,
  create: () => ({
    async ask(history, n) {
      return Array.from({ length: n }, (_, i) => ({ learning_rate: 10 ** -((history.length + i) % 8) - 1e-9, optimizer: 'adam' }));
    },
  }),
};
// Stops any trial whose objective is below 0.65 from its second epoch on.
const below: Plugin<'stopping'> = {
  kind: 'stopping',
  name: 'below',
  parseOptions: (raw) => raw,
  create: (_o, ctx) => ({
    decide: (trial) => {
      const last = trial.epochs.at(-1);
      const v = last?.metrics[ctx.metric];
      return last && last.epoch >= 2 && v !== undefined && v < 0.65 ? { stop: true, reason: `below: ${v} < 0.65` } : { stop: false };
    },
  }),
};

/** AUC a known function of the learning rate (best at 1e-3); train_loss NaN from epoch 2 at rates ≥ 0.5. */
function curveRunner(delayMs = 0): Runner {
  return {
    async run(job, ctx) {
      const lr = Number(job.params.learning_rate);
      for (let epoch = 1; epoch <= job.maxEpochs; epoch++) {
        if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
        if (ctx.signal.aborted) return { state: 'stopped', reason: String(ctx.signal.reason) };
        const auc = 1 - Math.abs(Math.log10(lr) + 3) / 10 - (job.maxEpochs - epoch) * 0.01;
        const loss = lr >= 0.5 && epoch >= 2 ? Number.NaN : 1 / epoch;
        await ctx.report({ epoch, metrics: { val_auc_macro: auc, train_loss: loss }, layers: [] });
      }
      return { state: 'completed' };
    },
  };
}

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
  const registry = new PluginRegistry()
    .register(walk)
    .register(below)
    .register(divergenceRulePlugin as Plugin);
  const bus = new LocalBus();
  const engine = new StudyEngine({ store, bus, registry });
  const worker: Subscription = await startWorker({ bus, runner, concurrency: 2 });
  await engine.start();
  const close = async () => {
    await engine.close();
    await worker.close();
    await bus.close();
  };
  cleanups.push(close);
  return { engine, close };
}

async function memoryStore(): Promise<Store> {
  const store = await openStore({ dataDir: 'memory://' });
  cleanups.unshift(() => store.close()); // closed after the engines that use it
  return store;
}

async function until(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the baseline trial', () => {
  it('runs first as trial 0, tagged, with exactly its params, counted in max_trials, spared by ranking rules', async () => {
    const store = await memoryStore();
    const { engine } = await setup(store, curveRunner());
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
