import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseSpec, type RunnerCheckContext } from '@sweepd/core';
import { describe, expect, it, onTestFinished } from 'vitest';
import { checkCommandSpec, commandSpecWarnings } from './check-spec.ts';

const base = {
  name: 'own-script',
  objective: { metric: 'val_auc_macro' },
  space: {
    learning_rate: { type: 'float', low: 1e-5, high: 1e-1, log: true },
    optimizer: { type: 'categorical', choices: ['sgd', 'momentum'] },
    momentum: { type: 'float', low: 0, high: 0.99, when: { optimizer: ['momentum'] } },
  },
  fixed: { batch_size: 32 },
  budget: { max_trials: 4, max_epochs: 2 },
};

/** Problems as for remote workers, which may not see this machine's files (those are checked below). */
function problems(trainer: Record<string, unknown>, ctx: RunnerCheckContext = { workersShareFiles: false }) {
  return checkCommandSpec(parseSpec({ ...base, trainer: { runner: 'command', ...trainer } }), ctx);
}

describe('command runner: checkSpec', () => {
  it('accepts a good spec', () => {
    expect(problems({ options: { command: ['python3', 'train.py'], cwd: '/srv/job', args: 'flags', stop_grace_s: 30 } })).toEqual([]);
    expect(
      problems({
        options: { command: ['python3', '/srv/job/train.py', '--lr={learning_rate}', '--bs={batch_size}'], args: 'placeholders' },
      }),
    ).toEqual([]);
    // Code and module names are not files; a program found on the PATH is not a path.
    expect(problems({ options: { command: ['python3', '-c', 'import train'] } })).toEqual([]);
    expect(problems({ options: { command: ['python3', '-m', 'train.py'] } })).toEqual([]);
    expect(problems({ options: { command: ['train-model', '--config', 'conf.yaml'] } })).toEqual([]);
  });

  it('refuses a relative script path without cwd: a trial runs in a fresh directory that only holds its params', () => {
    const why =
      'is a relative path, and each trial runs in a fresh directory of its own: set trainer.options.cwd to the directory that holds it, or give an absolute path';
    expect(problems({ options: { command: ['python3', 'train.py'] } })).toEqual([
      { path: 'trainer.options.command.1', message: `'train.py' ${why}` },
    ]);
    expect(problems({ options: { command: ['./run.sh', '--fast'] } })).toEqual([
      { path: 'trainer.options.command.0', message: `'./run.sh' ${why}` },
    ]);
  });

  it('names a missing or empty command', () => {
    expect(problems({ options: {} })).toEqual([{ path: 'trainer.options.command', message: expect.stringContaining('is required') }]);
    expect(problems({ options: { command: 'python3 train.py' } })).toEqual([
      { path: 'trainer.options.command', message: 'must be a list of strings (the argv); got "python3 train.py"' },
    ]);
    expect(problems({ options: { command: [] } })).toEqual([
      { path: 'trainer.options.command', message: 'must name at least the program to run' },
    ]);
    expect(problems({ options: { command: ['python3', ''] } })).toEqual([
      { path: 'trainer.options.command.1', message: 'must not be an empty string' },
    ]);
  });

  it('lists every bad option by path, unknown ones included', () => {
    const found = problems({
      options: { command: ['x'], args: 'positional', stop_grace_s: -1, report_timeout_s: 0, env: { SWEEPD_TRIAL_ID: 'x' }, shell: true },
    });
    expect(found).toEqual(
      expect.arrayContaining([
        { path: 'trainer.options', message: 'unknown option(s): shell' },
        { path: 'trainer.options.args', message: 'must be flags, placeholders or none (got "positional")' },
        { path: 'trainer.options.stop_grace_s', message: 'must be >= 0 (got -1)' },
        { path: 'trainer.options.report_timeout_s', message: 'must be > 0 (got 0)' },
        // The reserved variable is named beside the other problems, not only once they are fixed.
        { path: 'trainer.options.env.SWEEPD_TRIAL_ID', message: 'SWEEPD_* variables are set by sweepd for each trial' },
      ]),
    );
    expect(problems({ options: { comand: ['python3', 'train.py'] } })).toEqual([
      { path: 'trainer.options.command', message: 'is required: the argv to run, e.g. [python3, train.py]' },
      { path: 'trainer.options', message: "unknown option(s): comand (did you mean 'command'?)" },
    ]);
    expect(problems({ options: { command: ['x'], env: { SWEEPD_TRIAL_ID: 'x' } } })).toEqual([
      { path: 'trainer.options.env.SWEEPD_TRIAL_ID', message: 'SWEEPD_* variables are set by sweepd for each trial' },
    ]);
    expect(problems({ options: { command: ['x'], tensorboard: { dir: 'tb', tags: {} } } })).toEqual([
      { path: 'trainer.options.tensorboard.tags', message: 'must map at least one tag' },
    ]);
  });

  it('checks the rest of the spec when one option has a problem: every problem in one answer', () => {
    const found = problems({
      options: {
        command: ['python3', 'train.py', '--x={learning_rate}'],
        env: { SWEEPD_X: '1' },
        tensorboard: { dir: '../x', tags: { 'eval/auc': 'val_auc_macro' }, epoch_metric: 'loss' },
      },
    });
    expect(found.map((p) => p.path)).toEqual([
      'trainer.options.env.SWEEPD_X',
      'trainer.options.command.2',
      'trainer.options.command.1',
      'trainer.options.tensorboard.dir',
      'trainer.options.tensorboard.epoch_metric',
    ]);
    // Nor is a bad args read as the default flags: no "{learning_rate} is replaced only with args: placeholders (args is flags)".
    expect(problems({ options: { command: ['/srv/train.py', '--lr={learning_rate}'], args: 'placeholder' } })).toEqual([
      { path: 'trainer.options.args', message: 'must be flags, placeholders or none (got "placeholder")' },
    ]);
    // A working directory with a problem of its own is not read as missing: no "set cwd" beside it.
    expect(problems({ options: { command: ['python3', 'train.py'], cwd: '', stop_grace_s: -1 } })).toEqual([
      { path: 'trainer.options.cwd', message: 'must not be empty' },
      { path: 'trainer.options.stop_grace_s', message: 'must be >= 0 (got -1)' },
    ]);
  });

  it("refuses a tensorboard dir outside the trial directory: every trial would read the others' event files", () => {
    const dir = (d: string) =>
      problems({ options: { command: ['x'], tensorboard: { dir: d, tags: { 'validation/epoch_auc': 'val_auc' } } } });
    for (const outside of ['/tmp/logs', '../logs', 'tb/../../logs'])
      expect(dir(outside), outside).toEqual([
        {
          path: 'trainer.options.tensorboard.dir',
          message: `'${outside}' is outside the trial's directory, so every trial would read every other trial's event files there: give a path relative to the trial directory (e.g. tb) and have the script write there ("$SWEEPD_TRIAL_DIR/tb")`,
        },
      ]);
    for (const inside of ['tb', './train/eval', 'a/../tb']) expect(dir(inside), inside).toEqual([]);
  });

  it('refuses an epoch_metric no tag maps to: without steps_per_epoch no epoch would ever end', () => {
    const tb = (tensorboard: Record<string, unknown>) =>
      problems({ options: { command: ['x'], tensorboard: { dir: 'tb', ...tensorboard } } });
    const tags = { 'validation/epoch_auc': 'val_auc', 'AUC/*': 'val_auc[*]' };
    expect(tb({ tags, epoch_metric: 'val_acc' })).toEqual([
      {
        path: 'trainer.options.tensorboard.epoch_metric',
        message: "'val_acc' is not a metric of tensorboard.tags (val_auc, val_auc[*]): no epoch would ever end",
      },
    ]);
    expect(tb({ tags, epoch_metric: 'val_auc' })).toEqual([]);
    expect(tb({ tags, epoch_metric: 'val_auc[cat]' })).toEqual([]);
    // With steps_per_epoch the steps end the epochs; an epoch_metric beside it would be ignored.
    expect(tb({ tags, epoch_metric: 'val_auc', steps_per_epoch: 10 })).toEqual([
      {
        path: 'trainer.options.tensorboard.epoch_metric',
        message: 'is not read with steps_per_epoch, which alone says where epochs end: give one of them',
      },
    ]);
  });

  it('names placeholders no trial could fill, or that some trials lack', () => {
    expect(problems({ options: { command: ['t', '--lr={learnin_rate}', '--m={momentum}'], args: 'placeholders' } })).toEqual([
      { path: 'trainer.options.command.1', message: 'placeholder {learnin_rate} names no parameter of space or fixed' },
      { path: 'trainer.options.command.2', message: expect.stringContaining('{momentum} names a conditional parameter') },
    ]);
  });

  it('names a placeholder written while args is flags, and trainer fields the runner does not use', () => {
    expect(problems({ dataset: 'seed-19', options: { command: ['t', '--lr={learning_rate}', '{"json": 1}'] } })).toEqual([
      { path: 'trainer.options.command.1', message: '{learning_rate} is replaced only with args: placeholders (args is flags)' },
      { path: 'trainer.dataset', message: expect.stringContaining('is not used by the command runner') },
    ]);
    // With the options' own problems too, in the same answer.
    expect(problems({ model: 'builtin:small-cnn', options: { command: ['t'], foo: 1 } }).map((p) => p.path)).toEqual([
      'trainer.options',
      'trainer.model',
    ]);
  });

  it("where the workers see the daemon's files: a missing cwd, program or script is refused at submit, each by path", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'command-check-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(path.join(dir, 'proj'));
    writeFileSync(path.join(dir, 'proj', 'train.py'), 'print(1)\n');
    const local: RunnerCheckContext = { baseDir: dir, workersShareFiles: true };
    // Relative cwd from the daemon's working directory, the script from cwd; python3 is on the PATH.
    expect(problems({ options: { command: ['python3', 'train.py'], cwd: 'proj' } }, local)).toEqual([]);
    expect(problems({ options: { command: ['python3', path.join(dir, 'proj', 'train.py')] } }, local)).toEqual([]);
    expect(problems({ options: { command: ['pyhton3', 'trian.py'], cwd: 'proj' } }, local)).toEqual([
      {
        path: 'trainer.options.command.0',
        message: expect.stringMatching(
          /^'pyhton3' is not found on the PATH of this daemon's workers \(.*\): check the spelling, or give its full path$/,
        ),
      },
      { path: 'trainer.options.command.1', message: `no file at ${path.join(dir, 'proj', 'trian.py')}` },
    ]);
    expect(problems({ options: { command: ['python3', 'train.py'], cwd: 'nonexistent' } }, local)).toEqual([
      {
        path: 'trainer.options.cwd',
        message: `${path.join(dir, 'nonexistent')} is not a directory (a relative cwd is read from the daemon's working directory, ${dir})`,
      },
    ]);
    // A shell's -c code: the script it hands python3 by a plain name is looked up too (the TF-slim example's form).
    const shell = (code: string) => problems({ options: { command: ['sh', '-c', code, 'x'], cwd: 'proj' } }, local);
    expect(shell('exec python3 train.py --train_dir="$SWEEPD_TRIAL_DIR/train" "$@"')).toEqual([]);
    expect(shell('exec python3 -u trian.py "$@"')).toEqual([
      {
        path: 'trainer.options.command.2',
        message: `the shell code runs trian.py, but there is no file at ${path.join(dir, 'proj', 'trian.py')}`,
      },
    ]);
    // Names the shell builds, code for python itself, and no interpreter at all: nothing to look up.
    expect(shell('python3 "$SCRIPT" && python3 -c "import x" && ./run.sh; echo t*.py; echo sh run.sh')).toEqual([]);
    // In command position only, after exec, env, timeout N or an assignment; nothing after a cd (only the shell knows where).
    expect(shell('OMP_NUM_THREADS=1 timeout 600 python3 trian.py').map((p) => p.message)).toEqual([
      `the shell code runs trian.py, but there is no file at ${path.join(dir, 'proj', 'trian.py')}`,
    ]);
    expect(shell('cd models/research/slim && exec python3 train_image_classifier.py "$@"')).toEqual([]);
    // The PATH the script gets from trainer.options.env is the one searched.
    expect(problems({ options: { command: ['python3', '-c', 'pass'], env: { PATH: dir } } }, local)).toHaveLength(1);
    // Remote workers may see other files: nothing is looked up.
    expect(problems({ options: { command: ['pyhton3', 'trian.py'], cwd: 'nonexistent' } })).toEqual([]);
  });

  it('a program given by path that cannot be started (not executable, a directory) is refused at submit', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'command-check-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const local: RunnerCheckContext = { baseDir: dir, workersShareFiles: true };
    const script = path.join(dir, 'train.py');
    writeFileSync(script, '#!/usr/bin/env python3\nprint(1)\n', { mode: 0o644 });
    expect(problems({ options: { command: [script] } }, local)).toEqual([
      {
        path: 'trainer.options.command.0',
        message: `${script} is not executable: make it so (chmod +x), or name its interpreter first (command: [python3, ${script}, …])`,
      },
    ]);
    // Relative to cwd, as the workers start it.
    expect(problems({ options: { command: ['./train.py'], cwd: dir } }, local).map((p) => p.path)).toEqual(['trainer.options.command.0']);
    expect(problems({ options: { command: [dir] } }, local)).toEqual([
      { path: 'trainer.options.command.0', message: `${dir} is not a file that can be run (a directory?)` },
    ]);
    // Run by its interpreter, or once executable: fine.
    expect(problems({ options: { command: ['python3', script] } }, local)).toEqual([]);
    chmodSync(script, 0o755);
    expect(problems({ options: { command: [script] } }, local)).toEqual([]);
  });
});

