import { access } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';

export const PRETRAIN_USAGE = `usage: sweepd pretrain [--model builtin:small-cnn|builtin:fashion-cnn] [--cache-dir DIR] [--image-size N] [--force]

Pretrains a builtin backbone (or reports the cached one) and prints where its model.json is.
  --model       builtin:small-cnn (synthetic shapes, default) or builtin:fashion-cnn (Fashion-MNIST
                mosaics; needs Debian's dataset-fashion-mnist)
  --cache-dir   the workers' cache directory (default: SWEEPD_CACHE_DIR, else ./.sweepd/cache)
  --image-size  side of the square input images (default 32: the builtin datasets' size)
  --force       pretrain again even if a cached model exists`;

export interface PretrainCommandIO {
  out(line: string): void;
  err(line: string): void;
}

const consoleIO: PretrainCommandIO = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
};

/** The default cache directory of `sweepd` workers when neither flag nor environment names one. */
export function defaultCacheDir(): string {
  return process.env.SWEEPD_CACHE_DIR || path.resolve('.sweepd', 'cache');
}

/**
 * `sweepd pretrain`: returns the exit code (0 done, 1 failed, 2 bad usage). Loads tfjs only once
 * the arguments are valid, so `--help` and usage errors are instant.
 */
export async function pretrainCommand(argv: string[], io: PretrainCommandIO = consoleIO): Promise<number> {
  let values: {
    model?: string | undefined;
    'cache-dir'?: string | undefined;
    'image-size'?: string | undefined;
    force?: boolean | undefined;
    help?: boolean | undefined;
  };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        model: { type: 'string' },
        'cache-dir': { type: 'string' },
        'image-size': { type: 'string' },
        force: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
      strict: true,
    }));
  } catch (error) {
    io.err(`sweepd pretrain: ${(error as Error).message}`);
    io.err(PRETRAIN_USAGE);
    return 2;
  }
  if (values.help) {
    io.out(PRETRAIN_USAGE);
    return 0;
  }
  const { BUILTIN_MODELS, builtinModelDir, builtinModelPath, isBuiltinModel } = await import('./tfjs/pretrain.ts');
  const model = values.model ?? 'builtin:small-cnn';
  if (!isBuiltinModel(model)) {
    io.err(`sweepd pretrain: unknown model ${JSON.stringify(model)}: expected one of ${Object.keys(BUILTIN_MODELS).join(', ')}`);
    return 2;
  }
  const sizeText = values['image-size'] ?? String(BUILTIN_MODELS[model].defaultImageSize);
  const imageSize = Number(sizeText);
  if (!/^\d+$/.test(sizeText) || imageSize < 8 || imageSize > 224 || imageSize % 2 !== 0) {
    io.err(`sweepd pretrain: --image-size must be an even integer from 8 to 224 (got ${JSON.stringify(sizeText)})`);
    return 2;
  }
  const cacheDir = path.resolve(values['cache-dir'] ?? defaultCacheDir());
  const dir = builtinModelPath(model, cacheDir, imageSize);
  const modelJson = path.join(dir, 'model.json');
  const cached = await access(modelJson).then(
    () => true,
    () => false,
  );
  if (cached && !values.force) {
    io.out(`${model} (${imageSize}px) is already pretrained: ${modelJson}`);
    return 0;
  }
  try {
    const { selectBackend } = await import('./tfjs/backend.ts');
    await selectBackend(undefined, (m) => io.err(m));
    const started = performance.now();
    await builtinModelDir(model, cacheDir, imageSize, (m) => io.err(m), values.force === true);
    io.out(`${model} (${imageSize}px) pretrained in ${((performance.now() - started) / 1000).toFixed(1)} s: ${modelJson}`);
    return 0;
  } catch (error) {
    io.err(`sweepd pretrain: ${model}: ${(error as Error).message}`);
    return 1;
  }
}
