import { describe, expect, it } from 'vitest';
import { learningRateOf, learningRateParam, optimizerOf } from './param-names.ts';

describe('param-names', () => {
  it('finds the learning rate and the optimizer under the names scripts give them', () => {
    expect(learningRateOf({ params: { learning_rate: 0.01, lr: 0.5 } })).toBe(0.01);
    expect(learningRateOf({ params: { lr: 3e-4 } })).toBe(3e-4);
    expect(learningRateOf({ params: { base_lr: 0.1 } })).toBe(0.1);
    expect(learningRateOf({ params: { lr: 'auto' } })).toBeUndefined();
    expect(learningRateOf({ params: { lr_decay: 0.9 } })).toBeUndefined();
    expect(learningRateParam(['optimizer', 'lr'])).toBe('lr');
    expect(learningRateParam(['lr', 'learning_rate'])).toBe('learning_rate');
    expect(optimizerOf({ params: { opt: 'adam', opt_epsilon: 1e-8 } })).toBe('adam');
    expect(optimizerOf({ params: { optimizer: 'sgd', opt: 'adam' } })).toBe('sgd');
    expect(optimizerOf({ params: { optim: 'rmsprop' } })).toBe('rmsprop');
    expect(optimizerOf({ params: { opt_epsilon: 1e-8 } })).toBeUndefined();
  });
});
