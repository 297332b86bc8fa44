import { describe, expect, it } from 'vitest';
import { workerSlots } from './worker.ts';

describe('sweepd worker: GPUs and concurrency', () => {
  const twoGpus = () => ['0', '1'];
  const noGpu = () => [];

  it('runs one trial per GPU by default, and one trial on a host without GPUs', () => {
    expect(workerSlots({}, twoGpus)).toEqual({ gpus: ['0', '1'], concurrency: 2 });
    expect(workerSlots({ gpus: '1' }, twoGpus)).toEqual({ gpus: ['1'], concurrency: 1 });
    expect(workerSlots({ concurrency: 1 }, twoGpus)).toEqual({ gpus: ['0', '1'], concurrency: 1 });
    expect(workerSlots({}, noGpu)).toEqual({ gpus: [], concurrency: 1 });
    expect(workerSlots({ concurrency: 4 }, noGpu)).toEqual({ gpus: [], concurrency: 4 });
  });

  it('does not ask nvidia-smi for --gpus none', () => {
    expect(
      workerSlots({ gpus: 'none', concurrency: 3 }, () => {
        throw new Error('nvidia-smi asked');
      }),
    ).toEqual({ gpus: [], concurrency: 3 });
  });

  it('refuses more trials at once than GPUs, and a GPU the host does not have', () => {
    expect(() => workerSlots({ concurrency: 3 }, twoGpus)).toThrow(
      '--concurrency 3 is more than the 2 GPU(s) this worker uses (one trial per GPU)',
    );
    expect(() => workerSlots({ gpus: '2' }, twoGpus)).toThrow('--gpus 2: GPU 2 does not exist (nvidia-smi lists 0, 1)');
  });
});
