import { describe, expect, it } from 'vitest';
import { checkRequestedBackend, gpuTrainerDevices, visibleGpus } from './gpu.ts';

describe('one trainer process per GPU', () => {
  // What nvidia-smi --query-gpu=index lists on a two-GPU host, and on a host without GPUs.
  const twoGpus = () => ['0', '1'];
  const noGpu = () => [];

  it('takes the GPUs nvidia-smi lists, narrowed by CUDA_VISIBLE_DEVICES', () => {
    expect(visibleGpus({}, twoGpus)).toEqual(['0', '1']);
    expect(visibleGpus({ CUDA_VISIBLE_DEVICES: '1' }, twoGpus)).toEqual(['1']);
    expect(visibleGpus({ CUDA_VISIBLE_DEVICES: 'GPU-3f2a, GPU-77c1' }, twoGpus)).toEqual(['GPU-3f2a', 'GPU-77c1']);
    expect(visibleGpus({ CUDA_VISIBLE_DEVICES: '' }, twoGpus)).toEqual([]);
    expect(visibleGpus({}, noGpu)).toEqual([]);
  });

  it('gives one device per trainer process when the GPU backend will train, none otherwise', () => {
    const installed = { listGpus: twoGpus, gpuPackageInstalled: () => true };
    const absent = { listGpus: twoGpus, gpuPackageInstalled: () => false };
    expect(gpuTrainerDevices({}, installed)).toEqual(['0', '1']);
    expect(gpuTrainerDevices({}, absent)).toBeUndefined();
    expect(gpuTrainerDevices({ SWEEPD_TF_BACKEND: 'tfjs-node-gpu' }, absent)).toEqual(['0', '1']);
    expect(gpuTrainerDevices({ SWEEPD_TF_BACKEND: 'wasm' }, installed)).toBeUndefined();
    expect(gpuTrainerDevices({ CUDA_VISIBLE_DEVICES: '' }, installed)).toBeUndefined();
    expect(gpuTrainerDevices({}, { listGpus: noGpu, gpuPackageInstalled: () => true })).toBeUndefined();
    // Without the GPU package nothing is listed at all: a host with a broken driver still starts.
    expect(
      gpuTrainerDevices(
        {},
        {
          listGpus: () => {
            throw new Error('nvidia-smi exited with 9');
          },
          gpuPackageInstalled: () => false,
        },
      ),
    ).toBeUndefined();
    expect(() => gpuTrainerDevices({ SWEEPD_TF_BACKEND: 'cuda' }, installed)).toThrow(/unknown tfjs backend "cuda"/);
  });
});

describe('a tfjs backend asked for by SWEEPD_TF_BACKEND', () => {
  const everything = () => true;
  const nothing = () => false;

  it('is refused at start when its package is not installed, saying so and what to do', () => {
    expect(() => checkRequestedBackend({ SWEEPD_TF_BACKEND: 'tensorflow-gpu' }, { packageInstalled: nothing })).toThrow(
      'SWEEPD_TF_BACKEND=tensorflow-gpu needs @tensorflow/tfjs-node-gpu, which is not installed here: install it (npm install @tensorflow/tfjs-node-gpu), or unset SWEEPD_TF_BACKEND',
    );
    expect(() => checkRequestedBackend({ SWEEPD_TF_BACKEND: 'tfjs-node' }, { packageInstalled: nothing })).toThrow(
      'needs @tensorflow/tfjs-node, which is not installed here',
    );
    expect(() => checkRequestedBackend({ SWEEPD_TF_BACKEND: 'cuda' })).toThrow(/unknown tfjs backend "cuda"/);
  });

  it('starts when it is installed, needs no package, or none is asked for', () => {
    checkRequestedBackend({}, { packageInstalled: nothing });
    checkRequestedBackend({ SWEEPD_TF_BACKEND: 'wasm' }, { packageInstalled: nothing });
    checkRequestedBackend({ SWEEPD_TF_BACKEND: 'cpu' }, { packageInstalled: nothing });
    checkRequestedBackend({ SWEEPD_TF_BACKEND: 'tensorflow' }, { packageInstalled: everything });
    // No nvidia-smi here (a container may have the GPU without it): the trainer judges the GPU.
    checkRequestedBackend({ SWEEPD_TF_BACKEND: 'tensorflow-gpu', CUDA_VISIBLE_DEVICES: '' }, { packageInstalled: everything });
  });
});
