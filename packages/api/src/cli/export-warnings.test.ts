import { describe, expect, it } from 'vitest';
import { exportWarnings } from './commands.ts';

describe('export warnings (stderr, beside the config on stdout)', () => {
  it('say when the study failed and when the best did not learn well', () => {
    const caveat = "But trial 3's own diagnosis: Dying units, learning rate too high: 100 % of conv2's units are dead.";
    expect(exportWarnings({ id: 'st_a', state: 'failed', reason: 'every trial failed', answer: { best: { trial: 3 }, caveat } })).toEqual([
      'note: study st_a failed (every trial failed); this is its best trial before it did.',
      "note: trial 3's own diagnosis: Dying units, learning rate too high: 100 % of conv2's units are dead.",
    ]);
  });

  it("say that flags are not a command runner study's whole command line", () => {
    const study = {
      id: 'st_c',
      state: 'completed',
      reason: null,
      answer: { best: { trial: 1 } },
      spec: { trainer: { runner: 'command', options: { command: ['python3', 'finetune.py', '--train_size=3072'] } } },
    };
    expect(exportWarnings(study, 'flags')).toEqual([
      'note: these are the searched and fixed parameters only; each trial ran them after its command (python3 finetune.py --train_size=3072), whose own arguments (model, data, sizes) are not repeated here.',
    ]);
    // JSON and YAML say what they are: a config, not a command line.
    expect(exportWarnings(study, 'json')).toEqual([]);
    const withArgs = (args: string) => ({
      ...study,
      spec: { trainer: { runner: 'command', options: { command: ['python3', 'train.py', '--lr={learning_rate}'], args } } },
    });
    expect(exportWarnings(withArgs('placeholders'), 'flags')).toEqual([
      "note: these are the searched and fixed parameters as flags; the trials got them in their command's placeholders (python3 train.py --lr={learning_rate}), not as flags.",
    ]);
    expect(exportWarnings(withArgs('none'), 'flags')[0]).toMatch(
      /the trials read them from the params file \(args: none\), not from their command line/,
    );
  });

  it('are none for a completed study whose best learned', () => {
    expect(exportWarnings({ id: 'st_a', state: 'completed', reason: null, answer: { best: { trial: 1 } } })).toEqual([]);
  });
});
