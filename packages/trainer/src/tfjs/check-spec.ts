import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { RunnerCheckContext, SearchSpec, SpecProblem } from '@sweepd/core';
import { fashionMnistDir } from '../data/fashion-mnist.ts';
import { builtinClassNames, isDatasetPath, parseDatasetOptions, readManifest, SEED19_PREVALENCE } from '../data/index.ts';
import { optionProblems } from '../option-problems.ts';
import { unreportedStoppingMetrics } from '../stopping-metrics.ts';
import { checkHyperparameterValue, TRAINER_HYPERPARAMETERS } from './hyperparameters.ts';
import { missingBackendPackage } from './gpu.ts';
import { DEFAULT_DATASET, DEFAULT_MODEL, tfjsRunnerOptions } from './options.ts';

/**
 * The layers with weights of the builtin backbones and of 'scratch' (all the reference CNN:
 * conv1–3, fc1 and the head); model.test.ts checks this against the built model.
 */
export const SMALL_CNN_WEIGHTED_LAYERS = ['conv1', 'conv2', 'conv3', 'fc1', 'logits'] as const;
const BUILTIN_MODEL_NAMES = ['builtin:small-cnn', 'builtin:fashion-cnn'];
/** What the tfjs runner reports every epoch (trial.ts, evaluate.ts), besides per-class val_auc[CLASS] and val_ap[CLASS]. */
export const TFJS_METRICS = [
  'val_auc_macro',
  'val_auc_micro',
  'val_ap_macro',
  'val_loss',
  'train_loss',
  'learning_rate',
  'epoch_seconds',
] as const;
const PER_CLASS_METRIC = /^val_(auc|ap)\[(.+)\]$/;

/**
 * Everything the tfjs runner can tell about a spec before any trial runs: parameter names and
 * ranges (the TF-slim flag catalogue), runner options, the model and dataset names, and
 * frozen_layers against the model's layers. Files (a model or dataset directory) are checked
 * only when the workers see the daemon's files.
 */
export function checkTfjsSpec(spec: SearchSpec, ctx: RunnerCheckContext = {}): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const add = (p: string, message: string) => problems.push({ path: p, message });
  checkHyperparameters(spec, add);
  const { metric } = spec.objective;
  const reports = (name: string) => (TFJS_METRICS as readonly string[]).includes(name) || PER_CLASS_METRIC.test(name);
  const neverReported = (name: string) =>
    `the tfjs runner never reports '${name}': it reports ${TFJS_METRICS.join(', ')}, val_auc[CLASS] and val_ap[CLASS]`;
  if (!reports(metric)) add('objective.metric', neverReported(metric));
  problems.push(...unreportedStoppingMetrics(spec, reports, neverReported));

  const options = tfjsRunnerOptions.safeParse(spec.trainer.options ?? {});
  if (!options.success) problems.push(...optionProblems(tfjsRunnerOptions, options.error, spec.trainer.options ?? {}));
  // Checked on their own when other options are wrong: every problem in one answer.
  const rawDatasetOptions = (spec.trainer.options as { dataset_options?: unknown } | undefined)?.dataset_options;
  const datasetOptions = options.success ? options.data.dataset_options : isRecord(rawDatasetOptions) ? rawDatasetOptions : {};
  const filesVisible = ctx.workersShareFiles !== false;
  // Workers that share the daemon's files run on its machine: a native backend they cannot load
  // would fail every trial, so it is refused now (remote workers may have the package).
  const backend = options.success ? options.data.backend : undefined;
  const missing = backend && filesVisible ? missingBackendPackage(backend) : undefined;
  if (backend && missing)
    add(
      'trainer.options.backend',
      `${backend} needs ${missing}, which is not installed where this daemon's workers run: install it (npm install ${missing}), or leave backend out to train on the best backend that loads`,
    );
  const resolve = (p: string) => path.resolve(ctx.baseDir ?? process.cwd(), p);

  const dataset = spec.trainer.dataset ?? DEFAULT_DATASET;
  let classes: readonly string[] | undefined;
  if (isDatasetPath(dataset)) {
    if (Object.keys(datasetOptions).length > 0)
      add('trainer.options.dataset_options', 'a dataset directory takes no dataset_options: sizes and classes come from its dataset.json');
    if (filesVisible) {
      try {
        classes = readManifest(resolve(dataset)).classes;
      } catch (err) {
        add('trainer.dataset', (err as Error).message);
      }
    }
  } else {
    try {
      const builtin = parseDatasetOptions(dataset, datasetOptions);
      classes = builtinClassNames(builtin.name, builtin.options);
      if (dataset === 'fashion-mosaic' && filesVisible && !existsSync(fashionMnistDir()))
        add('trainer.dataset', `fashion-mosaic needs Fashion-MNIST in ${fashionMnistDir()}: apt-get install dataset-fashion-mnist`);
    } catch (err) {
      add(
        (err as Error).message.startsWith('unknown dataset') ? 'trainer.dataset' : 'trainer.options.dataset_options',
        (err as Error).message,
      );
    }
  }

  const perClass = PER_CLASS_METRIC.exec(metric);
  if (perClass && classes && !classes.includes(perClass[2]!)) {
    const shown = classes.length > 20 ? `${classes.slice(0, 20).join(', ')}, … (${classes.length} in all)` : classes.join(', ');
    add('objective.metric', `dataset ${dataset} has no class '${perClass[2]}': its classes are ${shown}`);
  }
  // seed-19's validation split holds some classes never (or always): their AUC is never defined.
  const single = dataset === 'seed-19' && perClass ? SEED19_PREVALENCE.find((c) => c.name === perClass[2]) : undefined;
  if (single && (single.validation === 0 || (single.validation === 100 && perClass?.[1] === 'auc')))
    add(
      'objective.metric',
      `class '${single.name}' is ${single.validation === 0 ? 'absent from' : 'in every image of'} seed-19's validation split, so its ${perClass?.[1] === 'auc' ? 'AUC' : 'average precision'} is never defined: choose another class or val_auc_macro`,
    );

  const model = spec.trainer.model ?? DEFAULT_MODEL;
  let layers: readonly string[] | undefined;
  if (model === 'scratch' || BUILTIN_MODEL_NAMES.includes(model)) layers = SMALL_CNN_WEIGHTED_LAYERS;
  else if (model.startsWith('builtin:'))
    add(
      'trainer.model',
      `unknown builtin model ${JSON.stringify(model)}: expected one of ${BUILTIN_MODEL_NAMES.join(', ')}, scratch, or a directory`,
    );
  else if (filesVisible) {
    try {
      layers = weightedLayersOfSavedModel(resolve(model));
    } catch (err) {
      add('trainer.model', (err as Error).message);
    }
  }
  if (layers) checkFrozenLayers(spec, model, layers, add);
  return problems;
}

