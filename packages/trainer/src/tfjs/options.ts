import { z } from 'zod';
import { parseBackendName } from './backend-names.ts';

// The runner's options without tfjs, so the daemon can check them at submit.

export const tfjsRunnerOptions = z.strictObject({
  /** tensorflow-gpu | tensorflow | wasm | cpu (aliases tfjs-node-gpu, tfjs-node); default: SWEEPD_TF_BACKEND, else the best available. */
  backend: z
    .string()
    .refine(
      (s) => {
        try {
          parseBackendName(s);
          return true;
        } catch {
          return false;
        }
      },
      { message: 'must be one of tensorflow-gpu, tensorflow, wasm, cpu' },
    )
    .optional(),
  /** Options of the named dataset (synthetic: classes, train_size, val_size, image_size, seed). */
  dataset_options: z.record(z.string(), z.unknown()).default({}),
  /** Train on cached features of a frozen prefix (identical results, much faster). */
  feature_cache: z.boolean().default(true),
  /** Memory for frozen-prefix features shared between the trials of this runner (0 disables sharing). */
  feature_cache_mb: z.number().min(0).max(1_000_000).default(256),
  /** Per-layer weight/activation statistics every epoch. */
  diagnostics: z.boolean().default(true),
  /** Validation images in the fixed probe batch for activation sparsity. */
  probe_size: z.number().int().min(1).max(4096).default(128),
  eval_batch_size: z.number().int().min(1).max(8192).default(256),
  /**
   * Threads computing each batch's gradients (data parallelism, same result up to float rounding);
   * default on wasm (single-threaded in Node): SWEEPD_TRAINER_THREADS when set — the process pool
   * sets it to max(1, floor(cores / trainer processes)) so concurrent trials do not oversubscribe
   * the cores — else min(2, cores); 1 on other backends. An explicit value here always wins.
   */
  threads: z.number().int().min(1).max(64).optional(),
});
export type TfjsRunnerOptions = z.output<typeof tfjsRunnerOptions>;

export const DEFAULT_MODEL = 'builtin:small-cnn';
export const DEFAULT_DATASET = 'synthetic';
