import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EpochRecord, LayerStats } from '@sweepd/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TensorBoardCollector } from './collector.ts';
import { EventDecoder } from './event-decoder.ts';
import { EVENT_TYPE } from './proto.ts';
import { EXPECTED, FIXTURES_DIR, type FixtureSet, fixtureFiles, tfRecord } from './fixtures.ts';
import { nonFiniteHistogram } from './histogram.ts';
import { histogramStats } from './histogram-stats.ts';
import { RecordFileReader, TfRecordError } from './record-reader.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sweepd-tb-collector-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** What the fixture script wrote for a tag at a step, as float32 (the precision summaries store). */
function written(set: FixtureSet, tag: string, step: number): number {
  const w = EXPECTED[set].written.find((e) => e.tag === tag && e.step === step && e.value !== undefined);
  if (!w) throw new Error(`no written value for ${tag}@${step} in ${set}`);
  return Math.fround(w.value!);
}

/** A scalar as TensorBoard's Python reader decoded it from the fixture (for values TensorFlow computed itself). */
function decoded(set: FixtureSet, tag: string, step: number): number {
  const d = EXPECTED[set].decoded.find((e) => e.tag === tag && e.step === step && e.simpleValue !== undefined);
  if (!d) throw new Error(`no decoded value for ${tag}@${step} in ${set}`);
  return d.simpleValue!;
}

function layer(record: EpochRecord, name: string): LayerStats {
  const found = record.layers.find((l) => l.layer === name);
  if (!found) throw new Error(`epoch ${record.epoch} has no layer ${name} (has ${record.layers.map((l) => l.layer).join(', ')})`);
  return found;
}

/** The kernel histogram statistics of a fixture tag at a step, computed straight from the decoded file. */
async function statsOf(set: FixtureSet, file: string, tag: string, step: number) {
  const path = join(FIXTURES_DIR, set, file);
  const decoder = new EventDecoder(path);
  for (const r of await new RecordFileReader(path).readNew()) {
    for (const p of decoder.decode(r.data, r.offset))
      if (p.kind === 'histogram' && p.tag === tag && p.step === step) return histogramStats(p.histogram);
  }
  throw new Error(`no histogram ${tag}@${step}`);
}

/** TFRecord-framed Event records: a scalar (`value`) or a histogram of two buckets between `histogram`'s limits. */
function eventRecords(points: ReadonlyArray<{ step: number; tag: string; value?: number; histogram?: [number, number] }>): Buffer {
  return Buffer.concat(
    points.map(({ step, tag, value, histogram }) => {
      const summaryValue =
        histogram === undefined
          ? { tag, simple_value: value }
          : {
              tag,
              histo: {
                min: histogram[0],
                max: histogram[1],
                num: 4,
                sum: 0,
                sum_squares: 0.1,
                bucket_limit: [0, histogram[1]],
                bucket: [2, 2],
              },
            };
      return tfRecord(EVENT_TYPE.encode(EVENT_TYPE.fromObject({ wall_time: 1, step, summary: { value: [summaryValue] } })).finish());
    }),
  );
}

const TF1_TAGS = { 'eval/eval/AUC': 'auc', 'train/losses/total_loss': 'loss' };

