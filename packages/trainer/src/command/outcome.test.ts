import { describe, expect, it } from 'vitest';
import { decideOutcome, errorLine } from './outcome.ts';

describe('the failure reason of a command trial', () => {
  it("names the script's last exception line, not the teardown noise printed after it", () => {
    const tail = [
      'Traceback (most recent call last):',
      '  File "train.py", line 9, in <module>',
      'torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB',
      'Exception ignored in atexit callback: <function _exit_function at 0x7f>',
      'KeyboardInterrupt: ',
      '',
    ];
    // KeyboardInterrupt from the atexit handler is the last exception: shown as such.
    expect(errorLine(tail)).toBe('KeyboardInterrupt:');
    expect(errorLine(tail.slice(0, 4))).toBe('torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB');
    expect(errorLine(['Error: cannot open /data/train', '    at Object.<anonymous> (train.js:1:7)'])).toBe(
      'Error: cannot open /data/train',
    );
    // No exception line: the last non-empty one.
    expect(errorLine(['loading data', 'out of disk space', '  '])).toBe('out of disk space');
    expect(errorLine([])).toBeUndefined();
  });

  it('puts it after the exit code', () => {
    const outcome = decideOutcome({
      end: { code: 1, signal: null },
      stopped: undefined,
      hung: undefined,
      sink: { badLines: 0, badExamples: [], metricsSeen: new Set(), epochsReported: 0 },
      stderrTail: ['ValueError: --frozen_layers=9 is out of range', 'Exception ignored in: <module threading>'],
      objective: 'val_auc_macro',
      notes: {},
    });
    expect(outcome).toMatchObject({ state: 'failed', reason: 'exit code 1: ValueError: --frozen_layers=9 is out of range' });
  });
});
