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
  const twoGpus = () => ['0', '1'];
  const noGpu = () => [];
  const everything = () => true;
  const nothing = () => false;

  it('is refused at start when it cannot train here, saying why and what to do', () => {
    expect(() => checkRequestedBackend({ SWEEPD_TF_BACKEND: 'tensorflow-gpu' }, { listGpus: twoGpus, packageInstalled: nothing })).toThrow(
      'SWEEPD_TF_BACKEND=tensorflow-gpu needs @tensorflow/tfjs-node-gpu, which is not installed here: install it (npm install @tensorflow/tfjs-node-gpu), or unset SWEEPD_TF_BACKEND',
    );
    expect(() => checkRequestedBackend({ SWEEPD_TF_BACKEND: 'tfjs-node' }, { packageInstalled: nothing })).toThrow(
      'needs @tensorflow/tfjs-node, which is not installed here',
    );
    expect(() => checkRequestedBackend({ SWEEPD_TF_BACKEND: 'gpu' }, { listGpus: noGpu, packageInstalled: everything })).toThrow(
      'SWEEPD_TF_BACKEND=gpu asks for the GPU, and no GPU is visible here (nvidia-smi lists none)',
    );
    expect(() =>
      checkRequestedBackend(
        { SWEEPD_TF_BACKEND: 'tensorflow-gpu', CUDA_VISIBLE_DEVICES: '' },
        { listGpus: twoGpus, packageInstalled: everything },
      ),
    ).toThrow('(CUDA_VISIBLE_DEVICES lists none)');
    expect(() => checkRequestedBackend({ SWEEPD_TF_BACKEND: 'cuda' })).toThrow(/unknown tfjs backend "cuda"/);
  });

  it('starts when it can, or when none is asked for', () => {
    checkRequestedBackend({}, { listGpus: noGpu, packageInstalled: nothing });
    checkRequestedBackend({ SWEEPD_TF_BACKEND: 'wasm' }, { listGpus: noGpu, packageInstalled: nothing });
    checkRequestedBackend({ SWEEPD_TF_BACKEND: 'cpu' }, { listGpus: noGpu, packageInstalled: nothing });
    checkRequestedBackend({ SWEEPD_TF_BACKEND: 'tensorflow' }, { listGpus: noGpu, packageInstalled: everything });
    checkRequestedBackend({ SWEEPD_TF_BACKEND: 'tensorflow-gpu' }, { listGpus: twoGpus, packageInstalled: everything });
  });
});
