import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gpuTrainerDevices, visibleGpus } from './gpu.ts';

describe('one trainer process per GPU', () => {
  let driverDir: string;
  beforeAll(async () => {
    // The layout of /proc/driver/nvidia/gpus: one directory per GPU, named by PCI address.
    driverDir = await mkdtemp(path.join(tmpdir(), 'sweepd-gpus-'));
    for (const bus of ['0000:17:00.0', '0000:65:00.0']) await mkdir(path.join(driverDir, bus));
  });
  afterAll(() => rm(driverDir, { recursive: true, force: true }));

  it('counts the GPUs the driver lists, narrowed by CUDA_VISIBLE_DEVICES', () => {
    expect(visibleGpus({}, driverDir)).toEqual(['0', '1']);
    expect(visibleGpus({ CUDA_VISIBLE_DEVICES: '1' }, driverDir)).toEqual(['1']);
    expect(visibleGpus({ CUDA_VISIBLE_DEVICES: 'GPU-3f2a, GPU-77c1' }, driverDir)).toEqual(['GPU-3f2a', 'GPU-77c1']);
    expect(visibleGpus({ CUDA_VISIBLE_DEVICES: '' }, driverDir)).toEqual([]);
    expect(visibleGpus({}, path.join(driverDir, 'no-driver'))).toEqual([]);
  });

  it('gives one device per trainer process when the GPU backend will train, none otherwise', () => {
    const installed = { driverDir, gpuPackageInstalled: () => true };
    const absent = { driverDir, gpuPackageInstalled: () => false };
    expect(gpuTrainerDevices({}, installed)).toEqual(['0', '1']);
    expect(gpuTrainerDevices({}, absent)).toBeUndefined();
    expect(gpuTrainerDevices({ SWEEPD_TF_BACKEND: 'tfjs-node-gpu' }, absent)).toEqual(['0', '1']);
    expect(gpuTrainerDevices({ SWEEPD_TF_BACKEND: 'wasm' }, installed)).toBeUndefined();
    expect(gpuTrainerDevices({ CUDA_VISIBLE_DEVICES: '' }, installed)).toBeUndefined();
    expect(() => gpuTrainerDevices({ SWEEPD_TF_BACKEND: 'cuda' }, installed)).toThrow(/unknown tfjs backend "cuda"/);
  });
});
