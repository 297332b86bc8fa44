import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { registerConvGradient } from './conv-gradient.ts';
import { registerWasmMaxPoolGrad } from './max-pool-grad.ts';
import { registerWasmKernels } from './wasm-kernels.ts';
import { registerPatchesKernel } from './im2col.ts';
import { BACKEND_PREFERENCE, type BackendName, NATIVE_PACKAGES, type NativePackages, parseBackendName } from './backend-names.ts';

export { BACKEND_PREFERENCE, type BackendName, NATIVE_PACKAGES, type NativePackages, parseBackendName };

export interface BackendChoice {
  backend: BackendName;
  /** The name the backend is registered under in tfjs: tfjs-node and tfjs-node-gpu both register `tensorflow`. */
  engine: string;
  /** The package that provided a native backend. */
  package?: string;
  /** Why the backends before it were skipped. */
  skipped: string[];
}

/** tfjs-node and tfjs-node-gpu both register their backend under this name. */
const NATIVE_ENGINE = 'tensorflow';

/** A backend that was asked for by name and cannot be used. */
export class BackendUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackendUnavailableError';
  }
}

const require = createRequire(import.meta.url);
let selected: Promise<BackendChoice> | undefined;
let selectedFor: string | undefined;

/**
 * Activates the best backend that works here (tfjs-node-gpu on a GPU → tfjs-node → wasm → cpu),
 * or exactly `preferred` (argument, else SWEEPD_TF_BACKEND) when given: a backend asked for by
 * name that cannot be used is an error naming why, never a silent fallback. Memoized: tfjs has
 * one engine per process.
 */
export async function selectBackend(preferred?: string, log: (message: string) => void = () => {}): Promise<BackendChoice> {
  const source = preferred !== undefined ? 'the runner option backend' : 'SWEEPD_TF_BACKEND';
  const wanted = preferred ?? process.env.SWEEPD_TF_BACKEND ?? '';
  if (!selected || selectedFor !== wanted) {
    selectedFor = wanted;
    selected = chooseBackend(wanted ? parseBackendName(wanted) : undefined, { log, source });
  }
  const choice = await selected;
  // Something else (a test, another library) may have switched the engine since.
  if (tf.getBackend() !== choice.engine) await tf.setBackend(choice.engine);
  return choice;
}

/**
 * The selection itself, not memoized: `preferred` alone when given (an error if it cannot be
 * used), else the first of BACKEND_PREFERENCE that works.
 */
export async function chooseBackend(
  preferred: BackendName | undefined,
  options: { log?: (message: string) => void; source?: string; packages?: NativePackages } = {},
): Promise<BackendChoice> {
  const { log = () => {}, packages = NATIVE_PACKAGES } = options;
  const order = preferred ? [preferred] : BACKEND_PREFERENCE;
  const skipped: string[] = [];
  for (const name of order) {
    try {
      const loaded = await activate(name, packages);
      registerConvGradient();
      if (name === 'wasm') {
        registerWasmMaxPoolGrad();
        registerWasmKernels();
        registerPatchesKernel();
      }
      const choice: BackendChoice = { backend: name, engine: tf.getBackend(), ...(loaded ? { package: loaded } : {}), skipped };
      log(`tfjs backend: ${name}${loaded ? ` (${loaded})` : ''}${skipped.length ? ` (skipped: ${skipped.join('; ')})` : ''}`);
      return choice;
    } catch (error) {
      const code = (error as { code?: string }).code;
      const message =
        code === 'ERR_MODULE_NOT_FOUND' ? 'package not installed' : error instanceof Error ? error.message.split('\n')[0] : String(error);
      if (preferred) {
        throw new BackendUnavailableError(
          `tfjs backend ${name} was asked for (${options.source ?? 'explicitly'}) but cannot be used: ${message}`,
        );
      }
      const reason = `${name}: ${message}`;
      skipped.push(reason);
      log(`tfjs backend ${reason}; trying the next one`);
    }
  }
  throw new Error(`no tfjs backend could be activated: ${skipped.join('; ')}`);
}

/** What the native backend reports about itself (tfjs-node's NodeJSKernelBackend). */
interface NativeBackend {
  isGPUPackage?: boolean;
  isUsingGpuDevice?: boolean;
}

/** Package of the native backend this process registered, once one was imported. */
let nativeLoadedFrom: string | undefined;

/** Activates `name`; returns the package that provided it, for the native ones. */
async function activate(name: BackendName, packages: NativePackages): Promise<string | undefined> {
  if (name === 'tensorflow-gpu' || name === 'tensorflow') return activateNative(name, packages);
  if (name === 'wasm') {
    const wasmPkg = '@tensorflow/tfjs-backend-wasm';
    const wasm = (await import(/* @vite-ignore */ wasmPkg)) as { setWasmPaths(prefix: string): void };
    // The .wasm binaries sit beside the package's bundles; Emscripten cannot find them on its own in Node.
    const dist = path.join(path.dirname(require.resolve(`${wasmPkg}/package.json`)), 'dist') + path.sep;
    wasm.setWasmPaths(dist);
  }
  if (!tf.engine().registryFactory[name]) throw new Error('not registered (package missing)');
  const ok = await tf.setBackend(name);
  if (!ok || tf.getBackend() !== name) throw new Error('failed to initialize');
  await tf.ready();
  return undefined;
}

/**
 * tfjs-node and tfjs-node-gpu register the same backend name, `tensorflow`: which one is running
 * is told by the package imported and by the device TensorFlow found, not by the name.
 */
async function activateNative(name: 'tensorflow-gpu' | 'tensorflow', packages: NativePackages): Promise<string> {
  const pkg = packages[name];
  if (name === 'tensorflow-gpu') {
    // TensorFlow maps all of a GPU's memory at start unless told to grow on demand; read when the
    // package loads, so it is set first (an operator's own value wins).
    process.env.TF_FORCE_GPU_ALLOW_GROWTH ??= 'true';
  }
  // A process registers one `tensorflow` backend: a second package's registration would be
  // ignored, so a registered one is used as it is and checked below.
  if (!tf.engine().registryFactory[NATIVE_ENGINE]) {
    // Imported through a variable so that type-checking and bundling do not require the optional packages.
    await import(/* @vite-ignore */ pkg);
    nativeLoadedFrom = pkg;
  }
  const from = nativeLoadedFrom ?? 'a package imported before sweepd chose';
  if (!tf.engine().registryFactory[NATIVE_ENGINE]) throw new Error(`${from} did not register the ${NATIVE_ENGINE} backend`);
  const ok = await tf.setBackend(NATIVE_ENGINE);
  if (!ok || tf.getBackend() !== NATIVE_ENGINE) throw new Error(`${from}: the ${NATIVE_ENGINE} backend failed to initialize`);
  await tf.ready();
  const native = tf.backend() as unknown as NativeBackend;
  if (name === 'tensorflow-gpu') {
    if (native.isGPUPackage === false || (nativeLoadedFrom !== undefined && from !== pkg)) {
      throw new Error(`the ${NATIVE_ENGINE} backend of this process comes from ${from}, not ${pkg}`);
    }
    if (native.isUsingGpuDevice !== true) {
      throw new Error(
        `${pkg} loaded, but TensorFlow found no GPU device (driver, CUDA 11.2 and cuDNN 8 visible? CUDA_VISIBLE_DEVICES=${process.env.CUDA_VISIBLE_DEVICES ?? 'unset'})`,
      );
    }
  }
  return from;
}
