import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { BackendUnavailableError, chooseBackend, type NativePackages } from './backend.ts';

// Stand-ins for the native packages (fixtures/): each registers a backend named `tensorflow`, as
// tfjs-node and tfjs-node-gpu both do. Each file is imported by one test only (a module runs once).
const fixture = (name: string) => new URL(`./fixtures/${name}.js`, import.meta.url).href;
const packages = (gpu: string, cpu: string): NativePackages => ({ 'tensorflow-gpu': fixture(gpu), tensorflow: fixture(cpu) });
const growthBefore = process.env.TF_FORCE_GPU_ALLOW_GROWTH;

describe('tfjs backend selection by package and device, not by backend name', () => {
  beforeEach(async () => {
    if (tf.engine().registryFactory.tensorflow) tf.removeBackend('tensorflow');
    delete process.env.TF_FORCE_GPU_ALLOW_GROWTH;
    await tf.setBackend('cpu');
  });
  afterAll(() => {
    if (growthBefore === undefined) delete process.env.TF_FORCE_GPU_ALLOW_GROWTH;
    else process.env.TF_FORCE_GPU_ALLOW_GROWTH = growthBefore;
  });

  it('selects tfjs-node-gpu when its package loads and TensorFlow lists a GPU, with memory growth set before loading', async () => {
    const logs: string[] = [];
    const choice = await chooseBackend(undefined, {
      packages: packages('fake-tfjs-node-gpu', 'missing-tfjs-node'),
      log: (m) => logs.push(m),
    });
    expect(choice).toMatchObject({ backend: 'tensorflow-gpu', engine: 'tensorflow', package: fixture('fake-tfjs-node-gpu'), skipped: [] });
    expect(tf.getBackend()).toBe('tensorflow');
    const native = tf.backend() as unknown as { allowGrowthAtLoad?: string };
    expect(native.allowGrowthAtLoad).toBe('true');
    // It computes: the backend is real, not a name.
    expect(Array.from(tf.tidy(() => tf.add(tf.tensor1d([1, 2]), 1).dataSync()))).toEqual([2, 3]);
    expect(logs).toEqual([`tfjs backend: tensorflow-gpu (${fixture('fake-tfjs-node-gpu')})`]);
  });

  it('an explicitly requested GPU backend without a GPU device is an error naming why, not a fallback', async () => {
    const attempt = chooseBackend('tensorflow-gpu', {
      source: 'SWEEPD_TF_BACKEND',
      packages: packages('fake-tfjs-node-gpu-no-device', 'fake-tfjs-node'),
    });
    await expect(attempt).rejects.toThrow(BackendUnavailableError);
    await expect(attempt).rejects.toThrow(
      /^tfjs backend tensorflow-gpu was asked for \(SWEEPD_TF_BACKEND\) but cannot be used: .*fake-tfjs-node-gpu-no-device\.js loaded, but TensorFlow found no GPU device/,
    );
  });

  it('an explicitly requested backend whose package is missing is an error too', async () => {
    await expect(
      chooseBackend('tensorflow', { source: 'the runner option backend', packages: packages('missing-gpu', 'missing-cpu') }),
    ).rejects.toThrow('tfjs backend tensorflow was asked for (the runner option backend) but cannot be used: package not installed');
  });

  it('without a GPU package, the best that loads is chosen and the skipped ones say why', async () => {
    const choice = await chooseBackend(undefined, { packages: packages('missing-tfjs-node-gpu', 'fake-tfjs-node') });
    expect(choice).toMatchObject({
      backend: 'tensorflow',
      engine: 'tensorflow',
      package: fixture('fake-tfjs-node'),
      skipped: ['tensorflow-gpu: package not installed'],
    });
  });
});
