import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkSpec, parseSpec, type SearchSpec } from '@sweepd/core';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDiskDataset } from '../data/disk.ts';
import { generateSynthetic } from '../data/synthetic.ts';
import { checkTfjsSpec, SMALL_CNN_WEIGHTED_LAYERS } from './check-spec.ts';
import { buildSmallCnn, weightedLayers } from './model.ts';
import { saveModelToDir } from './model-io.ts';

// biome-ignore lint/suspicious/noExplicitAny: tests poke at arbitrary depths of a spec on purpose
type Loose = any;

function spec(change: (s: Loose) => void = () => {}): SearchSpec {
  const s: Loose = {
    name: 'finetune',
    objective: { metric: 'val_auc_macro', direction: 'maximize' },
    space: {
      learning_rate: { type: 'float', low: 1e-5, high: 1e-1, log: true },
      optimizer: { type: 'categorical', choices: ['sgd', 'momentum', 'rmsprop', 'adam'] },
      frozen_layers: { type: 'int', low: 0, high: 4 },
    },
    fixed: { batch_size: 32 },
    budget: { max_trials: 4, max_epochs: 2 },
    trainer: { runner: 'tfjs', dataset: 'synthetic' },
  };
  change(s);
  return parseSpec(s);
}

const problems = (s: SearchSpec, ctx = {}) => checkTfjsSpec(s, ctx).map((p) => `${p.path}: ${p.message}`);

