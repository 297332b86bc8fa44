import { createRequire } from 'node:module';
import { cudaVisibleDevices, listGpus } from '../command/gpus.ts';
import { NATIVE_PACKAGES, parseBackendName } from './backend-names.ts';

// Which GPUs the trainer processes get, decided without loading TensorFlow (the daemon sizes its
// process pool with this before any trainer process starts).

/**
 * The GPUs CUDA will show a process: CUDA_VISIBLE_DEVICES when set (ids or UUIDs; empty: none),
 * else the indices nvidia-smi lists (none without nvidia-smi; an error when it fails).
 */
export function visibleGpus(env: NodeJS.ProcessEnv = process.env, list: () => string[] = () => listGpus()): string[] {
  return cudaVisibleDevices(env) ?? list();
}

const require = createRequire(import.meta.url);

function installed(pkg: string): boolean {
  try {
    require.resolve(`${pkg}/package.json`);
    return true;
  } catch {
    return false;
  }
}

/**
 * One device per trainer process when the GPU backend will train: SWEEPD_TF_BACKEND asks for
 * tensorflow-gpu, or it is unset, @tensorflow/tfjs-node-gpu is installed and a GPU is visible.
 * Each process then sees only its own GPU (CUDA_VISIBLE_DEVICES), so that N processes do not all
 * train on GPU 0 or each try to take every card. Undefined when the trainers will not use a GPU
 * (size the pool by cores then).
 */
export function gpuTrainerDevices(
  env: NodeJS.ProcessEnv = process.env,
  deps: { listGpus?: () => string[]; gpuPackageInstalled?: () => boolean } = {},
): string[] | undefined {
  const wanted = env.SWEEPD_TF_BACKEND?.trim();
  const requested = wanted ? parseBackendName(wanted) : undefined;
  if (requested !== undefined && requested !== 'tensorflow-gpu') return undefined;
  // GPUs are looked for only where the GPU package could use them.
  const gpuPackage = deps.gpuPackageInstalled ?? (() => installed(NATIVE_PACKAGES['tensorflow-gpu']));
  if (requested === undefined && !gpuPackage()) return undefined;
  const devices = visibleGpus(env, deps.listGpus);
  return devices.length > 0 ? devices : undefined;
}

/**
 * Refuses, at the start of a daemon with workers or of `sweepd worker`, a SWEEPD_TF_BACKEND that
 * cannot load here because its package is not installed: every tfjs trial the worker took would
 * fail, spending the study's budget. (Whether a GPU is there is left to the trainer, which checks
 * that TensorFlow lists one: nvidia-smi may be missing from a container that has the GPU.)
 */
export function checkRequestedBackend(
  env: NodeJS.ProcessEnv = process.env,
  deps: { packageInstalled?: (pkg: string) => boolean } = {},
): void {
  const wanted = env.SWEEPD_TF_BACKEND?.trim();
  if (!wanted) return;
  const pkg = missingBackendPackage(wanted, deps.packageInstalled);
  if (pkg)
    throw new Error(
      `SWEEPD_TF_BACKEND=${wanted} needs ${pkg}, which is not installed here: install it (npm install ${pkg}), ` +
        'or unset SWEEPD_TF_BACKEND to train on the best backend that loads',
    );
}

/** The package a native backend (tensorflow-gpu, tensorflow or an alias) needs when it is not installed here; else undefined. */
export function missingBackendPackage(backend: string, packageInstalled: (pkg: string) => boolean = installed): string | undefined {
  const requested = parseBackendName(backend);
  const pkg = requested === 'tensorflow-gpu' || requested === 'tensorflow' ? NATIVE_PACKAGES[requested] : undefined;
  return pkg && !packageInstalled(pkg) ? pkg : undefined;
}