describe('command runner: specWarnings', () => {
  const warnings = (objective: string, tags: Record<string, string>) =>
    commandSpecWarnings(
      parseSpec({
        ...base,
        objective: { metric: objective },
        trainer: { runner: 'command', options: { command: ['python3', '/srv/train.py'], tensorboard: { dir: 'tb', tags } } },
      }),
    );

  it('warns of an objective no TensorBoard tag maps to: the script may still report it itself', () => {
    expect(warnings('val_auc_macro', { 'validation/epoch_auc': 'val_auc', 'train/epoch_loss': 'loss' })).toEqual([
      {
        path: 'objective.metric',
        message:
          "'val_auc_macro' is not a metric of trainer.options.tensorboard.tags (val_auc, loss): unless the script reports it itself " +
          "(report lines or the Python client), every trial fails for want of it; map the tag that holds it to 'val_auc_macro' or set objective.metric to one of those",
      },
    ]);
  });

  it('warns when, without steps_per_epoch or epoch_metric, the first tag (the epoch clock) is not the objective', () => {
    expect(warnings('val_auc_macro', { 'losses/total_loss': 'train_loss', 'eval/eval/AUC': 'val_auc_macro' })).toEqual([
      {
        path: 'trainer.options.tensorboard.tags',
        message:
          "the first entry (losses/total_loss → train_loss) is the epoch clock: each step at which 'train_loss' is written ends an epoch. " +
          "If it is written more often than once an epoch (a training loss every few steps), list the tag of 'val_auc_macro' first, set epoch_metric, or give steps_per_epoch",
      },
    ]);
    expect(warnings('val_auc_macro', { 'eval/eval/AUC': 'val_auc_macro', 'losses/total_loss': 'train_loss' })).toEqual([]);
    // Made only by a pattern, which cannot be the clock: not told to list it first.
    expect(warnings('val_auc[cat]', { 'train/epoch_loss': 'loss', 'AUC/*': 'val_auc[*]' })[0]?.message).toMatch(
      /, set epoch_metric to 'val_auc\[cat\]' or give steps_per_epoch$/,
    );
  });

  it('warns of a stopping rule that reads layer statistics event files never give', () => {
    const spec = parseSpec({
      ...base,
      objective: { metric: 'val_auc' },
      stopping: [{ name: 'median' }, { name: 'weight-stall' }, { name: 'dead-units' }],
      budget: { max_trials: 8, max_epochs: 6 },
      trainer: {
        runner: 'command',
        options: { command: ['python3', '/srv/train.py'], tensorboard: { dir: 'tb', tags: { 'validation/epoch_auc': 'val_auc' } } },
      },
    });
    expect(commandSpecWarnings(spec).map((w) => `${w.path}: ${w.message.split(':')[0]}`)).toEqual([
      "stopping.1: weight-stall acts on each layer's updateRatio (‖ΔW‖/‖W‖), which event files never give (their weights are histograms only)",
      "stopping.2: dead-units acts on each layer's deadFraction (units zero on a whole probe batch), which event files never give (their weights are histograms only)",
    ]);
  });

  it('has nothing to say when a tag or a pattern maps to the objective, or without TensorBoard', () => {
    expect(warnings('val_auc', { 'validation/epoch_auc': 'val_auc' })).toEqual([]);
    expect(warnings('val_auc', { 'AUC/*': '*_auc' })).toEqual([]);
    expect(warnings('val_auc[cat]', { 'AUC/*': 'val_auc[*]' })).toEqual([]);
    expect(
      commandSpecWarnings(parseSpec({ ...base, trainer: { runner: 'command', options: { command: ['python3', '/srv/train.py'] } } })),
    ).toEqual([]);
  });
});
