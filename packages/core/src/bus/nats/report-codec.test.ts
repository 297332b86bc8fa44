import { describe, expect, it } from 'vitest';
import type { Report } from '../../types.ts';
import { decodeReport, encodeReport } from './report-codec.ts';

describe('report codec', () => {
  it('carries NaN and ±Infinity anywhere in a report, where plain JSON would write null', () => {
    const report: Report = {
      kind: 'epoch',
      studyId: 's',
      trialId: 't',
      epoch: 3,
      metrics: { val_loss: Number.NaN, train_loss: Number.POSITIVE_INFINITY, val_auc_macro: 0.5 },
      layers: [{ layer: 'conv1', trainable: true, kernelMovement: Number.NEGATIVE_INFINITY, quantiles: [0, Number.NaN, 1] }],
      notes: { diverged: true, deep: { x: Number.NaN } },
    };
    expect(JSON.parse(JSON.stringify(report)).metrics.val_loss).toBeNull();
    const back = decodeReport(encodeReport(report));
    expect(back).toEqual(report);
    if (back.kind !== 'epoch') throw new Error('kind');
    expect(Number.isNaN(back.metrics.val_loss)).toBe(true);
    expect(back.metrics.train_loss).toBe(Number.POSITIVE_INFINITY);
    expect(back.layers[0]?.kernelMovement).toBe(Number.NEGATIVE_INFINITY);
  });

  it('leaves ordinary reports as plain JSON and refuses a bad float token', () => {
    const start: Report = { kind: 'start', studyId: 's', trialId: 't', worker: 'w' };
    expect(encodeReport(start)).toBe(JSON.stringify(start));
    expect(() => decodeReport('{"kind":"epoch","metrics":{"a":{"$float":"lots"}}}')).toThrow(/not a number/);
  });
});
