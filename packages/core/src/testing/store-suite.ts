/**
 * The Store contract suite: every Store implementation (PGlite, PostgreSQL, third-party) must pass it.
 *
 * `open` opens the implementation's store for the current test; called again after close() it must
 * reopen the SAME data (the suite checks that studies survive a restart). Tests create their own
 * studies and look only at those, so the data may be shared between tests.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseSpec } from '../spec/parse.ts';
import type { SearchSpec } from '../spec/schema.ts';
import type { EpochWrite, Store } from '../store/contract.ts';
import type { Direction, LayerStats } from '../types.ts';

function spec(name: string, direction: Direction = 'maximize', metric = 'val_auc_macro'): SearchSpec {
  return parseSpec({
    name,
    objective: { metric, direction },
    space: {
      learning_rate: { type: 'float', low: 1e-4, high: 0.1, log: true },
      optimizer: { type: 'categorical', choices: ['sgd', 'adam'] },
    },
    budget: { max_trials: 200, max_epochs: 10 },
  });
}

function layers(epoch: number, count = 3): LayerStats[] {
  // Names deliberately not in alphabetical order: the store must keep the reported order.
  return Array.from({ length: count }, (_, i) => ({
    layer: `block${count - i}/conv`,
    trainable: i % 2 === 0,
    kernelMovement: epoch * 0.01 + i,
    updateRatio: 0.001 * (i + 1),
    mean: -0.01 * (i + 1),
    std: 0.1 + i,
    fractionNegative: 0.5,
    quantiles: [-1, -0.5, -0.1, 0, 0.1, 0.5, 1 + epoch],
    sparsity: 0.25,
    deadFraction: i === 0 ? 0 : 0.1,
    ...(i === 1 && { biasMovement: 0.2 }),
  }));
}

const MAX = { metric: 'val_auc_macro', direction: 'maximize' } as const;
const MIN = { metric: 'val_loss', direction: 'minimize' } as const;

export function storeContractSuite(name: string, open: () => Promise<Store>): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    let serial = 0;
    const uniqueName = (what: string) => `${what}-${Date.now().toString(36)}-${serial++}`;

    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
    });

    async function studyWithTrials(n: number, direction: Direction = 'maximize', metric?: string) {
      const study = await store.createStudy({ spec: spec(uniqueName('s'), direction, metric), specText: 'name: s\n' });
      const trials = await store.createTrials(
        study.id,
        Array.from({ length: n }, (_, i) => ({ params: { learning_rate: 0.001 * (i + 1), optimizer: 'adam' } })),
      );
      return { study, trials };
    }

    it('creates a study with a generated st_ id and reads it back', async () => {
      const s = spec(uniqueName('create'), 'minimize', 'val_loss');
      const text = `name: ${s.name}\nobjective: {metric: val_loss, direction: minimize}\n`;
      const study = await store.createStudy({ spec: s, specText: text });
      expect(study.id).toMatch(/^st_[A-Za-z0-9_-]{12}$/);
      expect(study).toMatchObject({ name: s.name, spec: s, specText: text, state: 'running' });
      expect(study.createdAt).toBeInstanceOf(Date);
      expect(study.finishedAt).toBeUndefined();
      const read = await store.getStudy(study.id);
      expect(read).toEqual(study);
    });

    it('reads the spec back in the order it was written: strategies draw by the order of the space', async () => {
      // Not alphabetical, nor by length (PostgreSQL's jsonb reorders keys that way).
      const s = parseSpec({
        name: uniqueName('order'),
        objective: { metric: 'val_auc_macro', direction: 'maximize' },
        space: {
          learning_rate: { type: 'float', low: 1e-4, high: 0.1, log: true },
          optimizer: { type: 'categorical', choices: ['sgd', 'adam'] },
          frozen_layers: { type: 'int', low: 0, high: 3 },
        },
        budget: { max_trials: 5, max_epochs: 2 },
      });
      const study = await store.createStudy({ spec: s, specText: 'name: order\n' });
      const order = ['learning_rate', 'optimizer', 'frozen_layers'];
      expect(Object.keys(s.space)).toEqual(order);
      expect(Object.keys((await store.getStudy(study.id))?.spec.space ?? {})).toEqual(order);
      expect(Object.keys((await store.runningStudies()).find((r) => r.id === study.id)?.spec.space ?? {})).toEqual(order);
      await store.close();
      store = await open();
      expect(JSON.stringify((await store.getStudy(study.id))?.spec)).toBe(JSON.stringify(s));
    });

    it('accepts a caller-chosen study id; repeating the same creation returns the same study', async () => {
      const id = uniqueName('st_mine');
      const s = spec(uniqueName('chosen'));
      const first = await store.createStudy({ spec: s, specText: 'a', id });
      expect(first.id).toBe(id);
      const again = await store.createStudy({ spec: s, specText: 'a', id });
      expect(again).toEqual(first);
      await expect(store.createStudy({ spec: s, specText: 'something else', id })).rejects.toThrow(id);
    });

    it('gives undefined (not a throw) for unknown ids, and false for changes to unknown trials', async () => {
      expect(await store.getStudy('st_doesnotexist')).toBeUndefined();
      expect(await store.getTrial('st_doesnotexist', 0)).toBeUndefined();
      expect(await store.listTrials('st_doesnotexist')).toEqual([]);
      const { study } = await studyWithTrials(1);
      expect(await store.getTrial(study.id, 1)).toBeUndefined();
      expect(await store.getTrial(study.id, -1)).toBeUndefined();
      expect(await store.markRunning('tr_doesnotexist', 'w1')).toBe(false);
      expect(await store.finishTrial('tr_doesnotexist', { state: 'completed' })).toBe(false);
      await store.setTrialReason('tr_doesnotexist', 'nothing to stop');
    });

    it('sets a study state and reason; runningStudies lists only running ones', async () => {
      const { study: a } = await studyWithTrials(0);
      const { study: b } = await studyWithTrials(0);
      const running = (await store.runningStudies()).map((s) => s.id);
      expect(running).toEqual(expect.arrayContaining([a.id, b.id]));

      await store.setStudyState(b.id, 'stopped', 'stopped by user');
      const stopped = await store.getStudy(b.id);
      expect(stopped).toMatchObject({ state: 'stopped', reason: 'stopped by user' });
      expect(stopped?.finishedAt).toBeInstanceOf(Date);
      const after = (await store.runningStudies()).map((s) => s.id);
      expect(after).toContain(a.id);
      expect(after).not.toContain(b.id);
      expect((await store.runningStudies()).every((s) => s.state === 'running')).toBe(true);

      // Resuming clears the finish time; a state change without a reason keeps the earlier one.
      await store.setStudyState(b.id, 'running');
      const resumed = await store.getStudy(b.id);
      expect(resumed).toMatchObject({ state: 'running', reason: 'stopped by user' });
      expect(resumed?.finishedAt).toBeUndefined();
    });

    it('numbers trials after the existing ones, in state queued, with params and tags', async () => {
      const { study } = await studyWithTrials(0);
      const first = await store.createTrials(study.id, [
        { params: { learning_rate: 0.01, optimizer: 'sgd' }, tags: { bracket: 2, rung: 'a' } },
        { params: { learning_rate: 0.02, optimizer: 'adam' } },
      ]);
      const second = await store.createTrials(study.id, [{ params: { learning_rate: 0.03, optimizer: 'adam' } }]);
      expect(first.map((t) => t.number)).toEqual([0, 1]);
      expect(second.map((t) => t.number)).toEqual([2]);
      for (const t of [...first, ...second]) {
        expect(t.id).toMatch(/^tr_[A-Za-z0-9_-]{12}$/);
        expect(t.state).toBe('queued');
        expect(t.epochs).toEqual([]);
      }
      expect(first[0]?.tags).toEqual({ bracket: 2, rung: 'a' });
      expect(await store.createTrials(study.id, [])).toEqual([]);

      const listed = await store.listTrials(study.id);
      expect(listed.map((t) => [t.number, t.id])).toEqual([...first, ...second].map((t) => [t.number, t.id]));
      expect(listed[0]).toMatchObject({
        studyId: study.id,
        params: { learning_rate: 0.01, optimizer: 'sgd' },
        tags: { bracket: 2, rung: 'a' },
      });
      expect(listed[0]?.createdAt).toBeInstanceOf(Date);
      expect(listed[1]?.tags).toBeUndefined();
      expect(listed[1]?.value).toBeUndefined();
      expect(await store.getTrial(study.id, 2)).toMatchObject({ id: second[0]?.id, number: 2, state: 'queued' });
    });

    it('refuses trials for an unknown study with an error naming it', async () => {
      await expect(store.createTrials('st_nosuchstudy', [{ params: { learning_rate: 0.1 } }])).rejects.toThrow('st_nosuchstudy');
    });

    it('numbers trials without gaps or duplicates under concurrent createTrials (5 calls of 20)', async () => {
      const { study } = await studyWithTrials(0);
      const batches = await Promise.all(
        Array.from({ length: 5 }, (_, b) =>
          store.createTrials(
            study.id,
            Array.from({ length: 20 }, (_, i) => ({ params: { learning_rate: 0.001 * (b * 20 + i + 1) }, tags: { batch: b } })),
          ),
        ),
      );
      for (const batch of batches) {
        const numbers = batch.map((t) => t.number);
        // Each call gets a contiguous run of numbers.
        expect(numbers).toEqual(Array.from({ length: 20 }, (_, i) => numbers[0]! + i));
      }
      const all = batches.flat().map((t) => t.number);
      expect(all.sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
      const listed = await store.listTrials(study.id);
      expect(listed.map((t) => t.number)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    });

    it('records epochs with metrics, notes and layer statistics in reported order', async () => {
      const { study, trials } = await studyWithTrials(2);
      const [t0, t1] = [trials[0]!, trials[1]!];
      await store.recordEpochs(
        [
          { trialId: t1.id, epoch: 2, metrics: { val_auc_macro: 0.6, val_loss: 0.9 }, layers: layers(2) },
          {
            trialId: t0.id,
            epoch: 2,
            metrics: { val_auc_macro: 0.7 },
            layers: layers(2),
            notes: { backend: 'wasm', classesWithoutAuc: ['x'] },
          },
          { trialId: t0.id, epoch: 1, metrics: { val_auc_macro: 0.65 }, layers: layers(1) },
          { trialId: t1.id, epoch: 1, metrics: { val_auc_macro: 0.55 }, layers: [] },
        ],
        MAX,
      );
      const listed = await store.listTrials(study.id);
      expect(listed.map((t) => [t.number, t.epochs.map((e) => e.epoch)])).toEqual([
        [0, [1, 2]],
        [1, [1, 2]],
      ]);
      const e2 = listed[0]!.epochs[1]!;
      expect(e2.metrics).toEqual({ val_auc_macro: 0.7 });
      expect(e2.notes).toEqual({ backend: 'wasm', classesWithoutAuc: ['x'] });
      expect(e2.layers).toEqual(layers(2));
      expect(listed[0]!.epochs[0]!.notes).toBeUndefined();
      expect(listed[1]!.epochs[0]!.layers).toEqual([]);
      expect(listed[1]!.epochs[1]!.metrics).toEqual({ val_auc_macro: 0.6, val_loss: 0.9 });
      expect(await store.getTrial(study.id, 0)).toEqual(listed[0]);
      await store.recordEpochs([], MAX);
    });

    it('repeated recordEpochs keeps one row per (trial, epoch) holding the latest values', async () => {
      const { study, trials } = await studyWithTrials(1);
      const id = trials[0]!.id;
      await store.recordEpochs([{ trialId: id, epoch: 1, metrics: { val_auc_macro: 0.5 }, layers: layers(1), notes: { n: 1 } }], MAX);
      const changed = layers(1).map((l) => ({ ...l, mean: 42 }));
      await store.recordEpochs([{ trialId: id, epoch: 1, metrics: { val_auc_macro: 0.6 }, layers: changed, notes: { n: 2 } }], MAX);
      await store.recordEpochs([{ trialId: id, epoch: 1, metrics: { val_auc_macro: 0.6 }, layers: changed, notes: { n: 2 } }], MAX);
      // The same epoch twice in one batch: the later report wins.
      await store.recordEpochs(
        [
          { trialId: id, epoch: 2, metrics: { val_auc_macro: 0.1 }, layers: layers(2) },
          { trialId: id, epoch: 2, metrics: { val_auc_macro: 0.2 }, layers: layers(2) },
        ],
        MAX,
      );
      const trial = (await store.getTrial(study.id, 0))!;
      expect(trial.epochs.map((e) => e.epoch)).toEqual([1, 2]);
      expect(trial.epochs[0]).toEqual({ epoch: 1, metrics: { val_auc_macro: 0.6 }, layers: changed, notes: { n: 2 } });
      expect(trial.epochs[1]?.metrics).toEqual({ val_auc_macro: 0.2 });
      expect(trial.value).toBe(0.6);
    });

    it('a repeated epoch replaces the earlier report whole: layers it leaves out are gone', async () => {
      const { study, trials } = await studyWithTrials(1);
      const id = trials[0]!.id;
      await store.recordEpochs([{ trialId: id, epoch: 1, metrics: { val_auc_macro: 0.9 }, layers: layers(1), notes: { n: 1 } }], MAX);
      await store.recordEpochs([{ trialId: id, epoch: 2, metrics: { val_auc_macro: 0.7 }, layers: layers(2) }], MAX);
      // Epoch 1 again with one layer of its three, then with none.
      const fewer = layers(1).slice(1, 2);
      await store.recordEpochs([{ trialId: id, epoch: 1, metrics: { val_auc_macro: 0.6 }, layers: fewer }], MAX);
      expect((await store.getTrial(study.id, 0))!.epochs[0]).toEqual({ epoch: 1, metrics: { val_auc_macro: 0.6 }, layers: fewer });
      await store.recordEpochs([{ trialId: id, epoch: 1, metrics: { val_auc_macro: 0.6 }, layers: [] }], MAX);
      const trial = (await store.getTrial(study.id, 0))!;
      expect(trial.epochs[0]?.layers).toEqual([]);
      // The other epoch keeps its own.
      expect(trial.epochs[1]?.layers).toEqual(layers(2));
      expect(trial.value).toBe(0.7);
    });

    it('keeps each trial value at its best objective: max when maximizing, min when minimizing', async () => {
      const { study: up, trials: upTrials } = await studyWithTrials(1, 'maximize');
      const upId = upTrials[0]!.id;
      const report = (trialId: string, epoch: number, metrics: Record<string, number>): EpochWrite => ({
        trialId,
        epoch,
        metrics,
        layers: [],
      });
      await store.recordEpochs([report(upId, 1, { val_auc_macro: 0.5 }), report(upId, 2, { val_auc_macro: 0.8 })], MAX);
      await store.recordEpochs([report(upId, 3, { val_auc_macro: 0.7 })], MAX);
      expect((await store.getTrial(up.id, 0))?.value).toBe(0.8);
      // Overwriting the best epoch with a worse value recomputes the best over all epochs.
      await store.recordEpochs([report(upId, 2, { val_auc_macro: 0.6 })], MAX);
      expect((await store.getTrial(up.id, 0))?.value).toBe(0.7);

      const { study: down, trials: downTrials } = await studyWithTrials(2, 'minimize', 'val_loss');
      const [d0, d1] = [downTrials[0]!.id, downTrials[1]!.id];
      await store.recordEpochs(
        [
          report(d0, 1, { val_loss: 0.9, val_auc_macro: 0.9 }),
          report(d0, 2, { val_loss: 0.4, val_auc_macro: 0.1 }),
          report(d0, 3, { val_loss: Number.NaN }),
          report(d0, 4, { val_loss: Number.NEGATIVE_INFINITY }),
          report(d1, 1, { val_auc_macro: 0.99 }),
        ],
        MIN,
      );
      const listed = await store.listTrials(down.id);
      expect(listed[0]?.value).toBe(0.4);
      // A trial that never reported the objective has no value.
      expect(listed[1]?.value).toBeUndefined();
    });

    it('round-trips NaN and ±Infinity in metrics and layer statistics; a diverged trial does not break storage', async () => {
      const { study, trials } = await studyWithTrials(1, 'minimize', 'val_loss');
      const id = trials[0]!.id;
      const diverged: LayerStats = {
        layer: 'dense',
        trainable: true,
        mean: Number.NaN,
        std: Number.POSITIVE_INFINITY,
        quantiles: [Number.NEGATIVE_INFINITY, 0, Number.NaN],
      };
      await store.recordEpochs(
        [
          {
            trialId: id,
            epoch: 1,
            metrics: { val_loss: Number.NaN, train_loss: Number.POSITIVE_INFINITY, grad: Number.NEGATIVE_INFINITY, ok: 1 },
            layers: [diverged],
          },
          { trialId: id, epoch: 2, metrics: { val_loss: Number.POSITIVE_INFINITY }, layers: [], notes: { lossAtDivergence: Number.NaN } },
        ],
        MIN,
      );
      const trial = (await store.getTrial(study.id, 0))!;
      expect(trial.epochs[0]?.metrics).toEqual({
        val_loss: Number.NaN,
        train_loss: Number.POSITIVE_INFINITY,
        grad: Number.NEGATIVE_INFINITY,
        ok: 1,
      });
      expect(Number.isNaN(trial.epochs[0]?.metrics.val_loss)).toBe(true);
      expect(trial.epochs[0]?.layers).toEqual([diverged]);
      expect(trial.epochs[1]?.metrics.val_loss).toBe(Number.POSITIVE_INFINITY);
      // Non-finite numbers in free-form notes survive as their names rather than turning into null.
      expect(trial.epochs[1]?.notes).toEqual({ lossAtDivergence: 'NaN' });
      expect(trial.value).toBeUndefined();
      expect(await store.finishTrial(id, { state: 'failed', reason: 'diverged: val_loss is NaN' })).toBe(true);
    });

    it('refuses epochs of an unknown trial with an error naming it, and writes nothing of that batch', async () => {
      const { study, trials } = await studyWithTrials(1);
      const batch: EpochWrite[] = [
        { trialId: trials[0]!.id, epoch: 1, metrics: { val_auc_macro: 0.5 }, layers: layers(1) },
        { trialId: 'tr_notarealone', epoch: 1, metrics: { val_auc_macro: 0.5 }, layers: [] },
      ];
      await expect(store.recordEpochs(batch, MAX)).rejects.toThrow('tr_notarealone');
      expect((await store.getTrial(study.id, 0))?.epochs).toEqual([]);
    });

    it('upserts large batches (more rows than one statement carries) in one call', async () => {
      const { study, trials } = await studyWithTrials(4);
      const batch: EpochWrite[] = trials.flatMap((t, k) =>
        Array.from({ length: 400 }, (_, i) => ({
          trialId: t.id,
          epoch: i + 1,
          metrics: { val_auc_macro: (i + k) / 1000 },
          layers: layers(i + 1, 8),
        })),
      );
      // 1,600 epochs with 12,800 layer rows: more than one statement's worth of rows or bind parameters.
      await store.recordEpochs(batch, MAX);
      await store.recordEpochs(batch.slice(0, 100), MAX);
      const listed = await store.listTrials(study.id);
      expect(listed.map((t) => t.epochs.length)).toEqual([400, 400, 400, 400]);
      expect(listed.map((t) => t.value)).toEqual([0.399, 0.4, 0.401, 0.402]);
      expect(listed[3]?.epochs[399]?.layers).toEqual(layers(400, 8));
    });

    it('markRunning moves queued -> running, allows a new worker, and never touches a finished trial', async () => {
      const { study, trials } = await studyWithTrials(2);
      const [a, b] = [trials[0]!.id, trials[1]!.id];
      expect(await store.markRunning(a, 'worker-1')).toBe(true);
      const running = (await store.getTrial(study.id, 0))!;
      expect(running).toMatchObject({ state: 'running', worker: 'worker-1' });
      expect(running.startedAt).toBeInstanceOf(Date);
      expect(await store.markRunning(a, 'worker-1')).toBe(false);
      // Redelivered after worker-1 died: another worker takes it over.
      expect(await store.markRunning(a, 'worker-2')).toBe(true);
      expect(await store.getTrial(study.id, 0)).toMatchObject({ state: 'running', worker: 'worker-2' });

      expect(await store.finishTrial(b, { state: 'stopped', reason: 'stopped before start' })).toBe(true);
      expect(await store.markRunning(b, 'worker-3')).toBe(false);
      expect(await store.getTrial(study.id, 1)).toMatchObject({ state: 'stopped', reason: 'stopped before start' });
      expect((await store.getTrial(study.id, 1))?.worker).toBeUndefined();
      expect(await store.finishTrial(a, { state: 'completed' })).toBe(true);
      expect(await store.markRunning(a, 'worker-4')).toBe(false);
      expect(await store.getTrial(study.id, 0)).toMatchObject({ state: 'completed', worker: 'worker-2' });
    });

    it('finishTrial ends a trial once; the second call returns false and changes nothing', async () => {
      const { study, trials } = await studyWithTrials(3);
      const [a, b, c] = [trials[0]!.id, trials[1]!.id, trials[2]!.id];
      await store.markRunning(a, 'w');
      expect(await store.finishTrial(a, { state: 'completed', notes: { epochsRun: 10, backend: 'wasm' } })).toBe(true);
      const done = (await store.getTrial(study.id, 0))!;
      expect(done).toMatchObject({ state: 'completed', notes: { epochsRun: 10, backend: 'wasm' } });
      expect(done.reason).toBeUndefined();
      expect(done.finishedAt).toBeInstanceOf(Date);
      expect(await store.finishTrial(a, { state: 'failed', reason: 'late failure', notes: { x: 1 } })).toBe(false);
      expect(await store.getTrial(study.id, 0)).toEqual(done);

      // A reason set while the trial winds down is kept when the final report gives none...
      await store.markRunning(b, 'w');
      await store.setTrialReason(b, 'median rule: below median at epoch 3');
      expect(await store.getTrial(study.id, 1)).toMatchObject({ state: 'running', reason: 'median rule: below median at epoch 3' });
      expect(await store.finishTrial(b, { state: 'stopped' })).toBe(true);
      expect(await store.getTrial(study.id, 1)).toMatchObject({ state: 'stopped', reason: 'median rule: below median at epoch 3' });
      // ...and cannot be changed after the trial has ended.
      await store.setTrialReason(b, 'too late');
      expect((await store.getTrial(study.id, 1))?.reason).toBe('median rule: below median at epoch 3');

      // ...but a reason given at the end replaces it.
      await store.setTrialReason(c, 'asked to stop');
      expect(await store.finishTrial(c, { state: 'failed', reason: 'out of memory' })).toBe(true);
      expect(await store.getTrial(study.id, 2)).toMatchObject({ state: 'failed', reason: 'out of memory' });
    });

    it('markRunningMany and finishTrials apply the single-trial rules to a whole batch in one call', async () => {
      const { study, trials } = await studyWithTrials(4);
      const ids = trials.map((t) => t.id);
      expect(await store.finishTrials([{ trialId: ids[3]!, state: 'stopped', reason: 'stopped while queued' }])).toEqual([ids[3]]);
      const started = await store.markRunningMany(ids.map((trialId) => ({ trialId, worker: 'w1' })));
      expect(started.sort()).toEqual(ids.slice(0, 3).sort());
      expect(
        await store.markRunningMany([
          { trialId: ids[0]!, worker: 'w1' },
          { trialId: ids[1]!, worker: 'w2' },
        ]),
      ).toEqual([ids[1]]);
      await store.setTrialReason(ids[2]!, 'asha: not promoted at epoch 3');
      const finished = await store.finishTrials([
        { trialId: ids[0]!, state: 'completed', notes: { backend: 'wasm' } },
        { trialId: ids[0]!, state: 'failed', reason: 'a later duplicate loses' },
        { trialId: ids[2]!, state: 'stopped' },
        { trialId: ids[3]!, state: 'completed' },
      ]);
      expect(finished.sort()).toEqual([ids[0], ids[2]].sort());
      const after = await store.listTrials(study.id);
      expect(after.map((t) => [t.state, t.worker, t.reason])).toEqual([
        ['completed', 'w1', undefined],
        ['running', 'w2', undefined],
        ['stopped', 'w1', 'asha: not promoted at epoch 3'],
        ['stopped', undefined, 'stopped while queued'],
      ]);
      expect(after[0]?.notes).toEqual({ backend: 'wasm' });
      expect(await store.markRunningMany([])).toEqual([]);
      expect(await store.finishTrials([])).toEqual([]);
    });

    it('markQueuedMany puts running trials back in the queue without a worker; queued and finished ones stay', async () => {
      const { study, trials } = await studyWithTrials(3);
      const [a, b, c] = trials.map((t) => t.id) as [string, string, string];
      await store.markRunningMany([
        { trialId: a, worker: 'w1' },
        { trialId: c, worker: 'w2' },
      ]);
      await store.finishTrials([{ trialId: c, state: 'completed' }]);
      expect(await store.markQueuedMany([a, b, c, 'tr_unknown'])).toEqual([a]);
      expect((await store.listTrials(study.id)).map((t) => [t.state, t.worker])).toEqual([
        ['queued', undefined],
        ['queued', undefined],
        ['completed', 'w2'],
      ]);
      // Taken again by another worker: running there.
      expect(await store.markRunningMany([{ trialId: a, worker: 'w3' }])).toEqual([a]);
      expect(await store.markQueuedMany([])).toEqual([]);
    });

    it('beginAttempts starts a trial over on a later delivery: earlier epochs, layers and value go, once', async () => {
      const { study, trials } = await studyWithTrials(3);
      const [a, b, c] = trials.map((t) => t.id) as [string, string, string];
      expect(await store.beginAttempts([{ trialId: a, attempt: 1 }])).toEqual([{ trialId: a, attempt: 1, discarded: 0 }]);
      await store.markRunning(a, 'w1');
      await store.recordEpochs(
        [1, 2, 3].map((epoch) => ({ trialId: a, epoch, metrics: { val_auc_macro: 0.6 + epoch / 100 }, layers: layers(epoch) })),
        MAX,
      );
      await store.recordEpochs([{ trialId: b, epoch: 1, metrics: { val_auc_macro: 0.7 }, layers: [] }], MAX);
      await store.finishTrial(c, { state: 'stopped' });
      // The same delivery again: nothing moves, and the store says where it is; a finished trial is left out.
      expect(await store.beginAttempts([{ trialId: a, attempt: 1 }])).toEqual([{ trialId: a, attempt: 1, discarded: 0 }]);
      expect(await store.beginAttempts([{ trialId: c, attempt: 2 }])).toEqual([]);
      expect((await store.getTrial(study.id, 0))?.epochs).toHaveLength(3);

      const firstStart = (await store.getTrial(study.id, 0))?.startedAt as Date;
      await new Promise((r) => setTimeout(r, 20));
      const moved = await store.beginAttempts([
        { trialId: a, attempt: 2 },
        { trialId: a, attempt: 3 },
      ]);
      expect(moved).toEqual([{ trialId: a, attempt: 3, discarded: 3 }]);
      const restarted = await store.getTrial(study.id, 0);
      expect(restarted).toMatchObject({ attempt: 3, state: 'running', epochs: [] });
      // The new delivery's run starts now.
      expect(restarted?.startedAt?.getTime()).toBeGreaterThan(firstStart.getTime());
      expect(restarted?.value).toBeUndefined();
      expect(await store.beginAttempts([{ trialId: a, attempt: 2 }])).toEqual([{ trialId: a, attempt: 3, discarded: 0 }]);
      // The new delivery's epochs are stored as usual, layers included (the old layer rows are gone).
      await store.recordEpochs([{ trialId: a, epoch: 1, metrics: { val_auc_macro: 0.55 }, layers: layers(1) }], MAX);
      const after = await store.getTrial(study.id, 0);
      expect(after?.epochs.map((e) => [e.epoch, e.layers.length])).toEqual([[1, 3]]);
      expect(after?.value).toBe(0.55);
      // The other trial was not touched, and a bad attempt is refused.
      expect((await store.getTrial(study.id, 1))?.value).toBe(0.7);
      await expect(store.beginAttempts([{ trialId: b, attempt: 0 }])).rejects.toThrow(/attempt must be a positive integer/);
      expect(await store.beginAttempts([])).toEqual([]);
    });

    it('listStudies gives counts per state and the best value in the study direction, failed trials aside', async () => {
      const { study: up, trials: upTrials } = await studyWithTrials(5, 'maximize');
      const { study: down, trials: downTrials } = await studyWithTrials(3, 'minimize', 'val_loss');
      const { study: empty } = await studyWithTrials(0);
      const ids = upTrials.map((t) => t.id);
      await store.recordEpochs(
        // The 0.95 is reported by a trial that then fails: not the study's best.
        ids.slice(0, 4).map((trialId, i) => ({ trialId, epoch: 1, metrics: { val_auc_macro: [0.7, 0.9, 0.8, 0.95][i]! }, layers: [] })),
        MAX,
      );
      await store.markRunning(ids[0]!, 'w');
      await store.markRunning(ids[1]!, 'w');
      await store.finishTrial(ids[1]!, { state: 'completed' });
      await store.finishTrial(ids[2]!, { state: 'stopped' });
      await store.finishTrial(ids[3]!, { state: 'failed' });
      const dIds = downTrials.map((t) => t.id);
      await store.recordEpochs(
        dIds.map((trialId, i) => ({ trialId, epoch: 1, metrics: { val_loss: [0.5, 0.2, Number.NaN][i]! }, layers: [] })),
        MIN,
      );

      const summaries = await store.listStudies();
      const byId = new Map(summaries.map((s) => [s.id, s]));
      expect(byId.get(up.id)).toMatchObject({
        name: up.name,
        state: 'running',
        best: 0.9,
        counts: { queued: 1, running: 1, completed: 1, stopped: 1, failed: 1 },
      });
      expect(byId.get(down.id)).toMatchObject({ best: 0.2, counts: { queued: 3, running: 0, completed: 0, stopped: 0, failed: 0 } });
      expect(byId.get(empty.id)).toMatchObject({ counts: { queued: 0, running: 0, completed: 0, stopped: 0, failed: 0 } });
      expect(byId.get(empty.id)?.best).toBeUndefined();
      expect(byId.get(up.id)?.spec).toEqual(up.spec);
    });

    it('listStudies pages oldest first, with the page counts and bests alone; countStudies counts them all', async () => {
      const before = await store.countStudies();
      const made = [];
      for (let i = 0; i < 3; i++) made.push(await studyWithTrials(1));
      await store.recordEpochs([{ trialId: made[1]!.trials[0]!.id, epoch: 1, metrics: { val_auc_macro: 0.8 }, layers: [] }], MAX);
      expect(await store.countStudies()).toBe(before + 3);
      const all = await store.listStudies();
      expect(all.slice(before).map((s) => s.id)).toEqual(made.map((m) => m.study.id));
      const page = await store.listStudies({ limit: 2, offset: before + 1 });
      expect(page.map((s) => s.id)).toEqual([made[1]!.study.id, made[2]!.study.id]);
      expect(page[0]).toMatchObject({ best: 0.8, counts: { queued: 1 } });
      expect(page[1]?.best).toBeUndefined();
      expect(await store.listStudies({ offset: before + 3 })).toEqual([]);
      expect(await store.listStudies({ limit: 0 })).toEqual([]);
    });

    it('keeps studies, trials and epochs across close and reopen', async () => {
      const { study, trials } = await studyWithTrials(2);
      await store.recordEpochs([{ trialId: trials[0]!.id, epoch: 1, metrics: { val_auc_macro: 0.75 }, layers: layers(1) }], MAX);
      await store.finishTrial(trials[1]!.id, { state: 'failed', reason: 'oom' });
      const before = await store.listTrials(study.id);
      await store.close();
      store = await open();
      expect(await store.getStudy(study.id)).toEqual(study);
      expect(await store.listTrials(study.id)).toEqual(before);
      const more = await store.createTrials(study.id, [{ params: { learning_rate: 0.5 } }]);
      expect(more[0]?.number).toBe(2);
    });
  });
}
