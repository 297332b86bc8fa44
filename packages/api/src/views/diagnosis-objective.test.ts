import { parseSpecText } from '@sweepd/core';
import { describe, expect, it } from 'vitest';
import { diagnosisObjective } from './diagnosis-objective.ts';

const spec = (learningRate: string) =>
  parseSpecText(`
name: d
objective: { metric: val_auc_macro, direction: maximize }
space: { learning_rate: ${learningRate}, optimizer: { type: categorical, choices: [adam, sgd] } }
budget: { max_trials: 2, max_epochs: 3 }
trainer: { runner: simulate }
`);

describe('diagnosisObjective', () => {
  it("gives the diagnosis the study's learning_rate range when it searches one", () => {
    expect(diagnosisObjective(spec('{ type: float, low: 1.0e-6, high: 0.1, log: true }'))).toEqual({
      metric: 'val_auc_macro',
      direction: 'maximize',
      learningRateRange: { low: 1e-6, high: 0.1, name: 'learning_rate' },
    });
    expect(diagnosisObjective(spec('{ type: categorical, choices: [0.01, 0.001, 0.003] }')).learningRateRange).toEqual({
      low: 0.001,
      high: 0.01,
      name: 'learning_rate',
    });
    // A script's own name for it.
    const lr = parseSpecText(`
name: d
objective: { metric: val_auc_macro, direction: maximize }
space: { lr: { type: float, low: 1.0e-5, high: 0.01, log: true } }
budget: { max_trials: 2, max_epochs: 3 }
trainer: { runner: simulate }
`);
    expect(diagnosisObjective(lr).learningRateRange).toEqual({ low: 1e-5, high: 0.01, name: 'lr' });
    const fixedRate = parseSpecText(`
name: d
objective: { metric: val_auc_macro, direction: maximize }
space: { optimizer: { type: categorical, choices: [adam, sgd] } }
budget: { max_trials: 2, max_epochs: 3 }
trainer: { runner: simulate }
`);
    expect(diagnosisObjective(fixedRate)).toEqual({ metric: 'val_auc_macro', direction: 'maximize' });
  });
});
