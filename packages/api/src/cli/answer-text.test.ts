import { describe, expect, it } from 'vitest';
import { parseSpec, type TrialRecord } from '@sweepd/core';
import { studyAnswer } from '../views/answer.ts';
import { answerText } from './answer-text.ts';

const spec = parseSpec({
  name: 'answer-text',
  objective: { metric: 'val_auc_macro', direction: 'maximize' },
  space: {
    optimizer: { type: 'categorical', choices: ['rmsprop', 'adam'] },
    learning_rate: { type: 'float', low: 1e-8, high: 0.1, log: true },
  },
  baseline: { optimizer: 'rmsprop', learning_rate: 0.01 },
  budget: { max_trials: 4, max_epochs: 3 },
});

const trial = (number: number, params: TrialRecord['params'], curve: number[], baseline = false): TrialRecord => ({
  id: `tr_${number}`,
  studyId: 'st_x',
  number,
  params,
  state: 'completed',
  value: Math.max(...curve),
  epochs: curve.map((v, i) => ({
    epoch: i + 1,
    metrics: { val_auc_macro: v },
    layers: [{ layer: 'conv3', trainable: true, kernelMovement: 0.003 * (i + 1), biasMovement: 0.02 }],
  })),
  ...(baseline ? { tags: { baseline: true } } : {}),
  createdAt: new Date(0),
});

describe('answerText (sweepd watch)', () => {
  it('prints the verdict, each change, and the diagnosis of the baseline', () => {
    const answer = studyAnswer(spec, 'completed', [
      trial(0, { optimizer: 'rmsprop', learning_rate: 0.01 }, [0.6, 0.75, 0.86], true),
      trial(1, { optimizer: 'adam', learning_rate: 3e-4 }, [0.7, 0.85, 0.91]),
    ]);
    const lines = answerText(answer, 'val_auc_macro').trimEnd().split('\n');
    expect(lines[0]).toBe("answer: Change to optimizer=adam, learning_rate=3e-4: val_auc_macro 0.91 against your config's 0.86 (+0.05).");
    expect(lines.slice(1, 4)).toEqual(['  changes:', '    optimizer: rmsprop → adam', '    learning_rate: 0.01 → 3e-4']);
    expect(lines[4]).toBe(`  your config (trial 0, completed, val_auc_macro 0.8600): ${answer.baseline?.diagnosis.summary}`);
    expect(answer.baseline?.diagnosis.verdict).toBe('static-kernels-but-learning');
    expect(lines.slice(5).some((l) => l.startsWith('    - '))).toBe(true);
  });

  it('says under the verdict how many trials failed, and why', () => {
    const crashed: TrialRecord = {
      ...trial(2, { optimizer: 'adam', learning_rate: 0.09 }, [0.8]),
      state: 'failed',
      reason: 'exit code 4: CUDA error: an illegal memory access',
    };
    const answer = studyAnswer(spec, 'completed', [
      trial(0, { optimizer: 'rmsprop', learning_rate: 0.01 }, [0.6, 0.75, 0.86], true),
      trial(1, { optimizer: 'adam', learning_rate: 3e-4 }, [0.7, 0.85, 0.91]),
      crashed,
    ]);
    expect(answerText(answer, 'val_auc_macro').split('\n')[1]).toBe(
      '  1 of 3 trials failed: exit code 4: CUDA error: an illegal memory access. It is not ranked, whatever it reported before failing.',
    );
  });
});
