import { describe, expect, it } from 'vitest';
import { decideOutcome, type EndFacts, errorLine } from './outcome.ts';

/** What a sink gathered: nothing refused, nothing beyond the budget, unless `over` says so. */
function sinkOf(over: Partial<EndFacts['sink']>): EndFacts['sink'] {
  return {
    badLines: 0,
    badExamples: [],
    readProblems: 0,
    readProblemExamples: [],
    beyondBudget: 0,
    unprefixed: 0,
    metricsSeen: new Set(),
    epochsReported: 0,
    lastEpoch: 0,
    noAucClasses: [],
    unmappedScalars: [],
    ...over,
  };
}

describe('the failure reason of a command trial', () => {
  it("names the script's error, not the teardown noise Python prints after it", () => {
    const oom = [
      'Traceback (most recent call last):',
      '  File "train.py", line 9, in <module>',
      '    loss.backward()',
      'torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB',
    ];
    expect(errorLine(oom)).toBe('torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB');
    // An exception ignored at exit: its header, traceback and exception line are left out.
    const teardown = [
      'Exception ignored in atexit callback: <function _exit_function at 0x7f>',
      'Traceback (most recent call last):',
      '  File "/usr/lib/python3.11/multiprocessing/util.py", line 357, in _exit_function',
      '    p.join()',
      'KeyboardInterrupt: ',
      '',
    ];
    expect(errorLine([...oom, ...teardown])).toBe('torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB');
    expect(errorLine([...oom, 'Exception ignored in: <module threading>'])).toBe(oom[3]);
    // A plain last message (sys.exit("…")) wins over an exception handled and logged before it.
    expect(
      errorLine(['Traceback (most recent call last):', '  File "t.py", line 2', 'ConnectionError: reset', 'fatal: dataset is empty']),
    ).toBe('fatal: dataset is empty');
    // Node: the message above its indented stack.
    expect(errorLine(['Error: cannot open /data/train', '    at Object.<anonymous> (train.js:1:7)'])).toBe(
      'Error: cannot open /data/train',
    );
    expect(errorLine(['loading data', 'out of disk space', '  '])).toBe('out of disk space');
    // A flag parser's error, not its pointer to --help after it (absl: every TF-slim script).
    const absl = "FATAL Flags parsing error: Unknown command line flag 'dataset_dir'. Did you mean: dataset_name ?";
    expect(errorLine([absl, 'Pass --helpshort or --helpfull to see help on flags.'])).toBe(absl);
    expect(errorLine(['Usage: train.py [OPTIONS]', "Try 'train.py --help' for help.", '', 'Error: No such option: --lr'])).toBe(
      'Error: No such option: --lr',
    );
    expect(errorLine(['Usage: train.py [OPTIONS]', 'Error: No such option: --lr', "Try 'train.py --help' for help."])).toBe(
      'Error: No such option: --lr',
    );
    // Only teardown noise: still something rather than nothing.
    expect(errorLine(teardown)).toBe('KeyboardInterrupt:');
    expect(errorLine([])).toBeUndefined();
  });

  it('puts it after the exit code', () => {
    const outcome = decideOutcome({
      end: { code: 1, signal: null },
      stopped: undefined,
      hung: undefined,
      sink: sinkOf({}),
      stderrTail: ['ValueError: --frozen_layers=9 is out of range', 'Exception ignored in: <module threading>'],
      objective: 'val_auc_macro',
      maxEpochs: 3,
      notes: {},
    });
    expect(outcome).toMatchObject({ state: 'failed', reason: 'exit code 1: ValueError: --frozen_layers=9 is out of range' });
  });

  it('a crash after the last epoch is reported is a completed trial, with the crash as its reason', () => {
    const end = (lastEpoch: number, objective = 'val_auc_macro', maxEpochs = 3) =>
      decideOutcome({
        end: { code: null, signal: 'SIGSEGV' },
        stopped: undefined,
        hung: undefined,
        sink: sinkOf({ metricsSeen: new Set([objective]), epochsReported: lastEpoch, lastEpoch }),
        stderrTail: ['Segmentation fault in cudaFree'],
        objective: 'val_auc_macro',
        maxEpochs,
        notes: {},
      });
    expect(end(3)).toMatchObject({
      state: 'completed',
      reason: 'finished its 3 epochs, then killed by SIGSEGV: Segmentation fault in cudaFree',
      notes: { stderr_tail: ['Segmentation fault in cudaFree'] },
    });
    expect(end(2)).toMatchObject({ state: 'failed', reason: 'killed by SIGSEGV: Segmentation fault in cudaFree' });
    expect(end(1, 'val_auc_macro', 1).reason).toBe('finished its 1 epoch, then killed by SIGSEGV: Segmentation fault in cudaFree');
    // Every epoch, but never the objective: failed.
    expect(end(3, 'val_acc').state).toBe('failed');
  });

  it('a stop that came after the last epoch was reported: completed, trained in full; before it: stopped', () => {
    const end = (lastEpoch: number) =>
      decideOutcome({
        end: { code: 0, signal: null },
        stopped: 'stopped by user',
        hung: undefined,
        sink: sinkOf({ metricsSeen: new Set(['val_auc_macro']), epochsReported: lastEpoch, lastEpoch }),
        stderrTail: [],
        objective: 'val_auc_macro',
        maxEpochs: 8,
        notes: {},
      });
    expect(end(8)).toMatchObject({ state: 'completed' });
    expect(end(8).reason).toBeUndefined();
    expect(end(3)).toMatchObject({ state: 'stopped', reason: 'stopped by user' });
  });

  it('an objective never reported, with lines refused or a reader in trouble: the reason names the first of each (it may have held the objective)', () => {
    const problem = 'tensorboard: /t/train/events.out.tfevents.1: data checksum mismatch at byte offset 96';
    const line = 'metrics.jsonl line 2: not JSON';
    const outcome = decideOutcome({
      end: { code: 0, signal: null },
      stopped: undefined,
      hung: undefined,
      sink: sinkOf({
        badLines: 2,
        badExamples: [line],
        readProblems: 1,
        readProblemExamples: [problem],
        metricsSeen: new Set(['train_loss']),
        epochsReported: 3,
        lastEpoch: 3,
      }),
      stderrTail: [],
      objective: 'val_auc_macro',
      maxEpochs: 3,
      notes: {},
    });
    expect(outcome).toMatchObject({
      state: 'failed',
      reason:
        `objective metric 'val_auc_macro' was never reported; reported: train_loss; 2 report line(s) refused, the first: ${line}` +
        `; 1 problem(s) reading the reports, the first: ${problem}`,
      notes: { bad_report_lines: 2, bad_report_examples: [line], report_problems: 1, report_problem_examples: [problem] },
    });
  });

  it("names the event files' unmapped scalars that end as the objective's tag does first", () => {
    const unmappedScalars = ['train/a', 'train/b', 'train/c', 'train/d', 'train/e', 'train/f', 'eval/eval/AUC'];
    const outcome = decideOutcome({
      end: { code: 0, signal: null },
      stopped: undefined,
      hung: undefined,
      sink: sinkOf({ metricsSeen: new Set(['train_loss']), epochsReported: 3, lastEpoch: 3, unmappedScalars }),
      stderrTail: [],
      objective: 'val_auc_macro',
      objectiveTags: ['eval/AUC'],
      maxEpochs: 3,
      notes: {},
    });
    expect(outcome.reason).toBe(
      "objective metric 'val_auc_macro' was never reported; reported: train_loss; the event files also hold scalars that tensorboard.tags does not map: eval/eval/AUC, train/a, train/b, train/c, train/d and 2 more",
    );
  });

  it('an AUC average left out because no class had an AUC: the reason says so, and what to change', () => {
    const outcome = decideOutcome({
      end: { code: 0, signal: null },
      stopped: undefined,
      hung: undefined,
      sink: sinkOf({
        metricsSeen: new Set(['train_loss', 'val_loss']),
        epochsReported: 2,
        lastEpoch: 2,
        noAucClasses: ['c0', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6'],
      }),
      stderrTail: [],
      objective: 'val_auc_macro',
      maxEpochs: 2,
      notes: {},
    });
    expect(outcome).toMatchObject({
      state: 'failed',
      reason:
        "objective metric 'val_auc_macro' was never reported; reported: train_loss, val_loss. No class had an AUC to average " +
        '(c0, c1, c2, c3, c4 and 2 more had one label value in validation): validate on data that holds both label values of each class',
    });
  });

  it('a per-class objective whose class has no AUC: that class is named, not "no class had an AUC to average"', () => {
    const facts = (objective: string) => ({
      end: { code: 0, signal: null },
      stopped: undefined,
      hung: undefined,
      sink: sinkOf({
        metricsSeen: new Set(['val_auc_macro', 'val_auc[cat]', 'val_auc[dog]']),
        epochsReported: 2,
        lastEpoch: 2,
        noAucClasses: ['never'],
      }),
      stderrTail: [],
      objective,
      maxEpochs: 2,
      notes: {},
    });
    expect(decideOutcome(facts('val_auc[never]')).reason).toBe(
      "objective metric 'val_auc[never]' was never reported; reported: val_auc[cat], val_auc[dog], val_auc_macro. " +
        "Class 'never' had one label value in validation, so it has no AUC: validate on data that holds both label values of it",
    );
    expect(decideOutcome(facts('val_auc[bird]')).reason).not.toMatch(/label value/);
  });

  it('hung: what had arrived by then decides, late reports and refused lines are named, and a completed trial says what was refused', () => {
    const sink = (over: Partial<EndFacts['sink']> = {}) =>
      sinkOf({ metricsSeen: new Set(['val_auc_macro']), epochsReported: 4, lastEpoch: 4, ...over });
    const facts = (over: Partial<EndFacts>): EndFacts => ({
      end: { code: 0, signal: null },
      stopped: undefined,
      hung: undefined,
      sink: sink(),
      stderrTail: [],
      objective: 'val_auc_macro',
      maxEpochs: 4,
      notes: {},
      ...over,
    });
    const hung = { seconds: 4, option: 'report_timeout_s' };
    // Nothing had arrived when it was called hung; its four epochs came once it was stopped (never flushed).
    expect(decideOutcome(facts({ hung: { ...hung, epochsReported: 0, trained: false } }))).toMatchObject({
      state: 'failed',
      reason:
        'hung: no report for 4 s (report_timeout_s); 4 epoch report(s) arrived only after that: flush the metrics file after each line',
    });
    // Every epoch had arrived: it finished, then hung.
    expect(decideOutcome(facts({ hung: { ...hung, epochsReported: 4, trained: true } }))).toMatchObject({
      state: 'completed',
      reason: 'finished its 4 epochs, then hung: no report for 4 s (report_timeout_s)',
    });
    // Lines were written, but refused: that is why nothing counted.
    const refusedSink = sink({ badLines: 4, badExamples: ['metrics file line 1: sweepd: must be 1'], epochsReported: 0, lastEpoch: 0 });
    expect(decideOutcome(facts({ hung: { ...hung, epochsReported: 0, trained: false }, sink: refusedSink }))).toMatchObject({
      state: 'failed',
      reason: 'hung: no report for 4 s (report_timeout_s); 4 report line(s) refused, the first: metrics file line 1: sweepd: must be 1',
    });
    const zeroBased = sink({ badLines: 1, badExamples: ['metrics file line 1: epoch: must be at least 1 (epochs are 1-based)'] });
    expect(decideOutcome(facts({ sink: zeroBased }))).toMatchObject({
      state: 'completed',
      reason: '1 report line(s) refused, the first: metrics file line 1: epoch: must be at least 1 (epochs are 1-based)',
    });
    expect(decideOutcome(facts({})).reason).toBeUndefined();
  });

  it('asked to stop, a script that then crashes on its own failed; one sweepd had to signal, or that exits 0, stopped', () => {
    // A review: a script raising at epoch 2 every time read "stopped" wherever the median rule had
    // asked it to stop there, so the failure guard never fired and the study recommended the worst trial.
    const facts = (over: Partial<EndFacts>): EndFacts => ({
      end: { code: 0, signal: null },
      stopped: 'median: 0.61 at epoch 2 is below the median 0.8',
      hung: undefined,
      sink: sinkOf({ metricsSeen: new Set(['val_auc_macro']), epochsReported: 2, lastEpoch: 2 }),
      stderrTail: [
        'Traceback (most recent call last):',
        '  File "train.py", line 9',
        'RuntimeError: DataLoader worker is killed by signal: Bus error',
      ],
      objective: 'val_auc_macro',
      maxEpochs: 3,
      notes: {},
      ...over,
    });
    expect(decideOutcome(facts({ end: { code: 1, signal: null } }))).toMatchObject({
      state: 'failed',
      reason:
        'exit code 1: RuntimeError: DataLoader worker is killed by signal: Bus error (after it was asked to stop: median: 0.61 at epoch 2 is below the median 0.8)',
      notes: { stderr_tail: expect.arrayContaining(['RuntimeError: DataLoader worker is killed by signal: Bus error']) },
    });
    expect(decideOutcome(facts({ end: { code: null, signal: 'SIGKILL' } })).state).toBe('failed');
    // Its own exit after the stop, or one sweepd forced past the grace: stopped, with the rule's reason.
    expect(decideOutcome(facts({}))).toMatchObject({ state: 'stopped', reason: 'median: 0.61 at epoch 2 is below the median 0.8' });
    expect(decideOutcome(facts({ end: { code: null, signal: 'SIGTERM' }, signalled: true })).state).toBe('stopped');
    expect(decideOutcome(facts({ end: { code: 143, signal: null }, signalled: true })).state).toBe('stopped');
  });
});
