import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseBackendName } from './backend-names.ts';

// Which GPUs the trainer processes get, decided without loading TensorFlow (the daemon sizes its
// process pool with this before any trainer process starts).

/** The NVIDIA driver lists one directory per GPU here (Linux). */
export const NVIDIA_GPUS_DIR = '/proc/driver/nvidia/gpus';

/**
 * The GPUs CUDA will show a process: CUDA_VISIBLE_DEVICES when set (ids or UUIDs; empty: none),
 * else one per GPU the driver lists, numbered from 0.
 */
export function visibleGpus(env: NodeJS.ProcessEnv = process.env, driverDir = NVIDIA_GPUS_DIR): string[] {
  const visible = env.CUDA_VISIBLE_DEVICES;
  if (visible !== undefined) {
    return visible
      .split(',')
      .map((d) => d.trim())
      .filter((d) => d !== '' && d !== '-1');
  }
  let entries: string[];
  try {
    entries = readdirSync(driverDir);
  } catch {
    return [];
  }
  return entries.map((_, i) => String(i));
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
  deps: { driverDir?: string; gpuPackageInstalled?: () => boolean } = {},
): string[] | undefined {
  const wanted = env.SWEEPD_TF_BACKEND?.trim();
  const requested = wanted ? parseBackendName(wanted) : undefined;
  if (requested !== undefined && requested !== 'tensorflow-gpu') return undefined;
  const devices = visibleGpus(env, deps.driverDir);
  if (requested === 'tensorflow-gpu') return devices.length > 0 ? devices : undefined;
  const gpuPackage = deps.gpuPackageInstalled ?? (() => installed('@tensorflow/tfjs-node-gpu'));
  return devices.length > 0 && gpuPackage() ? devices : undefined;
}