describe('the tfjs runner’s submit-time check', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sweepd-check-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('accepts a spec that can run', () => {
    expect(problems(spec())).toEqual([]);
  });

  it('checks names and ranges of the TF-slim hyperparameters, searched or fixed', () => {
    expect(problems(spec((s) => (s.space.lr = { type: 'float', low: 0.1, high: 1 })))[0]).toMatch(
      /^space.lr: is not a hyperparameter of the tfjs runner \(known: learning_rate, /,
    );
    expect(problems(spec((s) => (s.space.optimizer.choices = ['momentum', 'rmsprop', 'lbfgs'])))).toEqual([
      'space.optimizer.choices.2: must be one of sgd, momentum, rmsprop, adam (got "lbfgs")',
    ]);
    expect(problems(spec((s) => (s.fixed.batch_size = 0)))).toEqual(['fixed.batch_size: must be in [1, 4096] for images per step (got 0)']);
    // Whole bounds, but a float would draw 39.7 and fail every trial.
    const floatBatch = spec((s) => {
      s.fixed = {};
      s.space.batch_size = { type: 'float', low: 16, high: 64 };
    });
    expect(problems(floatBatch)).toEqual(['space.batch_size.type: batch_size is an integer: use type: int (got float)']);
  });

  it('refuses an objective the runner never reports, and accepts every one it does', () => {
    expect(problems(spec((s) => (s.objective.metric = 'val_acc')))).toEqual([
      "objective.metric: the tfjs runner never reports 'val_acc': it reports val_auc_macro, val_auc_micro, val_ap_macro, val_loss, train_loss, learning_rate, epoch_seconds, val_auc[CLASS] and val_ap[CLASS]",
    ]);
    for (const metric of ['val_loss', 'val_auc[class_0]', 'val_ap[class_4]', 'val_auc_micro'])
      expect(problems(spec((s) => (s.objective.metric = metric)))).toEqual([]);
  });

  it('names every problem in one answer: a bad fixed value or option does not hide the others', () => {
    const many: Loose = {
      name: 'finetune',
      objective: { metric: 'val_auc_macro' },
      space: { learning_rate: { type: 'float', low: 1e-5, high: 1e-1, log: true } },
      fixed: { batch_size: -3, momentum: '0.9', weight_decay: [1] },
      budget: { max_trials: 4, max_epochs: 2 },
      trainer: { runner: 'tfjs', dataset: 'synthetic', options: { treads: 2, dataset_options: { clases: 4, train_size: -5 } } },
    };
    const { problems: schema, draft } = checkSpec(many);
    expect(schema.map((p) => p.path)).toEqual(['fixed.weight_decay']);
    expect(checkTfjsSpec(draft).map((p) => p.path)).toEqual([
      'fixed.batch_size',
      'fixed.momentum',
      'trainer.options',
      'trainer.options.dataset_options',
    ]);
    expect(checkTfjsSpec(draft).at(-1)?.message).toMatch(/clases.*train_size|train_size.*clases/);
  });

  it('refuses a native backend whose package is not installed where the workers share its machine, and leaves it to remote workers', () => {
    const withBackend = spec((s) => {
      s.trainer.options = { backend: 'tensorflow-gpu' };
    });
    const installed = (() => {
      try {
        createRequire(import.meta.url).resolve('@tensorflow/tfjs-node-gpu/package.json');
        return true;
      } catch {
        return false;
      }
    })();
    const problems = checkTfjsSpec(withBackend, { workersShareFiles: true });
    if (installed) expect(problems).toEqual([]);
    else
      expect(problems).toEqual([
        {
          path: 'trainer.options.backend',
          message:
            "tensorflow-gpu needs @tensorflow/tfjs-node-gpu, which is not installed where this daemon's workers run: install it (npm install @tensorflow/tfjs-node-gpu), or leave backend out to train on the best backend that loads",
        },
      ]);
    expect(checkTfjsSpec(withBackend, { workersShareFiles: false })).toEqual([]);
    // Backends that ship with sweepd are always there.
    for (const backend of ['wasm', 'cpu'])
      expect(
        checkTfjsSpec(
          spec((s) => (s.trainer.options = { backend })),
          { workersShareFiles: true },
        ),
      ).toEqual([]);
  });

  it('refuses a stopping rule watching a metric the runner never reports', () => {
    const rule = (options: Record<string, unknown>) => spec((s) => (s.stopping = [{ name: 'divergence', options }]));
    expect(problems(rule({ metrics: ['train_loss', 'trian_loss'] }))).toEqual([
      expect.stringMatching(/^stopping\.0\.options\.metrics\.1: the tfjs runner never reports 'trian_loss': it reports val_auc_macro, /),
    ]);
    expect(problems(rule({ loss_metric: 'loss' }))[0]).toMatch(/^stopping\.0\.options\.loss_metric: the tfjs runner never reports 'loss'/);
    expect(problems(rule({ metrics: ['val_loss'], loss_metric: 'train_loss', factor: 5 }))).toEqual([]);
    // A plugin's options are its own: a `distance_metric` is no metric name.
    expect(problems(spec((s) => (s.stopping = [{ name: 'my-plugin', options: { distance_metric: 'cosine' } }])))).toEqual([]);
  });

  it("refuses a per-class objective for a class the dataset does not have, naming the dataset's classes", () => {
    expect(problems(spec((s) => (s.objective.metric = 'val_auc[cat]')))).toEqual([
      "objective.metric: dataset synthetic has no class 'cat': its classes are class_0, class_1, class_2, class_3, class_4",
    ]);
    const eightClasses = spec((s) => {
      s.objective.metric = 'val_ap[class_7]';
      s.trainer.options = { dataset_options: { classes: 8 } };
    });
    expect(problems(eightClasses)).toEqual([]);
    const seed19 = spec((s) => {
      s.objective.metric = 'val_auc[class_0]';
      s.trainer.dataset = 'seed-19';
    });
    const never = spec((s) => {
      s.objective.metric = 'val_auc[obj_1]';
      s.trainer.dataset = 'seed-19';
    });
    expect(problems(never)).toEqual([
      "objective.metric: class 'obj_1' is absent from seed-19's validation split, so its AUC is never defined: choose another class or val_auc_macro",
    ]);
    const always = spec((s) => {
      s.objective.metric = 'val_auc[obj_6]';
      s.trainer.dataset = 'seed-19';
    });
    expect(problems(always)[0]).toMatch(/class 'obj_6' is in every image of seed-19's validation split, so its AUC is never defined/);
    expect(problems(seed19)[0]).toMatch(/^objective.metric: dataset seed-19 has no class 'class_0': its classes are \w+/);
  });
  // A dataset directory's classes come from its dataset.json: checked below with the other files.

  it('refuses frozen_layers that would freeze every layer of the model', () => {
    const found = problems(spec((s) => (s.space.frozen_layers.high = 8)));
    expect(found).toEqual([
      'space.frozen_layers.high: must be at most 4: model builtin:small-cnn has 5 layers with weights (conv1, conv2, conv3, fc1, logits) and at least one must stay trainable (got 8)',
    ]);
    expect(
      problems(
        spec((s) => {
          delete s.space.frozen_layers;
          s.fixed.frozen_layers = 5;
        }),
      )[0],
    ).toMatch(/^fixed.frozen_layers: must be at most 4/);
  });

  it('knows the builtin layer count: it is the reference CNN’s', () => {
    const model = buildSmallCnn({ classes: 3 });
    expect(weightedLayers(model).map((l) => l.name)).toEqual([...SMALL_CNN_WEIGHTED_LAYERS]);
    model.dispose();
  });

  it('names unknown models and datasets, and bad dataset options', () => {
    expect(problems(spec((s) => (s.trainer.dataset = 'imagenet')))).toEqual([
      'trainer.dataset: unknown dataset "imagenet": expected one of synthetic, seed-19, fashion-mosaic, or a directory path (./dir) holding dataset.json',
    ]);
    expect(problems(spec((s) => (s.trainer.model = 'builtin:inception-v4')))[0]).toMatch(
      /^trainer.model: unknown builtin model "builtin:inception-v4"/,
    );
    expect(problems(spec((s) => (s.trainer.options = { dataset_options: { classes: 0 } })))[0]).toMatch(
      /^trainer.options.dataset_options: dataset synthetic: invalid options: classes/,
    );
    expect(problems(spec((s) => (s.trainer.options = { backend: 'cuda', feature_cache: 'yes' })))).toEqual([
      'trainer.options.backend: must be one of tensorflow-gpu, tensorflow, wasm, cpu',
      'trainer.options.feature_cache: must be a boolean (got "yes")',
    ]);
  });

  it('checks model and dataset directories when the workers see them, and only then', async () => {
    const missing = path.join(dir, 'nowhere');
    const found = problems(
      spec((s) => {
        s.trainer.dataset = missing;
        s.trainer.model = `${missing}-model`;
      }),
    );
    expect(found[0]).toMatch(/^trainer.dataset: dataset .*nowhere: no such directory$/);
    expect(found[1]).toMatch(/^trainer.model: model .*nowhere-model: no model.json there/);
    expect(problems(spec((s) => (s.trainer.dataset = dir)))[0]).toMatch(
      /^trainer.dataset: dataset .*: no dataset.json there: a dataset directory holds/,
    );
    expect(
      problems(
        spec((s) => {
          s.trainer.dataset = missing;
          s.trainer.model = missing;
        }),
        { workersShareFiles: false },
      ),
    ).toEqual([]);

    const data = path.join(dir, 'data');
    writeDiskDataset(data, generateSynthetic({ classes: 3, trainSize: 8, valSize: 8, imageSize: 8, seed: 0 }));
    const modelDir = path.join(dir, 'model');
    const model = buildSmallCnn({ classes: 3, inputShape: [8, 8, 3] });
    await saveModelToDir(model, modelDir);
    model.dispose();
    expect(
      problems(
        spec((s) => {
          s.trainer.dataset = data;
          s.trainer.model = modelDir;
        }),
      ),
    ).toEqual([]);
    expect(
      problems(
        spec((s) => {
          s.trainer.dataset = './data';
          s.trainer.model = './model';
        }),
        { baseDir: dir },
      ),
    ).toEqual([]);
    expect(
      problems(
        spec((s) => {
          s.trainer.model = modelDir;
          s.space.frozen_layers.high = 5;
        }),
      )[0],
    ).toMatch(/^space.frozen_layers.high: must be at most 4: model .* has 5 layers with weights/);
    expect(tf.memory().numTensors).toBeGreaterThanOrEqual(0);
  });
});
