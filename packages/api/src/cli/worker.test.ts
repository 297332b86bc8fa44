import { describe, expect, it } from 'vitest';
import { runCommand } from './commands.ts';
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

  it('refuses an empty --gpus (an unset variable) instead of training a GPU pool on the CPU', () => {
    expect(() => workerSlots({ gpus: '' }, twoGpus)).toThrow('--gpus is empty: give GPU indices (0,1), all, or none');
    expect(() => workerSlots({ gpus: ' ' }, noGpu)).toThrow('--gpus is empty');
  });

  it('names SWEEPD_LOG_LEVEL when its value is not a level, before connecting to anything', async () => {
    const before = process.env.SWEEPD_LOG_LEVEL;
    process.env.SWEEPD_LOG_LEVEL = 'verbose';
    try {
      await expect(runCommand('worker', ['--nats', 'nats://127.0.0.1:1', '--gpus', 'none'])).rejects.toThrow(
        "SWEEPD_LOG_LEVEL must be debug, info, warn or error (got 'verbose')",
      );
    } finally {
      if (before === undefined) delete process.env.SWEEPD_LOG_LEVEL;
      else process.env.SWEEPD_LOG_LEVEL = before;
    }
  });
});
