import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { registerConvGradient } from './conv-gradient.ts';
import { registerWasmMaxPoolGrad } from './max-pool-grad.ts';
import { registerWasmKernels } from './wasm-kernels.ts';
import { registerPatchesKernel } from './im2col.ts';
import { BACKEND_PREFERENCE, type BackendName, parseBackendName } from './backend-names.ts';

export { BACKEND_PREFERENCE, type BackendName, parseBackendName };

export interface BackendChoice {
  backend: BackendName;
  /** Why the backends before it were skipped. */
  skipped: string[];
}

const require = createRequire(import.meta.url);
let selected: Promise<BackendChoice> | undefined;
let selectedFor: string | undefined;

/**
 * Activates the best backend that works here (tfjs-node-gpu → tfjs-node → wasm → cpu), or
 * exactly `preferred` (argument, else SWEEPD_TF_BACKEND) when given — then only falling back
 * to the next ones with a logged reason. Memoized: tfjs has one engine per process.
 */
export async function selectBackend(preferred?: string, log: (message: string) => void = () => {}): Promise<BackendChoice> {
  const wanted = preferred ?? process.env.SWEEPD_TF_BACKEND ?? '';
  if (!selected || selectedFor !== wanted) {
    selectedFor = wanted;
    selected = doSelect(wanted ? parseBackendName(wanted) : undefined, log);
  }
  const choice = await selected;
  // Something else (a test, another library) may have switched the engine since.
  if (tf.getBackend() !== choice.backend) await tf.setBackend(choice.backend);
  return choice;
}

async function doSelect(preferred: BackendName | undefined, log: (message: string) => void): Promise<BackendChoice> {
  const order = preferred ? BACKEND_PREFERENCE.slice(BACKEND_PREFERENCE.indexOf(preferred)) : BACKEND_PREFERENCE;
  const skipped: string[] = [];
  for (const name of order) {
    try {
      await activate(name);
      registerConvGradient();
      if (name === 'wasm') {
        registerWasmMaxPoolGrad();
        registerWasmKernels();
        registerPatchesKernel();
      }
      const choice = { backend: name, skipped };
      log(`tfjs backend: ${name}${skipped.length ? ` (skipped: ${skipped.join('; ')})` : ''}`);
      return choice;
    } catch (error) {
      const code = (error as { code?: string }).code;
      const message =
        code === 'ERR_MODULE_NOT_FOUND' ? 'package not installed' : error instanceof Error ? error.message.split('\n')[0] : String(error);
      const reason = `${name}: ${message}`;
      skipped.push(reason);
      log(`tfjs backend ${reason}; trying the next one`);
    }
  }
  throw new Error(`no tfjs backend could be activated: ${skipped.join('; ')}`);
}

async function activate(name: BackendName): Promise<void> {
  if (name === 'tensorflow-gpu' || name === 'tensorflow') {
    // Imported through a variable so that type-checking and bundling do not require the optional packages.
    const pkg = name === 'tensorflow-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
    await import(/* @vite-ignore */ pkg);
  }
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
}
