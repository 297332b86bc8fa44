import { describe, expect, it } from 'vitest';
import { renderBestConfig } from './export.ts';

describe('renderBestConfig flags', () => {
  it('writes booleans as the command runner passes them, and quotes what the shell would split', () => {
    const best = {
      study: 'st_x',
      trial: 3,
      objective: { metric: 'val_auc_macro', direction: 'maximize' as const, value: 0.9 },
      config: { learning_rate: 0.001, rmsprop_tf1: true, use_bf16: false, optimizer: 'adam', note: 'a b' },
    };
    expect(renderBestConfig(best, 'flags').body).toBe("--learning_rate=0.001 --rmsprop_tf1 --nouse_bf16 --optimizer=adam --note='a b'\n");
  });
});
