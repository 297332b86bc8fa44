import { describe, expect, it } from 'vitest';
import { type TrialForText, trialText } from './trial-text.ts';

/** A running trial with nothing reported yet. */
function running(number: number): TrialForText {
  return { study: 'st_a', number, state: 'running', value: null, reason: null, params: {}, notes: {}, epochs: [], diagnosis: null };
}

describe('sweepd trial', () => {
  it('prints state, best value, parameters, reason, the objective by epoch (NaN as NaN), the diagnosis and the logs', () => {
    const text = trialText(
      {
        study: 'st_a',
        number: 3,
        state: 'stopped',
        value: 0.7312,
        reason: 'divergence: train_loss is NaN at epoch 3',
        params: { learning_rate: 0.3, optimizer: 'adam' },
        notes: { trial_dir: '/data/.sweepd/trials/tr_x' },
        logs: { dir: '/data/.sweepd/trials/tr_x', host: null },
        epochs: [
          { epoch: 2, metrics: { val_auc_macro: 0.7312 } },
          { epoch: 1, metrics: { val_auc_macro: 0.7 } },
          { epoch: 3, metrics: { val_auc_macro: null, train_loss: null } },
        ],
        diagnosis: {
          verdict: 'diverged',
          summary: 'Diverged (train_loss is NaN at epoch 3): the learning rate 0.3 is too high.',
          evidence: ['val_auc_macro: 0.700 → 0.731 over 2 epoch(s).'],
          advice: "Try learning rates 3e-4 … 0.03, below this trial's 0.3.",
        },
      },
      'val_auc_macro',
    );
    expect(text).toBe(
      [
        'trial 3 of st_a · stopped · best val_auc_macro 0.7312',
        '  params: learning_rate=0.3, optimizer=adam',
        '  reason: divergence: train_loss is NaN at epoch 3',
        '  val_auc_macro by epoch (3): 0.7000 → 0.7312 → non-finite',
        '  diagnosis: Diverged (train_loss is NaN at epoch 3): the learning rate 0.3 is too high.',
        '    - val_auc_macro: 0.700 → 0.731 over 2 epoch(s).',
        "    advice: Try learning rates 3e-4 … 0.03, below this trial's 0.3.",
        '  logs: /data/.sweepd/trials/tr_x (stdout.log, stderr.log, on the worker that ran it)',
        '',
      ].join('\n'),
    );
  });

  it('a queued trial of a study whose pool no worker serves says why it waits; a running one does not', () => {
    const queued = { ...running(0), state: 'queued' };
    const why = "no worker serves pool 'gpux' now (…): its trials wait until one joins (sweepd worker --pool gpux, …)";
    expect(trialText(queued, 'loss', why).split('\n')[2]).toBe(`  waiting: ${why}`);
    expect(trialText(running(0), 'loss', why)).not.toContain('waiting');
    expect(trialText(queued, 'loss')).not.toContain('waiting');
  });

  it('shortens a long curve to its start and end', () => {
    const epochs = Array.from({ length: 30 }, (_, i) => ({ epoch: i + 1, metrics: { loss: 1 / (i + 1) } }));
    const text = trialText(
      { study: 'st_a', number: 0, state: 'running', value: null, reason: null, params: {}, notes: {}, epochs, diagnosis: null },
      'loss',
    );
    expect(text).toContain('  loss by epoch (30): 1.0000 → 0.5000 → 0.3333 → … → ');
    expect(text.split(' → ')).toHaveLength(12);
  });

  it('a failed trial shows the end of its stderr, as the dashboard does', () => {
    const stderr = Array.from({ length: 15 }, (_, i) => `line ${i + 1}`);
    stderr[14] = 'RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB';
    const text = trialText(
      {
        study: 'st_a',
        number: 2,
        state: 'failed',
        value: null,
        reason: 'exit code 1: RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB',
        params: {},
        notes: { stderr_tail: stderr, trial_dir: '/t' },
        epochs: [],
        diagnosis: null,
      },
      'val_auc_macro',
    );
    expect(text).toContain(['  stderr (last 12 lines):', '    | line 4', ...stderr.slice(4).map((l) => `    | ${l}`)].join('\n'));
    expect(text).not.toContain('| line 3\n');
  });

  it('says where the logs are, on which host when the daemon knows it', () => {
    const trial = {
      study: 'st_a',
      number: 4,
      state: 'stopped',
      value: 0.61,
      reason: null,
      params: {},
      notes: {},
      epochs: [],
      diagnosis: null,
    };
    expect(trialText({ ...trial, logs: { dir: '/w/trials/tr_4', host: 'gpu-box-2' } }, 'm')).toContain(
      '  logs: /w/trials/tr_4 (stdout.log, stderr.log, on host gpu-box-2)\n',
    );
    expect(trialText({ ...trial, logs: { dir: '/w/trials/tr_4', host: null } }, 'm')).toContain(
      '(stdout.log, stderr.log, on the worker that ran it)',
    );
    expect(trialText({ ...trial, logs: null }, 'm')).not.toContain('logs:');
  });

  it('says when its epochs come from a later delivery of its job', () => {
    const text = trialText(
      {
        study: 'st_a',
        number: 1,
        state: 'running',
        value: 0.6,
        reason: null,
        params: {},
        notes: {},
        epochs: [],
        diagnosis: null,
        attempt: 2,
      },
      'val_auc_macro',
    );
    expect(text).toContain('  delivery: 2 (its job was delivered again, after a worker died or handed it back;');
    expect(trialText({ ...running(1), attempt: 1 }, 'm')).not.toContain('delivery');
  });
});
