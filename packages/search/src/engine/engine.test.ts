import { stringify as toYaml } from 'yaml';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalBus, type Plugin, PluginRegistry, parseSpecText, type Runner, SpecError, type Store } from '@sweepd/core';
import { startWorker } from '@sweepd/trainer';
import { openStore } from '@sweepd/core/store';
import { belowRule, curveRunner, startEngine, until, walkStrategy } from './engine.test-helpers.ts';
import { divergenceRulePlugin } from '../stopping/divergence.ts';
import { randomStrategy } from '../strategies/random.ts';
import { studyIdForKey } from './idempotency.ts';
import { StudyEngine } from './engine.ts';

const outside: Plugin<'strategy'> = {
  kind: 'strategy',
  name: 'outside',
  parseOptions: (raw) => raw,
  create: () => ({ ask: async () => [{ learning_rate: 5 }] }),
};
const spec = (extra: Record<string, unknown> = {}) => ({
  name: 'engine-test',
  objective: { metric: 'val_auc_macro', direction: 'maximize' },
  space: { learning_rate: { type: 'float', low: 1e-8, high: 1, log: true } },
  strategy: { name: 'walk' },
  budget: { max_trials: 6, max_epochs: 3, parallelism: 2 },
  trainer: { runner: 'test' },
  ...extra,
});

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function setup(
  options: { store?: Store; runner?: Runner; bus?: LocalBus; stopsAfterRestartMs?: number; pluginDirs?: string[] } = {},
) {
  const registry = new PluginRegistry().register(walkStrategy()).register(outside).register(belowRule).register(divergenceRulePlugin);
  const store = options.store ?? (await openStore({ dataDir: 'memory://' }));
  const extra = {
    ...(options.stopsAfterRestartMs === undefined ? {} : { stopsAfterRestartMs: options.stopsAfterRestartMs }),
    ...(options.pluginDirs ? { pluginDirs: options.pluginDirs } : {}),
  };
  const { bus, engine, close } = await startEngine(store, registry, options.runner ?? curveRunner(), options.bus, extra);
  cleanups.push(async () => {
    await close();
    if (!options.store) await store.close();
  });
  return { store, bus, engine, close };
}

