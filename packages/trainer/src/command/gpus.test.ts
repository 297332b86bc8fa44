import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GpuSlots, listGpus, phantomGpuWarning, resolveGpus } from './gpus.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'sweepd-gpus-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A stand-in nvidia-smi: answers the index query with `output`, or fails with `code`. */
function fakeNvidiaSmi(name: string, output: string, code = 0): string {
  const file = path.join(dir, name);
  writeFileSync(
    file,
    `#!/bin/sh\nif [ "$1 $2" != "--query-gpu=index --format=csv,noheader" ]; then echo "bad args: $*" >&2; exit 9; fi\nprintf '${output}'\nexit ${code}\n`,
  );
  chmodSync(file, 0o755);
  return file;
}

describe('GPUs', () => {
  it('lists what nvidia-smi lists, and none when it is not installed', () => {
    expect(listGpus(fakeNvidiaSmi('four', '0\\n1\\n2\\n3\\n'))).toEqual(['0', '1', '2', '3']);
    expect(listGpus(path.join(dir, 'absent'))).toEqual([]);
    expect(() =>
      listGpus(fakeNvidiaSmi('broken', 'NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver', 9)),
    ).toThrow(/exited with 9: NVIDIA-SMI has failed/);
  });

  it('takes every GPU by default, the requested ones otherwise, and refuses one that does not exist', () => {
    expect(resolveGpus(undefined, ['0', '1'])).toEqual(['0', '1']);
    expect(resolveGpus('1', ['0', '1'])).toEqual(['1']);
    expect(resolveGpus('all', ['0', '1'])).toEqual(['0', '1']);
    expect(resolveGpus('none', ['0', '1'])).toEqual([]);
    expect(() => resolveGpus(' ', ['0', '1'])).toThrow('--gpus is empty: give GPU indices (0,1), all, or none');
    expect(() => resolveGpus('0,2,x,0', ['0', '1'])).toThrow(
      "--gpus 0,2,x,0: GPU 2 does not exist (nvidia-smi lists 0, 1); 'x' is not a GPU index; GPU 0 is listed twice",
    );
    expect(() => resolveGpus('all', [])).toThrow('--gpus all: no GPU on this host (nvidia-smi is not installed, or lists none)');
    expect(() => resolveGpus('0', [])).toThrow('GPU 0 does not exist (nvidia-smi lists none)');
  });

  it('gives each trial a GPU of its own and makes the next wait for one', async () => {
    const slots = new GpuSlots(['0', '1']);
    const a = await slots.acquire();
    const b = await slots.acquire();
    expect([a, b]).toEqual(['0', '1']);
    let third: string | undefined;
    const waiting = slots.acquire().then((g) => {
      third = g;
    });
    await new Promise((r) => setTimeout(r, 10));
    expect(third).toBeUndefined();
    slots.release(b);
    await waiting;
    expect(third).toBe('1');
  });
});

describe('phantomGpuWarning', () => {
  it('warns where CUDA_VISIBLE_DEVICES names GPUs nvidia-smi does not list, and only there', () => {
    expect(phantomGpuWarning([], { CUDA_VISIBLE_DEVICES: '0' })).toBe(
      'CUDA_VISIBLE_DEVICES names GPU 0, but nvidia-smi lists none: command trials train on the CPU here, and no GPU is recorded for them',
    );
    expect(phantomGpuWarning(['0'], { CUDA_VISIBLE_DEVICES: '0' })).toBeUndefined();
    for (const hidden of ['', '-1', ' ']) expect(phantomGpuWarning([], { CUDA_VISIBLE_DEVICES: hidden })).toBeUndefined();
    expect(phantomGpuWarning([], {})).toBeUndefined();
  });
});
