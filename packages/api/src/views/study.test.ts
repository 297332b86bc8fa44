import { parseSpec, type StudyRecord } from '@sweepd/core';
import { describe, expect, it } from 'vitest';
import { studyView } from './study.ts';

const study = (space: Record<string, unknown>): StudyRecord => {
  const input = { name: 'lr', objective: { metric: 'val_auc_macro' }, space, budget: { max_trials: 2, max_epochs: 1 } };
  return { id: 'st_lr', name: 'lr', state: 'running', createdAt: new Date(0), spec: parseSpec(input), specText: JSON.stringify(input) };
};

describe('studyView', () => {
  it("names the space's learning-rate parameter under whichever name it goes by, as the diagnoses read it", () => {
    const rate = { type: 'float', low: 1e-5, high: 1e-1, log: true };
    const momentum = { type: 'float', low: 0, high: 0.99 };
    expect(studyView(study({ lr: rate, momentum }), []).learningRateParam).toBe('lr');
    expect(studyView(study({ base_lr: rate }), []).learningRateParam).toBe('base_lr');
    expect(studyView(study({ momentum }), []).learningRateParam).toBeNull();
  });
});