describe('StudyEngine', () => {
  it('runs a study to its budget and keeps each trial’s best epoch', async () => {
    const { store, engine } = await setup();
    const study = await engine.submit(JSON.stringify(spec()));
    await until(async () => (await store.getStudy(study.id))?.state === 'completed');
    const trials = await store.listTrials(study.id);
    expect(trials.map((t) => t.number)).toEqual([0, 1, 2, 3, 4, 5]);
    for (const t of trials) {
      expect(t.state).toBe('completed');
      expect(t.epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
      expect(t.value).toBeCloseTo(t.epochs[2]?.metrics.val_auc_macro ?? Number.NaN, 12);
    }
    // 10^-3 is the optimum of the curve: trial 3 (lr 1e-3) is the best.
    const best = trials.reduce((a, b) => ((a.value ?? -1) >= (b.value ?? -1) ? a : b));
    expect(best.number).toBe(3);
  });

  it('stops trials its rules reject, with the reason stored', async () => {
    const { store, engine } = await setup({ runner: curveRunner(5) });
    const study = await engine.submit(
      JSON.stringify(spec({ stopping: [{ name: 'below' }], budget: { max_trials: 8, max_epochs: 4, parallelism: 2 } })),
    );
    await until(async () => (await store.getStudy(study.id))?.state === 'completed');
    const trials = await store.listTrials(study.id);
    const stopped = trials.filter((t) => t.state === 'stopped');
    // Only lr 1e-7 (trial 7) scores below 0.65: 1 − 4/10 − 0.02 at epoch 2.
    expect(stopped.map((t) => t.number)).toEqual([7]);
    expect(stopped[0]?.reason).toMatch(/^below: 0\.5\d* < 0.65 at epoch 2$/);
    expect(stopped[0]?.epochs.length).toBeLessThan(4);
  });

  it('creates a study once per idempotency key, even when the repeats arrive together', async () => {
    const { store, engine } = await setup();
    const text = JSON.stringify(spec());
    const results = await Promise.all([1, 2, 3].map(() => engine.submitStudy(text, 'key-1')));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.study.id)).size).toBe(1);
    expect(await store.listStudies()).toHaveLength(1);
    await expect(engine.submitStudy(JSON.stringify(spec({ name: 'other' })), 'key-1')).rejects.toThrow(/different spec/);
    // The same spec re-serialised (indented, keys reordered, as YAML) is the same spec, not a conflict.
    const reordered = Object.fromEntries(Object.entries(spec()).reverse());
    for (const again of [JSON.stringify(spec(), null, 2), JSON.stringify(reordered), toYaml(spec())]) {
      expect(await engine.submitStudy(again, 'key-1')).toMatchObject({ created: false, study: { id: results[0]?.study.id } });
    }
    const fresh = await engine.submitStudy(text, 'key-2');
    expect(fresh.created).toBe(true);
    expect(await store.listStudies()).toHaveLength(2);
    await until(async () => (await store.listStudies()).every((s) => s.state === 'completed'));
    // Only the two studies ran: six trials each.
    for (const s of await store.listStudies()) expect(await store.listTrials(s.id)).toHaveLength(6);
  });

  it('starts a study that a first submission stored but never started, when the key comes again', async () => {
    const { store, engine } = await setup();
    const text = JSON.stringify(spec());
    // What a request that died between the COMMIT and starting the study leaves behind.
    const stored = await store.createStudy({ spec: parseSpecText(text), specText: text, id: studyIdForKey('lost-reply') });
    const again = await engine.submitStudy(text, 'lost-reply');
    expect(again).toMatchObject({ created: false, study: { id: stored.id } });
    await until(async () => (await store.getStudy(stored.id))?.state === 'completed');
    expect(await store.listTrials(stored.id)).toHaveLength(6);
    expect(await store.listStudies()).toHaveLength(1);
  });

  it('a keyed resubmit racing a stop leaves the study stopped', async () => {
    const { store, engine } = await setup({ runner: curveRunner(30) });
    const text = JSON.stringify(spec({ budget: { max_trials: 6, max_epochs: 3, parallelism: 1 } }));
    const { study } = await engine.submitStudy(text, 'stop-race');
    await until(async () => (await store.listTrials(study.id)).length >= 1);
    // The resubmit reads the study (still running) while the user's stop is on its way.
    const getStudy = store.getStudy.bind(store);
    let stopping: Promise<boolean> | undefined;
    store.getStudy = (id) => {
      const read = getStudy(id);
      stopping ??= engine.stopStudy(study.id, 'user stop');
      return read;
    };
    await engine.submitStudy(text, 'stop-race');
    store.getStudy = getStudy;
    await stopping;
    await new Promise((r) => setTimeout(r, 500));
    expect(await store.getStudy(study.id)).toMatchObject({ state: 'stopped', reason: 'user stop' });
    expect(engine.isActive(study.id)).toBe(false);
  });

  it('a keyed resubmit resumes a stored, unstarted study with trials to exactly its budget, after a failed first try', async () => {
    const store = await openStore({ dataDir: 'memory://' });
    cleanups.push(() => store.close());
    const text = JSON.stringify(spec({ budget: { max_trials: 6, max_epochs: 3, parallelism: 2 } }));
    const first = await setup({ store, runner: curveRunner(40) });
    const { study } = await first.engine.submitStudy(text, 'resume');
    await until(async () => (await store.listTrials(study.id)).some((t) => t.state === 'completed'));
    await first.close();
    // A daemon that has not resumed the study (as if its start had missed it), whose store fails once.
    const flaky = Object.create(store) as Store;
    flaky.runningStudies = async () => [];
    let failures = 1;
    flaky.listTrials = async (id) => {
      if (failures-- > 0) throw new Error('store away for a moment');
      return store.listTrials(id);
    };
    const second = await setup({ store: flaky });
    await expect(second.engine.submitStudy(text, 'resume')).rejects.toThrow(/store away/);
    expect(second.engine.isActive(study.id)).toBe(false);
    expect(await second.engine.submitStudy(text, 'resume')).toMatchObject({ created: false });
    await until(async () => (await store.getStudy(study.id))?.state === 'completed');
    const trials = await store.listTrials(study.id);
    expect(trials.map((t) => t.number)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(trials.every((t) => t.state === 'completed')).toBe(true);
  });

  it('rejects an invalid spec or an unknown strategy without storing anything', async () => {
    const { store, engine } = await setup();
    await expect(engine.submit('name: x\nspace: {}\n')).rejects.toBeInstanceOf(SpecError);
    await expect(engine.submit(JSON.stringify(spec({ strategy: { name: 'nope' } })))).rejects.toThrow(
      /strategy.name: no strategy named 'nope'/,
    );
    expect(await store.listStudies()).toEqual([]);
  });

  it('fails a study whose strategy returns parameters outside the space, and keeps running others', async () => {
    const { store, engine } = await setup();
    const bad = await engine.submit(JSON.stringify(spec({ strategy: { name: 'outside' } })));
    const good = await engine.submit(JSON.stringify(spec()));
    await until(async () => (await store.getStudy(good.id))?.state === 'completed');
    const failed = await store.getStudy(bad.id);
    expect(failed?.state).toBe('failed');
    expect(failed?.reason).toMatch(/outside the space: learning_rate: 5 is outside/);
  });

  it('stops a single trial and a whole study on request', async () => {
    const { store, engine } = await setup({ runner: curveRunner(200) });
    const study = await engine.submit(JSON.stringify(spec({ budget: { max_trials: 6, max_epochs: 50, parallelism: 2 } })));
    await until(async () => (await store.getTrial(study.id, 0))?.state === 'running');
    expect(await engine.stopTrial(study.id, 0)).toBe(true);
    await until(async () => (await store.getTrial(study.id, 0))?.state === 'stopped');
    expect((await store.getTrial(study.id, 0))?.reason).toBe('stopped by user');
    expect(await engine.stopStudy(study.id)).toBe(true);
    await until(async () => (await store.listTrials(study.id)).every((t) => ['stopped', 'completed'].includes(t.state)));
    expect((await store.getStudy(study.id))?.state).toBe('stopped');
    expect(await engine.stopTrial(study.id, 0)).toBe(false);
  });

  it('a trial that fails while it is being stopped is failed, with why it failed and the stop it was asked for', async () => {
    // Its script crashed on its own after the stop request: the failure is the news, not the stop.
    const runner: Runner = {
      async run(_job, ctx) {
        await ctx.report({ epoch: 1, metrics: { train_loss: 0.7, val_auc_macro: 0.6 }, layers: [] });
        for (let i = 0; i < 400 && !ctx.signal.aborted; i++) await new Promise((r) => setTimeout(r, 5));
        return { state: 'failed', reason: 'exit code 1: RuntimeError: boom' };
      },
    };
    const { store, engine } = await setup({ runner });
    const study = await engine.submit(JSON.stringify(spec({ budget: { max_trials: 1, max_epochs: 3, parallelism: 1 } })));
    await until(async () => ((await store.getTrial(study.id, 0))?.epochs.length ?? 0) > 0);
    expect(await engine.stopTrial(study.id, 0)).toBe(true);
    await until(async () => (await store.getTrial(study.id, 0))?.state === 'failed');
    expect((await store.getTrial(study.id, 0))?.reason).toBe(
      'exit code 1: RuntimeError: boom (after it was asked to stop: stopped by user)',
    );
  });

  it('continues a study after a restart without repeating or losing a trial', async () => {
    const store = await openStore({ dataDir: 'memory://' });
    cleanups.push(() => store.close());
    const first = await setup({ store, runner: curveRunner(30) });
    const study = await first.engine.submit(JSON.stringify(spec({ budget: { max_trials: 8, max_epochs: 3, parallelism: 2 } })));
    await until(async () => (await store.listTrials(study.id)).filter((t) => t.state === 'completed').length >= 3);
    await first.close(); // the daemon goes away mid-study; running trials are left unfinished
    const second = await setup({ store, runner: curveRunner(0) });
    await until(async () => (await store.getStudy(study.id))?.state === 'completed');
    const trials = await store.listTrials(study.id);
    expect(trials.map((t) => t.number)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(trials.every((t) => t.state === 'completed' && t.epochs.length === 3)).toBe(true);
    // The walk is a function of the history, so the restarted study drew the same learning rates.
    expect(trials.map((t) => t.params.learning_rate)).toEqual(Array.from({ length: 8 }, (_, i) => 10 ** -(i % 8) - 1e-9));
    await second.close();
  });

  it('a restarted study draws the trials an uninterrupted one draws: the space is read back in the order it was written', async () => {
    // Not alphabetical nor by length, the orders a store might read keys back in.
    const ordered = spec({
      space: {
        learning_rate: { type: 'float', low: 1e-5, high: 1e-1, log: true },
        optimizer: { type: 'categorical', choices: ['sgd', 'momentum', 'rmsprop', 'adam'] },
        frozen_layers: { type: 'int', low: 0, high: 8 },
      },
      strategy: { name: 'random', options: { seed: 5 } },
      budget: { max_trials: 4, max_epochs: 1, parallelism: 2 },
    });
    const registry = new PluginRegistry().register(randomStrategy);
    const dir = await mkdtemp(path.join(tmpdir(), 'sweepd-order-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const drawn = async (store: Store, id: string) => (await store.listTrials(id)).map((t) => JSON.stringify(t.params));

    const whole = await openStore({ dataDir: 'memory://' });
    cleanups.push(() => whole.close());
    const one = await startEngine(whole, registry, curveRunner());
    const uninterrupted = await one.engine.submit(JSON.stringify(ordered));
    await until(async () => (await whole.getStudy(uninterrupted.id))?.state === 'completed');
    await one.close();

    // The first two trials hang until the daemon goes down; the restarted one draws the other two.
    let store = await openStore({ dataDir: dir });
    const first = await startEngine(store, registry, {
      async run(_job, ctx) {
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
        return { state: 'stopped', reason: 'shutdown' };
      },
    });
    const restarted = await first.engine.submit(JSON.stringify(ordered));
    await until(async () => (await store.listTrials(restarted.id)).length === 2);
    await first.engine.close();
    await first.bus.close();
    await first.close();
    await store.close();
    store = await openStore({ dataDir: dir });
    const reopened = store;
    cleanups.push(() => reopened.close());
    const second = await startEngine(store, registry, curveRunner());
    cleanups.push(second.close);
    await until(async () => (await reopened.getStudy(restarted.id))?.state === 'completed');
    expect(await drawn(store, restarted.id)).toEqual(await drawn(whole, uninterrupted.id));
  });

  it('on the in-process bus a restart reads the trials it had running as queued: their workers went down with it', async () => {
    const store = await openStore({ dataDir: 'memory://' });
    cleanups.push(() => store.close());
    const first = await setup({ store, runner: curveRunner(2_000) });
    const study = await first.engine.submit(JSON.stringify(spec({ budget: { max_trials: 2, max_epochs: 3, parallelism: 2 } })));
    await until(async () => (await store.listTrials(study.id)).every((t) => t.state === 'running' && t.epochs.length > 0));
    await first.close();
    // Back without workers (sweepd up --workers 0, or fewer than it had): nothing runs them now.
    const registry = new PluginRegistry().register(walkStrategy());
    const engine = new StudyEngine({ store, bus: new LocalBus(), registry });
    await engine.start();
    try {
      expect((await store.listTrials(study.id)).map((t) => t.state)).toEqual(['queued', 'queued']);
    } finally {
      await engine.close();
    }
  });

  it('on the in-process bus a restart completes a trial that had reported all its epochs: its end was lost, not its training', async () => {
    const store = await openStore({ dataDir: 'memory://' });
    cleanups.push(() => store.close());
    // Reports its last epoch, then hangs until the daemon goes down (a DataLoader teardown, say).
    const hangsAfterLast: Runner = {
      async run(job, ctx) {
        for (let epoch = 1; epoch <= job.maxEpochs; epoch++)
          await ctx.report({ epoch, metrics: { val_auc_macro: 0.7 + 0.01 * epoch }, layers: [] });
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
        return { state: 'stopped', reason: 'shutdown' };
      },
    };
    const first = await setup({ store, runner: hangsAfterLast });
    const study = await first.engine.submit(JSON.stringify(spec({ budget: { max_trials: 1, max_epochs: 3, parallelism: 1 } })));
    await until(async () => (await store.listTrials(study.id))[0]?.epochs.length === 3);
    // Closed as the daemon closes: the engine, then the bus (which aborts the hung run), then the worker.
    await first.engine.close();
    await first.bus.close();
    await first.close();
    expect((await store.listTrials(study.id))[0]?.state).toBe('running');
    const second = await setup({ store });
    await until(async () => (await store.getStudy(study.id))?.state !== 'running');
    const [trial] = await store.listTrials(study.id);
    expect([trial?.state, trial?.reason, trial?.epochs.length, trial?.value]).toEqual([
      'completed',
      'finished its 3 epochs; its end was not heard before the daemon went down',
      3,
      0.73,
    ]);
    expect((await store.getStudy(study.id))?.state).toBe('completed');
    await second.close();
  });

  it('at shutdown on the in-process bus, what a trial reports while it ends is stored: one that finishes its epochs completes, and nothing more is dispatched', async () => {
    const store = await openStore({ dataDir: 'memory://' });
    cleanups.push(() => store.close());
    // Trains on through the stop, as a script that never reads its stop request does.
    const deaf: Runner = {
      async run(job, ctx) {
        for (let epoch = 1; epoch <= job.maxEpochs; epoch++) {
          await new Promise((r) => setTimeout(r, 200));
          await ctx.report({ epoch, metrics: { val_auc_macro: 0.7 + 0.01 * epoch }, layers: [] });
        }
        return { state: 'completed' };
      },
    };
    const { engine, bus, close } = await setup({ store, runner: deaf });
    const two = await engine.submit(JSON.stringify(spec({ budget: { max_trials: 2, max_epochs: 4, parallelism: 1 } })));
    const one = await engine.submit(JSON.stringify(spec({ budget: { max_trials: 1, max_epochs: 4, parallelism: 1 } })));
    // Both first trials mid-way (not exactly at epoch 1: on a loaded machine one may be an epoch ahead of the other by then).
    const midway = async (id: string) => {
      const n = (await store.listTrials(id))[0]?.epochs.length ?? 0;
      return n >= 1 && n < 4;
    };
    await until(async () => (await midway(two.id)) && (await midway(one.id)));
    // The daemon's order: the engine stops dispatching, the bus closes (aborting the runs, which go on), then the engine closes.
    engine.stopDispatching();
    await bus.close();
    await engine.close();
    for (const id of [two.id, one.id]) {
      const [trial, ...more] = await store.listTrials(id);
      expect([trial?.state, trial?.epochs.map((e) => e.epoch), more.length]).toEqual(['completed', [1, 2, 3, 4], 0]);
    }
    // Its one trial done: completed now. The other has a trial left to run at the next start.
    expect((await store.getStudy(one.id))?.state).toBe('completed');
    expect((await store.getStudy(two.id))?.state).toBe('running');
    await close();
  });

  it('a start fails a study an earlier version stored as completed with no trial to rank, saying why; one with a ranked trial stays completed', async () => {
    const store = await openStore({ dataDir: 'memory://' });
    cleanups.push(() => store.close());
    const text = JSON.stringify(spec({ budget: { max_trials: 2, max_epochs: 3, parallelism: 1 } }));
    const stored = async (finals: ReadonlyArray<{ state: 'failed' | 'completed'; reason: string; value?: number }>) => {
      const study = await store.createStudy({ spec: parseSpecText(text), specText: text });
      const trials = await store.createTrials(
        study.id,
        finals.map((_, i) => ({ params: { learning_rate: 10 ** -(i + 2) } })),
      );
      for (const [i, end] of finals.entries()) {
        const trialId = trials[i]?.id as string;
        await store.markRunning(trialId, 'w');
        if (end.value !== undefined)
          await store.recordEpochs([{ trialId, epoch: 1, metrics: { val_auc_macro: end.value }, layers: [] }], spec().objective as never);
        await store.finishTrials([{ trialId, state: end.state, reason: end.reason }]);
      }
      // What versions before the failed state for a study of failures stored.
      await store.setStudyState(study.id, 'completed');
      return study.id;
    };
    const failures = await stored([
      { state: 'failed', reason: 'exit code 1' },
      { state: 'failed', reason: 'exit code 1' },
    ]);
    const good = await stored([
      { state: 'failed', reason: 'exit code 1' },
      { state: 'completed', reason: 'done', value: 0.8 },
    ]);
    const { close } = await setup({ store });
    cleanups.push(close);
    const after = await store.getStudy(failures);
    expect([after?.state, after?.reason]).toEqual(['failed', expect.stringMatching(/^all 2 trials failed.*exit code 1/)]);
    expect((await store.getStudy(good))?.state).toBe('completed');
  });

  it('a restarted engine reads the reports queued while it was down before it sends any job: trials that finished meanwhile are not run again', async () => {
    const store = await openStore({ dataDir: 'memory://' });
    cleanups.push(() => store.close());
    const first = await setup({ store, runner: curveRunner(2_000) });
    const study = await first.engine.submit(JSON.stringify(spec({ budget: { max_trials: 2, max_epochs: 2, parallelism: 2 } })));
    await until(async () => (await store.listTrials(study.id)).every((t) => t.state === 'running'));
    await first.close(); // the daemon goes away; its workers go on and finish both trials
    const bus = new LocalBus();
    for (const t of await store.listTrials(study.id)) {
      for (const epoch of [1, 2])
        await bus.publishReport({ kind: 'epoch', studyId: study.id, trialId: t.id, epoch, metrics: { val_auc_macro: 0.8 }, layers: [] });
      await bus.publishReport({ kind: 'final', studyId: study.id, trialId: t.id, state: 'completed' });
    }
    let runs = 0;
    const worker = await startWorker({ bus, runner: { run: async () => ({ state: 'completed', reason: `${++runs}` }) }, concurrency: 2 });
    const { StudyEngine } = await import('./engine.ts');
    const registry = new PluginRegistry().register(walkStrategy());
    const engine = new StudyEngine({ store, bus, registry });
    cleanups.push(async () => {
      await engine.close();
      await worker.close();
      await bus.close();
    });
    await engine.start();
    await until(async () => (await store.getStudy(study.id))?.state !== 'running');
    expect(await store.getStudy(study.id)).toMatchObject({ state: 'completed' });
    expect((await store.listTrials(study.id)).map((t) => [t.state, t.epochs.length])).toEqual([
      ['completed', 2],
      ['completed', 2],
    ]);
    await new Promise((r) => setTimeout(r, 200));
    expect(runs).toBe(0);
  });

  it('a trial stopped after it had trained every epoch, which then ends completed, is completed; one stopped earlier is stopped', async () => {
    const store = await openStore({ dataDir: 'memory://' });
    cleanups.push(() => store.close());
    // Each trial reports its epochs, then takes a while to end (saving, say) and ignores the stop:
    // it ends once the test has stopped both.
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const runner: Runner = {
      async run(job, ctx) {
        const epochs = job.number === 0 ? job.maxEpochs : 1;
        for (let epoch = 1; epoch <= epochs; epoch++)
          await ctx.report({ epoch, metrics: { val_auc_macro: 0.6 + epoch / 100 }, layers: [] });
        await released;
        return { state: 'completed' };
      },
    };
    const { engine } = await setup({ store, runner });
    const study = await engine.submit(JSON.stringify(spec({ budget: { max_trials: 2, max_epochs: 3, parallelism: 2 } })));
    await until(async () => {
      const [a, b] = await store.listTrials(study.id);
      return a?.epochs.length === 3 && b?.epochs.length === 1;
    });
    expect(await engine.stopTrial(study.id, 0, 'stopped by user')).toBe(true);
    expect(await engine.stopTrial(study.id, 1, 'stopped by user')).toBe(true);
    release();
    await until(async () => (await store.getStudy(study.id))?.state !== 'running');
    expect((await store.listTrials(study.id)).map((t) => [t.state, t.reason])).toEqual([
      ['completed', 'trained its 3 epochs before the stop took effect (stopped by user)'],
      ['stopped', 'stopped by user'],
    ]);
  });

  it('a trial stopped for a NaN that trained every epoch before the stop took effect is failed, and keeps why it was stopped', async () => {
    const store = await openStore({ dataDir: 'memory://' });
    cleanups.push(() => store.close());
    // It ends, ignoring the stop, once the test has stopped it.
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const runner: Runner = {
      async run(job, ctx) {
        for (let epoch = 1; epoch <= job.maxEpochs; epoch++)
          await ctx.report({ epoch, metrics: { val_auc_macro: Number.NaN }, layers: [] });
        await released;
        return { state: 'completed' };
      },
    };
    const { engine } = await setup({ store, runner });
    const study = await engine.submit(JSON.stringify(spec({ budget: { max_trials: 1, max_epochs: 2, parallelism: 1 } })));
    await until(async () => (await store.listTrials(study.id))[0]?.epochs.length === 2);
    expect(await engine.stopTrial(study.id, 0, 'divergence: val_auc_macro is NaN at epoch 1')).toBe(true);
    release();
    await until(async () => (await store.getStudy(study.id))?.state !== 'running');
    expect((await store.listTrials(study.id)).map((t) => [t.state, t.reason])).toEqual([
      [
        'failed',
        "divergence: val_auc_macro is NaN at epoch 1; objective metric 'val_auc_macro' was never finite (NaN or infinite at every epoch)",
      ],
    ]);
  });

  it('a restarted engine ends the trials a stopped study left running, for the reason they were being stopped', async () => {
    const store = await openStore({ dataDir: 'memory://' });
    cleanups.push(() => store.close());
    const first = await setup({ store, runner: curveRunner(2_000) });
    const study = await first.engine.submit(JSON.stringify(spec({ budget: { max_trials: 2, max_epochs: 2, parallelism: 2 } })));
    await until(async () => (await store.listTrials(study.id)).every((t) => t.state === 'running'));
    await first.close(); // the daemon goes away with both trials running
    // As a stop leaves them when the daemon dies before the workers answer: the study stopped, one trial told why.
    await store.setStudyState(study.id, 'stopped', 'asked by the user');
    const [told] = await store.listTrials(study.id);
    await store.setTrialReason(told?.id as string, 'stopped by the user');
    const second = await setup({ store });
    expect((await store.listTrials(study.id)).map((t) => [t.state, t.reason])).toEqual([
      ['stopped', 'stopped by the user (ended when the daemon restarted: no end of it had been reported by then)'],
      ['stopped', 'study stopped: asked by the user (ended when the daemon restarted: no end of it had been reported by then)'],
    ]);
    expect(await store.getStudy(study.id)).toMatchObject({ state: 'stopped', reason: 'asked by the user' });
    await second.close();
  });

  it('a graceful shutdown on the in-process bus ends the trials being stopped, for their reason, not at the next start', async () => {
    const store = await openStore({ dataDir: 'memory://' });
    cleanups.push(() => store.close());
    const first = await setup({ store, runner: curveRunner(2_000) });
    const study = await first.engine.submit(JSON.stringify(spec({ budget: { max_trials: 2, max_epochs: 3, parallelism: 2 } })));
    await until(async () => (await store.listTrials(study.id)).every((t) => t.state === 'running'));
    expect(await first.engine.stopTrial(study.id, 0, 'stopped by the user')).toBe(true);
    await first.close(); // before the runner has wound trial 0 down
    expect((await store.listTrials(study.id)).map((t) => [t.state, t.reason ?? null])).toEqual([
      ['stopped', 'stopped by the user'],
      ['running', null],
    ]);
    // The next start leaves it as it is and runs trial 1 again.
    const second = await setup({ store, runner: curveRunner() });
    await until(async () => (await store.getStudy(study.id))?.state !== 'running');
    expect((await store.listTrials(study.id)).map((t) => [t.state, t.reason ?? null])).toEqual([
      ['stopped', 'stopped by the user'],
      ['completed', null],
    ]);
    await second.close();
  });

  it('a graceful shutdown that ends the last trial of a study, being stopped, finishes the study', async () => {
    const store = await openStore({ dataDir: 'memory://' });
    cleanups.push(() => store.close());
    const first = await setup({ store, runner: curveRunner(300) });
    const study = await first.engine.submit(JSON.stringify(spec({ budget: { max_trials: 1, max_epochs: 20, parallelism: 1 } })));
    await until(async () => ((await store.listTrials(study.id))[0]?.epochs.length ?? 0) >= 1);
    expect(await first.engine.stopTrial(study.id, 0, 'stopped by the user')).toBe(true);
    await first.close();
    const [trial] = await store.listTrials(study.id);
    expect([trial?.state, trial?.reason]).toEqual(['stopped', 'stopped by the user']);
    expect((await store.getStudy(study.id))?.state).toBe('completed');
  });

  it("a restarted engine reads the reports a stopped study's trials sent while it was down before it ends what is left", async () => {
    const store = await openStore({ dataDir: 'memory://' });
    cleanups.push(() => store.close());
    const first = await setup({ store, runner: curveRunner(2_000) });
    const study = await first.engine.submit(JSON.stringify(spec({ budget: { max_trials: 3, max_epochs: 3, parallelism: 3 } })));
    // The worker runs two at a time: two running, the third queued.
    await until(async () => (await store.listTrials(study.id)).filter((t) => t.state === 'running').length === 2);
    await first.close();
    await store.setStudyState(study.id, 'stopped', 'asked by the user');
    const [a, b] = await store.listTrials(study.id);
    // While the daemon was down: trial 0 reported an epoch and its end; trial 1 an epoch only; trial 2 nothing.
    const backlog = new LocalBus();
    const report = { studyId: study.id, attempt: 1 };
    await backlog.publishReport({
      ...report,
      kind: 'epoch',
      trialId: a?.id as string,
      epoch: 1,
      metrics: { val_auc_macro: 0.71 },
      layers: [],
    });
    await backlog.publishReport({
      ...report,
      kind: 'final',
      trialId: a?.id as string,
      state: 'stopped',
      reason: 'stop requested',
      notes: { exit_code: 0 },
    });
    await backlog.publishReport({
      ...report,
      kind: 'epoch',
      trialId: b?.id as string,
      epoch: 1,
      metrics: { val_auc_macro: 0.64 },
      layers: [],
    });
    const second = await setup({ store, bus: backlog });
    const after = await store.listTrials(study.id);
    expect(after.map((t) => [t.state, t.reason, t.epochs.length, t.value ?? null])).toEqual([
      ['stopped', 'study stopped: asked by the user', 1, 0.71],
      ['stopped', 'study stopped: asked by the user (ended when the daemon restarted: no end of it had been reported by then)', 1, 0.64],
      ['stopped', 'study stopped: asked by the user (ended when the daemon restarted: no end of it had been reported by then)', 0, null],
    ]);
    expect(after[0]?.notes).toMatchObject({ exit_code: 0 });
    expect(await store.getStudy(study.id)).toMatchObject({ state: 'stopped', reason: 'asked by the user' });
    await second.close();
  });

  it('on a bus whose workers outlive the daemon, an end reported soon after the restart still counts', async () => {
    const store = await openStore({ dataDir: 'memory://' });
    cleanups.push(() => store.close());
    const first = await setup({ store, runner: curveRunner(2_000) });
    const study = await first.engine.submit(JSON.stringify(spec({ budget: { max_trials: 2, max_epochs: 3, parallelism: 2 } })));
    await until(async () => (await store.listTrials(study.id)).every((t) => t.state === 'running'));
    await first.close();
    await store.setStudyState(study.id, 'stopped', 'asked by the user');
    const [a] = await store.listTrials(study.id);
    const bus = new LocalBus();
    const second = await setup({ store, bus, stopsAfterRestartMs: 1_500 });
    // A worker still winding trial 0 down reports its last epoch and its end after the catch-up.
    const report = { studyId: study.id, trialId: a?.id as string, attempt: 1 };
    await bus.publishReport({ ...report, kind: 'epoch', epoch: 2, metrics: { val_auc_macro: 0.73 }, layers: [] });
    await bus.publishReport({ ...report, kind: 'final', state: 'stopped', reason: 'stop requested' });
    await until(async () => (await store.listTrials(study.id))[0]?.state === 'stopped');
    // Trial 1's worker is gone: it ends once the wait is over.
    expect((await store.listTrials(study.id))[1]?.state).toBe('running');
    await until(async () => (await store.listTrials(study.id))[1]?.state === 'stopped');
    expect((await store.listTrials(study.id)).map((t) => [t.reason, t.epochs.length])).toEqual([
      ['study stopped: asked by the user', 1],
      ['study stopped: asked by the user (ended when the daemon restarted: no end of it had been reported by then)', 0],
    ]);
    await second.close();
  });

  it('adopts the trials of a createTrials that stored them but whose reply was lost, keeping to the budget', async () => {
    const store = await openStore({ dataDir: 'memory://' });
    cleanups.push(() => store.close());
    let calls = 0;
    const flaky: Store = Object.create(store);
    flaky.createTrials = async (...args) => {
      const created = await store.createTrials(...args);
      // The second creation commits, then the connection breaks before its answer arrives.
      if (++calls === 2) throw new Error('connection reset after COMMIT');
      return created;
    };
    const { engine } = await setup({ store: flaky });
    const study = await engine.submit(JSON.stringify(spec()));
    await until(async () => (await store.getStudy(study.id))?.state === 'completed');
    const trials = await store.listTrials(study.id);
    expect(trials.map((t) => t.number)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(trials.every((t) => t.state === 'completed' && t.epochs.length === 3)).toBe(true);
    expect(calls).toBeGreaterThan(2);
  });

  it('retries when the store or the bus fails for a moment, losing no trial', async () => {
    const store = await openStore({ dataDir: 'memory://' });
    cleanups.push(() => store.close());
    let createFailures = 2;
    const flaky: Store = Object.create(store);
    flaky.createTrials = async (...args) => {
      if (createFailures-- > 0) throw new Error('connection refused');
      return store.createTrials(...args);
    };
    const { bus, engine } = await setup({ store: flaky });
    let dispatchFailures = 1;
    const dispatch = bus.dispatch.bind(bus);
    bus.dispatch = async (jobs) => {
      if (dispatchFailures-- > 0) throw new Error('bus away');
      return dispatch(jobs);
    };
    const study = await engine.submit(JSON.stringify(spec()));
    await until(async () => (await store.getStudy(study.id))?.state === 'completed');
    const trials = await store.listTrials(study.id);
    expect(trials.map((t) => t.number)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(trials.every((t) => t.state === 'completed')).toBe(true);
    expect(createFailures).toBeLessThan(0);
    expect(dispatchFailures).toBeLessThan(0);
  });

  it('fails a study whose trials all failed, with the most common reason and its count', async () => {
    // lr ≥ 1e-4 (trials 0–4 of the walk) fails one way, the smaller rate another.
    const runner: Runner = {
      run: async (job) => ({
        state: 'failed',
        reason: Number(job.params.learning_rate) > 5e-5 ? 'frozen_layers 8 would freeze every layer' : 'dataset imagenet not found',
      }),
    };
    const { store, engine } = await setup({ runner });
    const study = await engine.submit(
      JSON.stringify(spec({ budget: { max_trials: 6, max_epochs: 3, parallelism: 2, max_consecutive_failures: 10 } })),
    );
    await until(async () => (await store.getStudy(study.id))?.state !== 'running');
    expect(await store.getStudy(study.id)).toMatchObject({
      state: 'failed',
      reason: 'all 6 trials failed; 5 of them: frozen_layers 8 would freeze every layer (and 1 other reason)',
    });
    expect(await store.listTrials(study.id)).toHaveLength(6);
    expect(engine.isActive(study.id)).toBe(false);
  });

  it('stops a study as failed after max_consecutive_failures trials fail in a row, stopping its running trials', async () => {
    // Trial 0 trains slowly; every other trial fails at setup.
    const slow = curveRunner(100);
    const runner: Runner = {
      run: (job, ctx) =>
        job.number === 0 ? slow.run(job, ctx) : Promise.resolve({ state: 'failed', reason: 'dataset imagenet not found' }),
    };
    const { store, engine } = await setup({ runner });
    const study = await engine.submit(
      JSON.stringify(spec({ budget: { max_trials: 40, max_epochs: 100, parallelism: 2, max_consecutive_failures: 3 } })),
    );
    await until(async () => (await store.getStudy(study.id))?.state !== 'running');
    expect(await store.getStudy(study.id)).toMatchObject({
      state: 'failed',
      reason: '3 trials in a row failed: dataset imagenet not found',
    });
    expect(engine.isActive(study.id)).toBe(false);
    // Nothing more is dispatched, and the running trial is stopped with the study's reason.
    await until(async () => (await store.listTrials(study.id)).every((t) => t.state !== 'queued' && t.state !== 'running'));
    const trials = await store.listTrials(study.id);
    expect(trials.length).toBeLessThan(10);
    expect(trials.filter((t) => t.state === 'failed')).toHaveLength(trials.length - 1);
    expect(trials[0]).toMatchObject({ state: 'stopped', reason: 'study failed: 3 trials in a row failed: dataset imagenet not found' });
  });

  it('fails a trial that ends "completed" without the objective, and a study of only such trials', async () => {
    // Reports val_acc, never val_auc_macro (a misspelt objective); trial 3 (lr 1e-3) the objective as NaN only.
    const runner: Runner = {
      async run(job, ctx) {
        const nan = Number(job.params.learning_rate) < 5e-3;
        await ctx.report({ epoch: 1, metrics: nan ? { val_auc_macro: Number.NaN } : { val_acc: 0.7, train_loss: 0.4 }, layers: [] });
        return { state: 'completed' };
      },
    };
    const { store, engine } = await setup({ runner });
    const study = await engine.submit(JSON.stringify(spec({ budget: { max_trials: 4, max_epochs: 1, parallelism: 2 } })));
    await until(async () => (await store.getStudy(study.id))?.state !== 'running');
    const trials = await store.listTrials(study.id);
    expect(trials.map((t) => [t.state, t.reason])).toEqual([
      ['failed', "objective metric 'val_auc_macro' was never reported; reported: train_loss, val_acc"],
      ['failed', "objective metric 'val_auc_macro' was never reported; reported: train_loss, val_acc"],
      ['failed', "objective metric 'val_auc_macro' was never reported; reported: train_loss, val_acc"],
      ['failed', "objective metric 'val_auc_macro' was never finite (NaN or infinite at every epoch)"],
    ]);
    expect(await store.getStudy(study.id)).toMatchObject({ state: 'failed' });
    expect((await store.getStudy(study.id))?.reason).toMatch(/^all 4 trials failed/);
  });

  it('fails a study at its first trial that reported a metric one typo from the objective, never the objective', async () => {
    // The script reports val_auc_macro; the spec says val_auc_mcro.
    const runner: Runner = {
      async run(_job, ctx) {
        for (const epoch of [1, 2]) await ctx.report({ epoch, metrics: { val_auc_macro: 0.7, train_loss: 0.4 }, layers: [] });
        return { state: 'completed' };
      },
    };
    const { store, engine } = await setup({ runner });
    const study = await engine.submit(
      JSON.stringify(
        spec({ objective: { metric: 'val_auc_mcro', direction: 'maximize' }, budget: { max_trials: 8, max_epochs: 2, parallelism: 1 } }),
      ),
    );
    await until(async () => (await store.getStudy(study.id))?.state !== 'running');
    expect(await store.getStudy(study.id)).toMatchObject({
      state: 'failed',
      reason:
        "objective.metric 'val_auc_mcro' is never reported: trial 0 reported 'val_auc_macro', a near match; fix whichever of the two is misspelled (objective.metric, or the name the script reports) and submit again",
    });
    const trials = await store.listTrials(study.id);
    expect(trials[0]?.reason).toBe(
      "objective metric 'val_auc_mcro' was never reported; reported: train_loss, val_auc_macro ('val_auc_macro' differs from 'val_auc_mcro' by a letter or two: is one of them misspelled, in the script or in objective.metric?)",
    );
    // Not the five trials in a row max_consecutive_failures would have spent.
    expect(trials.length).toBeLessThanOrEqual(2);
  });

  /**
   * A study of two trials under `stopping` (the divergence rule unless told) whose trials report
   * `epochs` (each epoch's metrics, given the trial's order) and then wait to be stopped; its trials
   * once it has ended.
   */
  async function divergingStudy(epochs: (n: number) => Record<string, number>[], stopping: object[] = [{ name: 'divergence' }]) {
    let started = 0;
    const runner: Runner = {
      async run(_job, ctx) {
        const n = started++;
        for (const [i, metrics] of epochs(n).entries()) await ctx.report({ epoch: i + 1, metrics, layers: [] });
        for (let i = 0; i < 200 && !ctx.signal.aborted; i++) await new Promise((r) => setTimeout(r, 5));
        return ctx.signal.aborted ? { state: 'stopped' } : { state: 'completed' };
      },
    };
    const { store, engine } = await setup({ runner });
    const study = await engine.submit(JSON.stringify(spec({ stopping, budget: { max_trials: 2, max_epochs: 3, parallelism: 1 } })));
    await until(async () => (await store.getStudy(study.id))?.state !== 'running');
    return { study: await store.getStudy(study.id), trials: await store.listTrials(study.id) };
  }

  it('fails a study whose trials were all stopped before reporting a finite objective: nothing to hand back', async () => {
    // Every trial's losses are NaN at epoch 1, and the divergence rule stops it there.
    const { study, trials } = await divergingStudy(() => [{ train_loss: Number.NaN, val_loss: Number.NaN }]);
    expect(trials.map((t) => [t.state, t.reason])).toEqual([
      ['stopped', 'divergence: train_loss is NaN at epoch 1'],
      ['stopped', 'divergence: train_loss is NaN at epoch 1'],
    ]);
    expect(study).toMatchObject({
      state: 'failed',
      reason: 'none of the 2 trials reported a finite val_auc_macro: divergence: train_loss is NaN at epoch 1',
    });
  });

  it('fails a study whose every trial with a value diverged, whether NaN came at epoch 1 or later', async () => {
    // Epoch 1 scores 0.6 (0.7 for the second trial); epoch 2's loss is NaN and the divergence rule stops it there.
    // A review saw such a study listed green "completed, best 0.57" while one whose NaN came at epoch 1 was failed.
    const { study, trials } = await divergingStudy((n) => [
      { train_loss: 0.7, val_auc_macro: 0.6 + n / 10 },
      { train_loss: Number.NaN, val_auc_macro: Number.NaN },
    ]);
    expect(trials.map((t) => [t.state, t.value])).toEqual([
      ['stopped', 0.6],
      ['stopped', 0.7],
    ]);
    expect(study).toMatchObject({ state: 'failed', reason: 'all 2 trials diverged: train_loss is NaN at epoch 2' });
  });

  it('completes a study whose evaluation alone went NaN: its training did not diverge', async () => {
    // val_loss NaN from an empty validation batch, train_loss and the objective finite.
    const { study } = await divergingStudy((n) => [{ train_loss: 0.5, val_loss: Number.NaN, val_auc_macro: 0.8 + n / 100 }]);
    expect(study?.state).toBe('completed');
  });

  it('fails a study whose training diverged after its evaluation did: the earlier val_loss NaN does not hide it', async () => {
    // A rate too high saturates the softmax first (val_loss Infinity), then train_loss goes NaN;
    // no stopping rule, so every trial reports both epochs.
    const { study } = await divergingStudy(
      (n) => [
        { train_loss: 0.5, val_loss: Number.POSITIVE_INFINITY, val_auc_macro: 0.7 + n / 100 },
        { train_loss: Number.NaN, val_loss: Number.NaN, val_auc_macro: 0.5 },
      ],
      [],
    );
    expect(study).toMatchObject({ state: 'failed', reason: 'all 2 trials diverged: train_loss is NaN at epoch 2' });
  });

  it('refuses at submit a pool no worker can ever serve, naming trainer.pool', async () => {
    const registry = new PluginRegistry().register(walkStrategy());
    const store = await openStore({ dataDir: 'memory://' });
    const { LocalBus } = await import('@sweepd/core');
    const bus = new LocalBus();
    const { StudyEngine } = await import('./engine.ts');
    const engine = new StudyEngine({ store, bus, registry, servedPools: ['default'] });
    await engine.start();
    cleanups.push(async () => {
      await engine.close();
      await bus.close();
      await store.close();
    });
    const gpu = spec({ trainer: { runner: 'test', pool: 'gpu' } });
    const err = await engine.submit(JSON.stringify(gpu)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SpecError);
    expect((err as SpecError).problems).toEqual([
      expect.objectContaining({
        path: 'trainer.pool',
        message: expect.stringMatching(/no worker can take pool 'gpu'.*serve only 'default'/),
      }),
    ]);
    expect(await store.listStudies()).toEqual([]);
    // The served pool is accepted.
    await expect(engine.submit(JSON.stringify(spec()))).resolves.toMatchObject({ state: 'running' });
  });

  it('completes a study where some trials failed and others completed', async () => {
    const good = curveRunner();
    // The last three trials of eight (lr ≤ 1e-5) fail: fewer in a row than the default limit of 5.
    const runner: Runner = {
      run: (job, ctx) =>
        Number(job.params.learning_rate) < 5e-5 ? Promise.resolve({ state: 'failed', reason: 'out of memory' }) : good.run(job, ctx),
    };
    const { store, engine } = await setup({ runner });
    const study = await engine.submit(JSON.stringify(spec({ budget: { max_trials: 8, max_epochs: 2, parallelism: 1 } })));
    await until(async () => (await store.getStudy(study.id))?.state !== 'running');
    const done = await store.getStudy(study.id);
    expect(done?.state).toBe('completed');
    expect(done?.reason).toBeUndefined();
    const trials = await store.listTrials(study.id);
    expect(trials.filter((t) => t.state === 'failed').map((t) => t.number)).toEqual([5, 6, 7]);
  });

  it('loads a third-party strategy named in the spec from a plugin directory; a broken plugin is refused with nothing stored', async () => {
    const examples = path.resolve(import.meta.dirname, '../../../../examples/plugins');
    const fixtures = path.resolve(import.meta.dirname, '../../../core/src/plugins/fixtures');
    const { store, engine } = await setup({ pluginDirs: [examples, fixtures] });
    const halton = path.join(examples, 'halton.ts');
    const study = await engine.submit(JSON.stringify(spec({ plugins: [halton], strategy: { name: 'halton', options: { seed: 1 } } })));
    await until(async () => (await store.getStudy(study.id))?.state === 'completed');
    expect((await store.listTrials(study.id)).every((t) => t.state === 'completed')).toBe(true);
    const broken = path.resolve(import.meta.dirname, '../../../core/src/plugins/fixtures/wrong-kind.ts');
    await expect(engine.submit(JSON.stringify(spec({ plugins: [broken] })))).rejects.toThrow(/has kind "sampler"/);
    expect((await store.listStudies()).map((s) => s.id)).toEqual([study.id]);
  });

  it("loads plugins only from the operator's plugin directories: no URL, no package, no path out of them, and none at all without one", async () => {
    const examples = path.resolve(import.meta.dirname, '../../../../examples/plugins');
    const halton = path.join(examples, 'halton.ts');
    const refusal = async (engine: StudyEngine, plugin: string) => {
      const err = await engine.submit(JSON.stringify(spec({ plugins: [plugin] }))).catch((e: unknown) => e);
      expect(err, plugin).toBeInstanceOf(SpecError);
      return (err as SpecError).problems.find((p) => p.path === 'plugins.0')?.message;
    };
    const { store, engine } = await setup({ pluginDirs: [examples] });
    const outside = path.resolve(import.meta.dirname, '../../../core/src/plugins/fixtures/wrong-kind.ts');
    expect(await refusal(engine, `data:text/javascript,export default {}`)).toMatch(/not a URL$/);
    expect(await refusal(engine, 'node:fs')).toMatch(/not a URL$/);
    expect(await refusal(engine, 'hono')).toMatch(/^no such file under a plugin directory .*: a package is not loaded by name/);
    // Outside the directory, by path or by '..', reads as a file that is not there: no oracle of what exists.
    expect(await refusal(engine, outside)).toMatch(/^no such file under a plugin directory/);
    expect(await refusal(engine, `${examples}/../../package.json`)).toMatch(/^no such file under a plugin directory/);
    expect(await refusal(engine, '/etc/hostname')).toMatch(/^no such file under a plugin directory/);
    expect(await store.listStudies()).toEqual([]);
    // A path without './' is a path too, from the daemon's working directory.
    const relative = path.relative(process.cwd(), halton);
    expect(relative.startsWith('.')).toBe(false);
    await engine.submit(JSON.stringify(spec({ plugins: [relative], strategy: { name: 'halton', options: { seed: 1 } } })));
    const closed = await setup();
    expect(await refusal(closed.engine, halton)).toMatch(/^this daemon loads no plugins/);
  });
});
