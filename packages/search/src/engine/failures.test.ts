import { describe, expect, it } from 'vitest';
import { describeFailures } from './failures.ts';

describe('describeFailures', () => {
  it('names the commonest reason and how many others there were', () => {
    expect(describeFailures(['exit code 1: OOM', 'exit code 1: OOM', 'hung'], 'all')).toBe(
      'all 3 trials failed; 2 of them: exit code 1: OOM (and 1 other reason)',
    );
    expect(describeFailures(['exit code 1: OOM', 'exit code 1: OOM'], { inARowLimit: 2 })).toBe(
      '2 trials in a row failed: exit code 1: OOM',
    );
    // Two trials ended together past the limit: the count is said beside the limit.
    expect(describeFailures(['OOM', 'OOM', 'OOM'], { inARowLimit: 2 })).toBe(
      '3 trials in a row failed (the limit, budget.max_consecutive_failures, is 2): OOM',
    );
    expect(describeFailures(['exit code 4: CUDA error', 'hung', 'exit code 4: CUDA error'], { of: 8 })).toBe(
      '3 of 8 trials failed; 2 of them: exit code 4: CUDA error (and 1 other reason)',
    );
  });

  it('counts a failure that came after a stop request as the same reason', () => {
    const boom = 'exit code 1: RuntimeError: boom at epoch 2';
    expect(
      describeFailures(
        [
          boom,
          boom,
          `${boom} (after it was asked to stop: study failed: 3 trials in a row failed (the limit, budget.max_consecutive_failures, is 2): ${boom})`,
        ],
        'all',
      ),
    ).toBe(`all 3 trials failed: ${boom}`);
  });

  it('says one trial as one', () => {
    expect(describeFailures(['exit code 3'], 'all')).toBe('its one trial failed: exit code 3');
    expect(describeFailures(['NaN at epoch 1'], { noValueOf: 'val_auc_macro' })).toBe(
      'its one trial reported no finite val_auc_macro: NaN at epoch 1',
    );
  });

  it('says how many diverged, and of what the others were', () => {
    const diverged = (n: number, of: number) =>
      describeFailures(Array(n).fill('train_loss is NaN at epoch 2'), { diverged: n, of, metric: 'val_auc_macro' });
    expect(diverged(3, 3)).toBe('all 3 trials diverged: train_loss is NaN at epoch 2');
    expect(diverged(1, 1)).toBe('its one trial diverged: train_loss is NaN at epoch 2');
    expect(diverged(1, 6)).toBe(
      'its one trial with a val_auc_macro to rank diverged (the other 5 failed or reported no finite val_auc_macro): train_loss is NaN at epoch 2',
    );
  });
});
