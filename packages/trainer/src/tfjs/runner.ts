import path from 'node:path';
import type { Plugin, Runner, RunnerContext, RunnerPluginContext, TrialJob, TrialOutcome } from '@sweepd/core';
import type * as tf from '@tensorflow/tfjs';
import { type ImageDataset, loadDataset } from '../data/index.ts';
import { selectBackend } from './backend.ts';
import { defaultThreads, GradientThreads } from './data-parallel.ts';
import { buildSmallCnn, disposeModelWeights, replaceHead } from './model.ts';
import { checkTfjsSpec } from './check-spec.ts';
import { FeatureStore } from './feature-store.ts';
import { loadModelFromDir } from './model-io.ts';
import { DEFAULT_DATASET, DEFAULT_MODEL, type TfjsRunnerOptions, tfjsRunnerOptions } from './options.ts';
import { resolveTrainingParams } from './params.ts';
import { BUILTIN_MODELS, builtinModelDir, isBuiltinModel } from './pretrain.ts';
import { abortReason } from './epoch-loop.ts';
import { trainTrial } from './trial.ts';

export { DEFAULT_DATASET, DEFAULT_MODEL, type TfjsRunnerOptions, tfjsRunnerOptions } from './options.ts';

/**
 * The backbone for `ref`: 'builtin:small-cnn' (the reference CNN pretrained on a synthetic source
 * task, cached under cacheDir), 'builtin:fashion-cnn' (pretrained on Fashion-MNIST mosaics of
 * items the fashion-mosaic target does not use), 'scratch' (randomly initialised reference CNN), or a directory
 * holding a tfjs layers model.json. Pretrained backbones get a fresh head for the target's classes.
 */
export async function buildTrialModel(
  ref: string,
  dataset: ImageDataset,
  cacheDir: string,
  seed: number,
  log: (m: string) => void,
): Promise<tf.LayersModel> {
  const classes = dataset.classes.length;
  const inputShape: [number, number, number] = [dataset.height, dataset.width, dataset.channels];
  if (ref === 'scratch') return buildSmallCnn({ classes, inputShape, seed });
  if (ref.startsWith('builtin:') && !isBuiltinModel(ref))
    throw new Error(`unknown builtin model ${JSON.stringify(ref)}: expected one of ${Object.keys(BUILTIN_MODELS).join(', ')}`);
  if (isBuiltinModel(ref) && (dataset.height !== dataset.width || dataset.channels !== 3))
    throw new Error(
      `${ref} needs square RGB images, but dataset ${dataset.name} has ${dataset.height}×${dataset.width}×${dataset.channels}`,
    );
  const dir = isBuiltinModel(ref) ? await builtinModelDir(ref, cacheDir, dataset.height, log) : path.resolve(ref);
  const backbone = await loadModelFromDir(dir);
  const expected = backbone.inputs[0]?.shape.slice(1);
  if (!expected || expected.some((d, i) => d !== null && d !== inputShape[i])) {
    backbone.dispose();
    throw new Error(
      `model ${ref} takes inputs of shape [${expected?.join(', ')}] but dataset ${dataset.name} has images of [${inputShape.join(', ')}]`,
    );
  }
  return replaceHead(backbone, classes, seed);
}

export class TfjsRunner implements Runner {
  private readonly featureStore: FeatureStore;
  /** Gradient threads, started on first use and kept for the next trials (starting them costs ~1 s). */
  private gradientThreads: Promise<GradientThreads> | undefined;

  constructor(
    private readonly options: TfjsRunnerOptions,
    private readonly plugin: RunnerPluginContext,
  ) {
    this.featureStore = new FeatureStore(options.feature_cache_mb * 2 ** 20);
  }

  async run(job: TrialJob, ctx: RunnerContext): Promise<TrialOutcome> {
    // Per-job options (job.trainer.options) override the runner's.
    const options = job.trainer.options ? tfjsRunnerOptions.parse({ ...this.options, ...job.trainer.options }) : this.options;
    // The store outlives the trial; its size is the trial's (a process is started with the default).
    this.featureStore.setLimit(options.feature_cache_mb * 2 ** 20);
    const choice = await selectBackend(options.backend, ctx.log);
    let setup: { params: ReturnType<typeof resolveTrainingParams>; dataset: ImageDataset; model: tf.LayersModel };
    let threads: number;
    try {
      threads = options.threads ?? defaultThreads(choice.backend);
      const params = resolveTrainingParams(job.params);
      const dataset = loadDataset(job.trainer.dataset ?? DEFAULT_DATASET, options.dataset_options);
      const model = await buildTrialModel(job.trainer.model ?? DEFAULT_MODEL, dataset, this.plugin.cacheDir, params.seed, ctx.log);
      setup = { params, dataset, model };
    } catch (error) {
      return { state: 'failed', reason: `setup: ${(error as Error).message}`, notes: { backend: choice.backend } };
    }
    let gradientThreads: GradientThreads | undefined;
    if (threads > 1) {
      try {
        // Starting threads takes a second or more (much more on a busy machine): a stop meanwhile
        // is answered at once, and the threads finish starting for the next trial.
        gradientThreads = await untilAborted(this.threadsFor(threads, choice.backend), ctx.signal);
      } catch (error) {
        ctx.log(`gradient threads unavailable, training on one thread: ${(error as Error).message}`);
      }
    }
    if (ctx.signal.aborted) {
      disposeModelWeights(setup.model);
      return { state: 'stopped', reason: abortReason(ctx.signal), notes: { backend: choice.backend } };
    }
    try {
      return await trainTrial(
        setup.model,
        setup.dataset,
        {
          params: setup.params,
          maxEpochs: job.maxEpochs,
          backend: choice.backend,
          featureCache: options.feature_cache,
          featureStore: this.featureStore,
          diagnostics: options.diagnostics,
          probeSize: options.probe_size,
          evalBatchSize: options.eval_batch_size,
          ...(gradientThreads ? { gradientThreads } : {}),
        },
        ctx,
      );
    } catch (error) {
      return { state: 'failed', reason: (error as Error).message, notes: { backend: choice.backend } };
    }
  }

  private async threadsFor(count: number, backend: string): Promise<GradientThreads> {
    const current = await this.gradientThreads?.catch(() => undefined);
    if (current && current.count === count && current.backend === backend) return current;
    await current?.close();
    this.gradientThreads = GradientThreads.start(count, backend);
    return this.gradientThreads;
  }

  async close(): Promise<void> {
    this.featureStore.clear();
    const threads = this.gradientThreads;
    this.gradientThreads = undefined;
    await (await threads?.catch(() => undefined))?.close();
  }
}

/** `work`'s result, or undefined as soon as `signal` aborts (the work goes on unobserved). */
async function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return undefined;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<undefined>((resolve) => {
    onAbort = () => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

function parseOptions(raw: unknown): TfjsRunnerOptions {
  const parsed = tfjsRunnerOptions.safeParse(raw ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(options)'}: ${i.message}`).join('; ');
    throw new Error(`tfjs runner options: ${problems}`);
  }
  return parsed.data;
}

export const tfjsRunnerPlugin: Plugin<'runner', TfjsRunnerOptions> = {
  kind: 'runner',
  name: 'tfjs',
  description:
    'Fine-tunes a tfjs image classifier (multi-label, sigmoid cross-entropy) and reports AUC and per-layer diagnostics every epoch.',
  parseOptions,
  checkSpec: checkTfjsSpec,
  create: (options, ctx) => new TfjsRunner(options, ctx),
};