/** Where a runner's check reads relative paths, and whether the workers see those files at all. */
export type { RunnerCheckContext };

function checkHyperparameters(spec: SearchSpec, add: (p: string, message: string) => void): void {
  const known = Object.keys(TRAINER_HYPERPARAMETERS).join(', ');
  for (const [name, p] of Object.entries(spec.space)) {
    const at = `space.${name}`;
    if (!(name in TRAINER_HYPERPARAMETERS)) {
      add(at, `is not a hyperparameter of the tfjs runner (known: ${known})`);
      continue;
    }
    // A float draws fractions that an integer hyperparameter refuses in every trial.
    if (p.type === 'float' && TRAINER_HYPERPARAMETERS[name]?.kind === 'int')
      add(`${at}.type`, `${name} is an integer: use type: int (got float)`);
    const values = p.type === 'categorical' ? p.choices : [p.low, p.high];
    const fields = p.type === 'categorical' ? p.choices.map((_, i) => `choices.${i}`) : ['low', 'high'];
    values.forEach((v, i) => {
      const why = checkHyperparameterValue(name, v);
      if (why) add(`${at}.${fields[i]}`, why);
    });
  }
  for (const [name, v] of Object.entries(spec.fixed)) {
    if (!(name in TRAINER_HYPERPARAMETERS)) add(`fixed.${name}`, `is not a hyperparameter of the tfjs runner (known: ${known})`);
    else {
      const why = checkHyperparameterValue(name, v);
      if (why) add(`fixed.${name}`, why);
    }
  }
}

/** At least one layer must stay trainable, so frozen_layers can reach at most the layer count − 1. */
function checkFrozenLayers(spec: SearchSpec, model: string, layers: readonly string[], add: (p: string, message: string) => void): void {
  const most = layers.length - 1;
  const why = (v: number) =>
    `must be at most ${most}: model ${model} has ${layers.length} layers with weights (${layers.join(', ')}) and at least one must stay trainable (got ${v})`;
  const searched = spec.space.frozen_layers;
  if (searched && searched.type !== 'categorical') {
    if (searched.high > most) add('space.frozen_layers.high', why(searched.high));
  } else if (searched?.type === 'categorical') {
    searched.choices.forEach((c, i) => {
      if (typeof c === 'number' && c > most) add(`space.frozen_layers.choices.${i}`, why(c));
    });
  }
  const fixed = spec.fixed.frozen_layers;
  if (typeof fixed === 'number' && fixed > most) add('fixed.frozen_layers', why(fixed));
}

/**
 * The layers with weights of a tfjs layers model saved in `dir`, read from its model.json's
 * weights manifest (weight names are `<layer>/<weight>`). The runner replaces the last one
 * (the source task's head) by a new head, so the count is the trial model's too.
 */
export function weightedLayersOfSavedModel(dir: string): string[] {
  const file = path.join(dir, 'model.json');
  let json: { weightsManifest?: { weights?: { name?: string }[] }[] };
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new Error(
      code === 'ENOENT'
        ? `model ${dir}: no model.json there (expected a tfjs layers model directory, builtin:small-cnn, builtin:fashion-cnn or scratch)`
        : `model ${dir}: cannot read model.json: ${(err as Error).message}`,
    );
  }
  const names: string[] = [];
  for (const group of json.weightsManifest ?? []) {
    for (const w of group.weights ?? []) {
      const layer = w.name?.split('/').slice(0, -1).join('/');
      if (layer && !names.includes(layer)) names.push(layer);
    }
  }
  if (names.length < 2) throw new Error(`model ${dir}: model.json lists ${names.length} layer(s) with weights; need a backbone and a head`);
  return names;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