describe('TensorBoardCollector on TF-slim-style TF1 event files (train/ and eval/)', () => {
  it('with stepsPerEpoch, emits an epoch once a later step is seen and the last one at finish', async () => {
    const collector = new TensorBoardCollector({ dir: join(FIXTURES_DIR, 'tf1'), tags: TF1_TAGS, stepsPerEpoch: 10 });
    const polled = await collector.poll();
    // Steps 5..30: epochs 1 (5, 10), 2 (15, 20), 3 (25, 30); nothing after step 30 yet, so epoch 3 waits for finish().
    expect(polled.map((e) => e.epoch)).toEqual([1, 2]);
    expect(await collector.poll()).toEqual([]);
    const rest = await collector.finish();
    expect(rest.map((e) => e.epoch)).toEqual([3]);
    const epochs = [...polled, ...rest];
    for (const e of epochs) {
      const step = e.epoch * 10; // the latest step in each epoch wins
      expect(e.metrics).toEqual({ loss: written('tf1', 'losses/total_loss', step), auc: written('tf1', 'eval/AUC', step) });
      // `trainable` is read off the histograms, and the notes say so (the diagnosis reads it).
      expect(e.notes).toMatchObject({ tensorboard: { steps: [step - 5, step], trainableInferred: true } });
      const train = fixtureFiles('tf1').find((f) => f.startsWith('train/'))!;
      const conv = layer(e, 'InceptionV4/Conv2d_1a_3x3');
      expect(conv).toEqual({
        layer: 'InceptionV4/Conv2d_1a_3x3',
        trainable: true,
        ...(await statsOf('tf1', train, 'InceptionV4/Conv2d_1a_3x3/weights', step)),
        // sparsity/Conv2d_1a_3x3 names the end point; the only kernel layer ending in it is this one.
        sparsity: decoded('tf1', 'sparsity/Conv2d_1a_3x3', step),
      });
      const truth = EXPECTED.tf1.written.find((w) => w.tag === 'InceptionV4/Conv2d_1a_3x3/weights' && w.step === step)!.histogram!;
      expect(conv.mean!).toBeCloseTo(truth.mean, 9);
      expect(conv.std!).toBeCloseTo(truth.std, 6);
      expect(layer(e, 'InceptionV4/Logits/Logits').trainable).toBe(true);
      // The frozen layer's histogram never changes: not trainable, as far as the events show.
      expect(layer(e, 'InceptionV4/Mixed_5b/Branch_0/Conv2d_0a_1x1').trainable).toBe(false);
      // Mixed_5b is a block of many layers: its zero fraction stays under its own name.
      expect(layer(e, 'Mixed_5b')).toEqual({ layer: 'Mixed_5b', trainable: true, sparsity: decoded('tf1', 'sparsity/Mixed_5b', step) });
      expect(e.layers.some((l) => l.kernelMovement !== undefined || l.updateRatio !== undefined)).toBe(false);
    }
    // Everything the collector could not use is named once, in the first epoch.
    expect((epochs[0]!.notes!.tensorboard as { unmappedTags: string[] }).unmappedTags.sort()).toEqual([
      'train/InceptionV4/Conv2d_1a_3x3/BatchNorm/beta (histogram)',
      'train/InceptionV4/Logits/Logits/biases (histogram)',
      'train/activations/Conv2d_1a_3x3 (histogram)',
      'train/learning_rate (scalar)',
    ]);
    expect(epochs[1]!.notes!.tensorboard).not.toHaveProperty('unmappedTags');
    expect(await collector.finish()).toEqual([]);
    expect(await collector.poll()).toEqual([]);
  });

  it('without stepsPerEpoch, each step of the first mapped metric ends an epoch and the steps before it belong to it', async () => {
    const collector = new TensorBoardCollector({ dir: join(FIXTURES_DIR, 'tf1'), tags: TF1_TAGS });
    const polled = await collector.poll();
    // Each epoch spans training steps before its evaluation, which may still be on their way: the
    // last one waits for a later step (here, finish()).
    expect(polled.map((e) => e.epoch)).toEqual([1, 2]);
    const epochs = [...polled, ...(await collector.finish())];
    // eval/AUC is written at steps 10, 20, 30: three epochs, each taking the train steps up to it.
    expect(epochs.map((e) => [e.epoch, (e.notes!.tensorboard as { steps: number[] }).steps])).toEqual([
      [1, [5, 10]],
      [2, [15, 20]],
      [3, [25, 30]],
    ]);
    expect(epochs[2]!.metrics).toEqual({ loss: written('tf1', 'losses/total_loss', 30), auc: written('tf1', 'eval/AUC', 30) });
  });

  it('follows files as they are written: a partial record waits, a new subdirectory is picked up, late values are noted', async () => {
    const [evalFile, trainFile] = fixtureFiles('tf1') as [string, string];
    const trainBytes = readFileSync(join(FIXTURES_DIR, 'tf1', trainFile));
    // Where the step-20 event starts in the train file.
    const decoder = new EventDecoder(trainFile);
    const records = await new RecordFileReader(join(FIXTURES_DIR, 'tf1', trainFile)).readNew();
    const step20 = records.find((r) => decoder.decode(r.data, r.offset).some((p) => p.step === 20))!.offset;
    mkdirSync(join(dir, 'train'));
    const trainPath = join(dir, trainFile);
    writeFileSync(trainPath, trainBytes.subarray(0, step20 + 40)); // steps 5, 10, 15 and the start of 20
    const logs: string[] = [];
    const problems: string[] = [];
    const collector = new TensorBoardCollector({
      dir,
      tags: TF1_TAGS,
      stepsPerEpoch: 10,
      log: (m) => logs.push(m),
      onProblem: (p) => problems.push(p),
    });
    const first = await collector.poll();
    expect(first.map((e) => e.epoch)).toEqual([1]);
    expect(first[0]!.metrics).toEqual({ loss: written('tf1', 'losses/total_loss', 10) }); // eval/ not written yet
    // The rest of the train file, and eval/ appears with AUC at steps 10, 20, 30.
    writeFileSync(trainPath, trainBytes);
    cpSync(join(FIXTURES_DIR, 'tf1', 'eval'), join(dir, 'eval'), { recursive: true });
    const second = await collector.poll();
    expect(second.map((e) => e.epoch)).toEqual([2]);
    expect(second[0]!.metrics).toEqual({ loss: written('tf1', 'losses/total_loss', 20), auc: written('tf1', 'eval/AUC', 20) });
    expect(second[0]!.notes!.tensorboard).toMatchObject({ lateValues: { 'eval/eval/AUC': 1 } });
    expect(logs.some((m) => m.includes('already reported') && m.includes('eval/eval/AUC'))).toBe(true);
    expect(logs.some((m) => m.includes(join(dir, evalFile)))).toBe(true);
    // The first dropped value is told once, as a refused report, not only in the log and the notes.
    expect(problems).toEqual([
      "a value of 'eval/eval/AUC' arrived for a step already read and was dropped (later ones are counted in the notes): a writer that starts its steps again (a second Keras fit() without initial_epoch, say) is not read as new epochs, and a value flushed after a later epoch of the other files had been read comes too late",
    ]);
    const last = await collector.finish();
    expect(last.map((e) => [e.epoch, e.metrics.auc])).toEqual([[3, written('tf1', 'eval/AUC', 30)]]);
  });

  it('without stepsPerEpoch, drops the steps after the last epoch-metric value at finish and says so', async () => {
    const evalFile = fixtureFiles('tf1').find((f) => f.startsWith('eval/'))!;
    const evalBytes = readFileSync(join(FIXTURES_DIR, 'tf1', evalFile));
    const records = await new RecordFileReader(join(FIXTURES_DIR, 'tf1', evalFile)).readNew();
    cpSync(join(FIXTURES_DIR, 'tf1', 'train'), join(dir, 'train'), { recursive: true });
    mkdirSync(join(dir, 'eval'));
    // The eval file up to its step-20 AUC: the train steps 25 and 30 end no epoch.
    writeFileSync(join(dir, evalFile), evalBytes.subarray(0, records[records.length - 1]!.offset));
    const logs: string[] = [];
    const collector = new TensorBoardCollector({ dir, tags: TF1_TAGS, log: (m) => logs.push(m) });
    const epochs = [...(await collector.poll()), ...(await collector.finish())];
    expect(epochs.map((e) => [e.epoch, e.metrics.auc])).toEqual([
      [1, written('tf1', 'eval/AUC', 10)],
      [2, written('tf1', 'eval/AUC', 20)],
    ]);
    expect(logs).toContain("tensorboard: 2 step(s) after the last 'auc' value (steps 25–30) end no epoch and were dropped");
  });

  it("with stepsPerEpoch, a stopped writer's last epoch is dropped when it lacks a metric the epoch before held", async () => {
    // Epochs of 10 steps: loss every 5 steps, eval/AUC at each epoch's end. The script was stopped at step 25.
    mkdirSync(join(dir, 'train'));
    mkdirSync(join(dir, 'eval'));
    const loss = [5, 10, 15, 20, 25].map((step) => ({ step, tag: 'losses/total_loss', value: 1 / step }));
    writeFileSync(join(dir, 'train', 'events.out.tfevents.1.host'), eventRecords(loss));
    writeFileSync(
      join(dir, 'eval', 'events.out.tfevents.1.host'),
      eventRecords([10, 20].map((step) => ({ step, tag: 'eval/AUC', value: 0.6 + step / 100 }))),
    );
    const logged: string[] = [];
    const stopped = new TensorBoardCollector({ dir, tags: TF1_TAGS, stepsPerEpoch: 10, log: (m) => logged.push(m) });
    const epochs = [...(await stopped.poll()), ...(await stopped.finish({ cutShort: true }))];
    expect(epochs.map((e) => [e.epoch, Object.keys(e.metrics).sort()])).toEqual([
      [1, ['auc', 'loss']],
      [2, ['auc', 'loss']],
    ]);
    expect(logged).toContain(
      "tensorboard: epoch 3 (steps 25–25) was cut short (the script was stopped or failed) and is not reported: it lacks 'auc', which every earlier epoch held",
    );
    // A writer that ended on its own wrote what it meant to: its last epoch is kept as it is.
    const ended = new TensorBoardCollector({ dir, tags: TF1_TAGS, stepsPerEpoch: 10 });
    expect([...(await ended.poll()), ...(await ended.finish())].map((e) => e.epoch)).toEqual([1, 2, 3]);
    // Cut short after a whole epoch: nothing is missing, so it is kept.
    appendFileSync(join(dir, 'eval', 'events.out.tfevents.1.host'), eventRecords([{ step: 30, tag: 'eval/AUC', value: 0.9 }]));
    const whole = new TensorBoardCollector({ dir, tags: TF1_TAGS, stepsPerEpoch: 10 });
    expect([...(await whole.poll()), ...(await whole.finish({ cutShort: true }))].map((e) => e.epoch)).toEqual([1, 2, 3]);
  });

  it("with stepsPerEpoch and an evaluation every other epoch, a stopped writer's fragment is told by how far its steps reach", async () => {
    mkdirSync(join(dir, 'train'));
    mkdirSync(join(dir, 'eval'));
    const train = join(dir, 'train', 'events.out.tfevents.1.host');
    const evaluation = join(dir, 'eval', 'events.out.tfevents.1.host');
    const losses = (steps: number[]) => eventRecords(steps.map((step) => ({ step, tag: 'losses/total_loss', value: 1 / step })));
    writeFileSync(train, losses([5, 10, 15, 20, 25, 30, 35, 40, 45, 50]));
    writeFileSync(evaluation, eventRecords([20, 40].map((step) => ({ step, tag: 'eval/AUC', value: 0.5 + step / 100 }))));
    const epochsOf = async (cutShort: boolean) => {
      const collector = new TensorBoardCollector({ dir, tags: TF1_TAGS, stepsPerEpoch: 10 });
      return [...(await collector.poll()), ...(await collector.finish({ cutShort }))].map((e) => e.epoch);
    };
    // Whole to step 50, then a failed exit (or a stop after the last step): epoch 5 has no evaluation, as epochs 1 and 3 had none.
    expect(await epochsOf(true)).toEqual([1, 2, 3, 4, 5]);
    // Stopped at step 55: epoch 6 reaches 5 of its 10 steps, where every earlier epoch reached 10.
    appendFileSync(train, losses([55]));
    const logged: string[] = [];
    const stopped = new TensorBoardCollector({ dir, tags: TF1_TAGS, stepsPerEpoch: 10, log: (m) => logged.push(m) });
    expect([...(await stopped.poll()), ...(await stopped.finish({ cutShort: true }))].map((e) => e.epoch)).toEqual([1, 2, 3, 4, 5]);
    expect(logged).toContain(
      'tensorboard: epoch 6 (steps 55–55) was cut short (the script was stopped or failed) and is not reported: its last step is 5 of 10 into the epoch, where every earlier epoch reached 10',
    );
    expect(await epochsOf(false)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('fails the poll on a corrupt record, naming the file and offset', async () => {
    const trainFile = fixtureFiles('tf1').find((f) => f.startsWith('train/'))!;
    const bytes = Buffer.from(readFileSync(join(FIXTURES_DIR, 'tf1', trainFile)));
    bytes[bytes.length - 10]! ^= 0xff;
    mkdirSync(join(dir, 'train'));
    writeFileSync(join(dir, trainFile), bytes);
    const collector = new TensorBoardCollector({ dir, tags: TF1_TAGS, stepsPerEpoch: 10 });
    const error = await collector.poll().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TfRecordError);
    expect(String(error)).toContain(join(dir, trainFile));
    expect(String(error)).toMatch(/data checksum mismatch.*byte offset \d+/);
  });

  it('with onProblem: a record cut short when the writer stopped is told at finish, naming the file', async () => {
    for (const f of fixtureFiles('tf1')) {
      mkdirSync(join(dir, f, '..'), { recursive: true });
      cpSync(join(FIXTURES_DIR, 'tf1', f), join(dir, f));
    }
    const evalFile = join(dir, fixtureFiles('tf1').find((f) => f.startsWith('eval/'))!);
    const bytes = readFileSync(evalFile);
    writeFileSync(evalFile, bytes.subarray(0, bytes.length - 10));
    const problems: string[] = [];
    const collector = new TensorBoardCollector({ dir, tags: TF1_TAGS, stepsPerEpoch: 10, onProblem: (p) => problems.push(p) });
    await collector.poll();
    expect(problems).toEqual([]); // while the script runs, the record may still be completed
    await collector.finish();
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/eval.*: the last \d+ bytes are an incomplete record \(cut short when the writer stopped\), lost/);
  });

  it('with onProblem: a corrupt file is told once and left, and the files sorted after it are still read', async () => {
    for (const f of fixtureFiles('tf1')) {
      mkdirSync(join(dir, f, '..'), { recursive: true });
      cpSync(join(FIXTURES_DIR, 'tf1', f), join(dir, f));
    }
    const expected = await new TensorBoardCollector({ dir, tags: TF1_TAGS, stepsPerEpoch: 10 }).finish();
    expect(expected.length).toBeGreaterThan(0);
    // An old run's damaged file, sorted before train/ and eval/.
    const bytes = Buffer.from(readFileSync(join(FIXTURES_DIR, 'tf1', fixtureFiles('tf1').find((f) => f.startsWith('train/'))!)));
    bytes[20]! ^= 0xff;
    mkdirSync(join(dir, 'a'));
    writeFileSync(join(dir, 'a', 'events.out.tfevents.1.old'), bytes);
    const problems: string[] = [];
    const collector = new TensorBoardCollector({ dir, tags: TF1_TAGS, stepsPerEpoch: 10, onProblem: (p) => problems.push(p) });
    const epochs = [...(await collector.poll()), ...(await collector.poll()), ...(await collector.finish())];
    expect(epochs.map((e) => [e.epoch, e.metrics])).toEqual(expected.map((e) => [e.epoch, e.metrics]));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(join(dir, 'a', 'events.out.tfevents.1.old'));
    expect(problems[0]).toMatch(/checksum mismatch.*byte offset \d+/);
  });
});

describe('TensorBoardCollector on Keras-style TF2 and torch event files', () => {
  it('TF2 train/ and validation/: epoch-indexed steps, each an epoch of the validation metric', async () => {
    const collector = new TensorBoardCollector({
      dir: join(FIXTURES_DIR, 'tf2'),
      tags: { 'validation/epoch_auc': 'val_auc', 'train/epoch_loss': 'loss', 'validation/epoch_loss': 'val_loss' },
    });
    const polled = await collector.poll();
    // Every epoch is one step holding what the first held: the last is complete without a later step.
    expect(polled.map((e) => e.epoch)).toEqual([1, 2, 3]);
    const epochs = [...polled, ...(await collector.finish())];
    expect(epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
    for (const e of epochs) {
      const step = e.epoch - 1;
      expect(e.metrics).toEqual({
        loss: written('tf2', 'epoch_loss', step),
        val_loss: Math.fround(
          EXPECTED.tf2.written.find((w) => w.file === 'validation' && w.tag === 'epoch_loss' && w.step === step)!.value!,
        ),
        val_auc: written('tf2', 'epoch_auc', step),
      });
      const dense = layer(e, 'dense');
      const truth = EXPECTED.tf2.written.find((w) => w.tag === 'dense/kernel' && w.step === step)!.histogram!;
      expect(Math.abs(dense.mean! - truth.mean)).toBeLessThan(0.005); // 30 buckets over about ±0.15
      expect(Math.abs(dense.std! - truth.std)).toBeLessThan(0.005);
    }
  });

  it('steps_per_epoch 1 on Keras files (step = 0-based epoch): told that steps 0 and 1 share epoch 1', async () => {
    const problems: string[] = [];
    const collector = new TensorBoardCollector({
      dir: join(FIXTURES_DIR, 'tf2'),
      tags: { 'validation/epoch_auc': 'val_auc', 'train/epoch_loss': 'loss' },
      stepsPerEpoch: 1,
      onProblem: (p) => problems.push(p),
    });
    const epochs = [...(await collector.poll()), ...(await collector.finish())];
    // Three Keras epochs read as two: the first one's values were overwritten.
    expect(epochs.map((e) => e.epoch)).toEqual([1, 2]);
    expect(problems).toEqual([
      expect.stringMatching(
        /^'(validation\/epoch_auc|train\/epoch_loss)' has a value at step 0, which steps_per_epoch 1 puts in epoch 1 with step 1's .*leave steps_per_epoch out/,
      ),
    ]);
  });

  it("Keras 3: validation's evaluation_*_vs_iterations at iteration steps do not complete an epoch before its histograms are read", async () => {
    // Keras writes evaluation_auc_vs_iterations at step 24 (its optimizer iterations) when validation
    // ends, before on_epoch_end writes epoch 0's epoch_* scalars and histograms.
    const train = join(dir, 'train', 'events.out.tfevents.1.host');
    const validation = join(dir, 'validation', 'events.out.tfevents.1.host');
    mkdirSync(join(dir, 'train'));
    mkdirSync(join(dir, 'validation'));
    writeFileSync(train, '');
    writeFileSync(validation, eventRecords([{ step: 24, tag: 'evaluation_auc_vs_iterations', value: 0.7 }]));
    const problems: string[] = [];
    const collector = new TensorBoardCollector({
      dir,
      tags: { 'validation/epoch_auc': 'val_auc', 'train/epoch_loss': 'loss' },
      onProblem: (p) => problems.push(p),
    });
    expect(await collector.poll()).toEqual([]);
    // Epoch 0's validation value is flushed; the train writer has not flushed its histogram yet.
    appendFileSync(validation, eventRecords([{ step: 0, tag: 'epoch_auc', value: 0.71 }]));
    expect(await collector.poll()).toEqual([]);
    appendFileSync(
      train,
      eventRecords([
        { step: 0, tag: 'epoch_loss', value: 0.6 },
        { step: 0, tag: 'conv1/kernel/histogram', histogram: [-0.1, 0.1] },
        { step: 1, tag: 'epoch_loss', value: 0.5 },
        { step: 1, tag: 'conv1/kernel/histogram', histogram: [-0.2, 0.2] },
      ]),
    );
    appendFileSync(
      validation,
      eventRecords([
        { step: 48, tag: 'evaluation_auc_vs_iterations', value: 0.8 },
        { step: 1, tag: 'epoch_auc', value: 0.8 },
      ]),
    );
    const epochs = [...(await collector.poll()), ...(await collector.finish())];
    expect(epochs.map((e) => [e.epoch, e.metrics, e.layers.map((l) => l.layer)])).toEqual([
      [1, { val_auc: Math.fround(0.71), loss: Math.fround(0.6) }, ['conv1']],
      [2, { val_auc: Math.fround(0.8), loss: Math.fround(0.5) }, ['conv1']],
    ]);
    expect(problems).toEqual([]);
  });

  it('Keras: an epoch is reported as soon as its step holds what the epochs before held, not one epoch late', async () => {
    const train = join(dir, 'train', 'events.out.tfevents.1.host');
    const validation = join(dir, 'validation', 'events.out.tfevents.1.host');
    mkdirSync(join(dir, 'train'));
    mkdirSync(join(dir, 'validation'));
    const epochEnd = (step: number, { histogram = true } = {}) => {
      appendFileSync(
        train,
        eventRecords([
          { step, tag: 'epoch_loss', value: 1 - step / 10 },
          ...(histogram ? [{ step, tag: 'conv1/kernel/histogram', histogram: [-0.1 - step / 10, 0.1] as [number, number] }] : []),
        ]),
      );
      appendFileSync(validation, eventRecords([{ step, tag: 'epoch_auc', value: 0.6 + step / 10 }]));
    };
    const problems: string[] = [];
    const collector = new TensorBoardCollector({
      dir,
      tags: { 'validation/epoch_auc': 'val_auc', 'train/epoch_loss': 'loss' },
      onProblem: (p) => problems.push(p),
    });
    const epochsOf = async () => (await collector.poll()).map((e) => [e.epoch, e.metrics.val_auc, e.layers.map((l) => l.layer)]);
    epochEnd(0);
    // The first epoch has nothing to be measured against: it waits for a later step.
    expect(await epochsOf()).toEqual([]);
    epochEnd(1);
    expect(await epochsOf()).toEqual([
      [1, Math.fround(0.6), ['conv1']],
      [2, Math.fround(0.7), ['conv1']],
    ]);
    // Epoch 3's histogram is not flushed yet: it waits for it rather than dropping it as late.
    epochEnd(2, { histogram: false });
    expect(await epochsOf()).toEqual([]);
    appendFileSync(train, eventRecords([{ step: 2, tag: 'conv1/kernel/histogram', histogram: [-0.3, 0.1] }]));
    expect(await epochsOf()).toEqual([[3, Math.fround(0.8), ['conv1']]]);
    expect(await collector.finish()).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('TF-slim-style, an evaluation before training: epochs wait for the training values between evaluations', async () => {
    // eval@0 alone (the untrained checkpoint), then eval@10 flushed before the train file's steps 5 and 10.
    const train = join(dir, 'train', 'events.out.tfevents.1.host');
    const evaluation = join(dir, 'eval', 'events.out.tfevents.1.host');
    mkdirSync(join(dir, 'train'));
    mkdirSync(join(dir, 'eval'));
    const problems: string[] = [];
    const collector = new TensorBoardCollector({
      dir,
      tags: { 'eval/AUC': 'val_auc', 'train/loss': 'train_loss' },
      onProblem: (p) => problems.push(p),
    });
    const epochsOf = async () => (await collector.poll()).map((e) => [e.epoch, e.metrics]);
    writeFileSync(evaluation, eventRecords([{ step: 0, tag: 'AUC', value: 0.5 }]));
    expect(await epochsOf()).toEqual([]);
    appendFileSync(evaluation, eventRecords([{ step: 10, tag: 'AUC', value: 0.6 }]));
    // Epoch 1 is complete (a later step came); epoch 2 is not known to be: train_loss never came at an evaluation step.
    expect(await epochsOf()).toEqual([[1, { val_auc: 0.5 }]]);
    writeFileSync(
      train,
      eventRecords([
        { step: 5, tag: 'loss', value: 0.9 },
        { step: 10, tag: 'loss', value: 0.8 },
      ]),
    );
    appendFileSync(evaluation, eventRecords([{ step: 20, tag: 'AUC', value: 0.7 }]));
    appendFileSync(train, eventRecords([{ step: 20, tag: 'loss', value: 0.7 }]));
    expect(await epochsOf()).toEqual([[2, { val_auc: Math.fround(0.6), train_loss: Math.fround(0.8) }]]);
    expect((await collector.finish()).map((e) => [e.epoch, e.metrics])).toEqual([
      [3, { val_auc: Math.fround(0.7), train_loss: Math.fround(0.7) }],
    ]);
    expect(problems).toEqual([]);
  });

  it('an epoch is not reported early while another event file has not reached its step (or holds nothing yet)', async () => {
    // TF-slim's train writer has made its file, with no summary in it yet, when eval@0 and eval@10 come.
    const train = join(dir, 'train', 'events.out.tfevents.1.host');
    const evaluation = join(dir, 'eval', 'events.out.tfevents.1.host');
    mkdirSync(join(dir, 'train'));
    mkdirSync(join(dir, 'eval'));
    writeFileSync(train, '');
    writeFileSync(evaluation, eventRecords([{ step: 0, tag: 'AUC', value: 0.5 }]));
    const collector = new TensorBoardCollector({ dir, tags: { 'eval/AUC': 'val_auc' } });
    expect(await collector.poll()).toEqual([]);
    appendFileSync(evaluation, eventRecords([{ step: 10, tag: 'AUC', value: 0.6 }]));
    expect((await collector.poll()).map((e) => e.epoch)).toEqual([1]);
    appendFileSync(
      train,
      eventRecords([
        { step: 5, tag: 'TinyNet/conv1/weights', histogram: [-0.1, 0.1] },
        { step: 10, tag: 'TinyNet/conv1/weights', histogram: [-0.2, 0.1] },
      ]),
    );
    appendFileSync(evaluation, eventRecords([{ step: 20, tag: 'AUC', value: 0.7 }]));
    const [second] = await collector.poll();
    expect([second?.epoch, second?.layers.map((l) => l.layer), second?.notes]).toEqual([
      2,
      ['TinyNet/conv1'],
      { tensorboard: { steps: [5, 10], trainableInferred: true } },
    ]);
  });

  it('weights gone NaN: the epoch is flagged diverged, naming the layer, as a report line with NaN statistics is', async () => {
    mkdirSync(join(dir, 'train'));
    writeFileSync(
      join(dir, 'train', 'events.out.tfevents.1.host'),
      eventRecords([
        { step: 0, tag: 'epoch_loss', value: 0.6 },
        { step: 0, tag: 'conv1/kernel/histogram', histogram: [-0.1, 0.1] },
        { step: 0, tag: 'head/kernel/histogram', histogram: [-0.1, 0.1] },
        { step: 1, tag: 'epoch_loss', value: 0.7 },
        { step: 1, tag: 'conv1/kernel/histogram', histogram: [Number.NaN, Number.NaN] },
        { step: 1, tag: 'head/kernel/histogram', histogram: [-0.2, 0.2] },
      ]),
    );
    const collector = new TensorBoardCollector({ dir, tags: { 'train/epoch_loss': 'loss' } });
    const epochs = [...(await collector.poll()), ...(await collector.finish())];
    expect(epochs.map((e) => e.notes)).toEqual([
      { tensorboard: expect.anything() },
      { tensorboard: expect.anything(), diverged: true, non_finite_layers: ['conv1'] },
    ]);
    expect(epochs[1]!.layers.find((l) => l.layer === 'conv1')).toEqual({ layer: 'conv1', trainable: true });
    // TF2's histogram tensor of NaN weights: NaN edges with zero counts; of infinite ones, infinite edges.
    expect(
      nonFiniteHistogram({ rows: [Number.NaN, Number.NaN, 0, Number.NaN, Number.NaN, 0], min: Number.NaN, max: Number.NaN, num: 0 }),
    ).toBe(true);
    expect(nonFiniteHistogram({ rows: [1, Number.POSITIVE_INFINITY, 1], min: 1, max: Number.POSITIVE_INFINITY, num: 1 })).toBe(true);
    expect(nonFiniteHistogram({ rows: [-0.1, 0, 2, 0, 0.1, 2], min: -0.1, max: 0.1, num: 4 })).toBe(false);
  });

  it("torch SummaryWriter: patterns map 'AUC/*' and 'Loss/*', epochMetric picks the clock", async () => {
    const collector = new TensorBoardCollector({
      dir: join(FIXTURES_DIR, 'torch'),
      tags: { 'Loss/*': '*_loss', 'AUC/*': '*_auc' },
      epochMetric: 'val_auc',
    });
    const epochs = [...(await collector.poll()), ...(await collector.finish())];
    expect(epochs.map((e) => [e.epoch, e.metrics])).toEqual(
      [1, 2, 3].map((step) => [step, { train_loss: written('torch', 'Loss/train', step), val_auc: written('torch', 'AUC/val', step) }]),
    );
    expect(epochs.map((e) => e.layers.map((l) => l.layer))).toEqual([['layer1.0.conv1'], [], ['layer1.0.conv1']]);
    expect(epochs[0]!.notes!.tensorboard).toMatchObject({ unmappedTags: ['fc.bias (histogram)'] });
  });

  it('waits for a directory that does not exist yet', async () => {
    const logs: string[] = [];
    const target = join(dir, 'later');
    const collector = new TensorBoardCollector({ dir: target, tags: { 'AUC/val': 'auc' }, log: (m) => logs.push(m) });
    expect(await collector.poll()).toEqual([]);
    expect(logs).toEqual([`tensorboard: ${target} does not exist yet`]);
    cpSync(join(FIXTURES_DIR, 'torch'), target, { recursive: true });
    // Epoch 3's step holds what epoch 1's did (the value and a kernel histogram): complete already.
    expect((await collector.poll()).map((e) => e.epoch)).toEqual([1, 2, 3]);
  });

  it('rejects options it cannot work with', () => {
    expect(() => new TensorBoardCollector({ dir, tags: {} })).toThrow(/map at least one tag to a metric, or give stepsPerEpoch/);
    expect(() => new TensorBoardCollector({ dir, tags: { a: 'b' }, stepsPerEpoch: 0 })).toThrow(
      /stepsPerEpoch must be a positive integer, got 0/,
    );
    expect(() => new TensorBoardCollector({ dir, tags: { 'eval/*': 'val_*' } })).toThrow(/epoch metric 'val_\*' is a pattern/);
  });
});
