import { describe, expect, it } from 'vitest';
import { threadsPerProcess } from '../process/pool.ts';
import { defaultThreads, TRAINER_THREADS_ENV } from './data-parallel.ts';

// The embedded daemon's process pool runs one trial per trainer process; each tfjs runner then
// starts its own gradient threads. Together they must not ask for more threads than cores.
describe('trainer thread budget', () => {
  it('splits the cores evenly between the pool processes, at least one each', () => {
    expect(threadsPerProcess(1, 2)).toBe(2);
    expect(threadsPerProcess(2, 2)).toBe(1);
    expect(threadsPerProcess(3, 8)).toBe(2);
    expect(threadsPerProcess(4, 2)).toBe(1);
  });

  it('makes the wasm runner default to the pool share, else min(2, cores); other backends 1', () => {
    expect(defaultThreads('wasm', { [TRAINER_THREADS_ENV]: '1' })).toBe(1);
    expect(defaultThreads('wasm', { [TRAINER_THREADS_ENV]: '3' })).toBe(3);
    expect(defaultThreads('wasm', {})).toBeGreaterThanOrEqual(1);
    expect(defaultThreads('wasm', {})).toBeLessThanOrEqual(2);
    expect(defaultThreads('cpu', { [TRAINER_THREADS_ENV]: '4' })).toBe(1);
  });

  it('refuses a malformed SWEEPD_TRAINER_THREADS by name', () => {
    for (const bad of ['0', '-1', '1.5', 'two', '65'])
      expect(() => defaultThreads('wasm', { [TRAINER_THREADS_ENV]: bad })).toThrow(/SWEEPD_TRAINER_THREADS must be an integer/);
  });
});
