// The backend names alone, without tfjs: the daemon checks a spec's backend option with them.

/** Backends in order of preference; the native ones are optional packages that often fail to install. */
export const BACKEND_PREFERENCE = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_PREFERENCE)[number];

/** Where the native backends come from; tests substitute stand-in packages. */
export interface NativePackages {
  'tensorflow-gpu': string;
  tensorflow: string;
}
export const NATIVE_PACKAGES: NativePackages = { 'tensorflow-gpu': '@tensorflow/tfjs-node-gpu', tensorflow: '@tensorflow/tfjs-node' };

/** Accepts the package-style names users tend to write too (tfjs-node, node-gpu, ...). */
export function parseBackendName(raw: string): BackendName {
  const name = raw.trim().toLowerCase();
  const aliases: Record<string, BackendName> = {
    'tensorflow-gpu': 'tensorflow-gpu',
    gpu: 'tensorflow-gpu',
    'tfjs-node-gpu': 'tensorflow-gpu',
    'node-gpu': 'tensorflow-gpu',
    tensorflow: 'tensorflow',
    'tfjs-node': 'tensorflow',
    node: 'tensorflow',
    wasm: 'wasm',
    cpu: 'cpu',
  };
  const found = aliases[name];
  if (!found) throw new Error(`unknown tfjs backend ${JSON.stringify(raw)}: expected one of ${BACKEND_PREFERENCE.join(', ')}`);
  return found;
}
