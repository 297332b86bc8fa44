/**
 * finetune.yaml against the command runner: the spec passes its checks, and the argv a trial gets
 * (fixed values and sampled ones as TF-slim flags, booleans as --name / --noname) is accepted by
 * finetune.py's own flag parser, run for real.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSpecText } from '@sweepd/core';
import { describe, expect, it } from 'vitest';
import { buildArgv, checkCommandSpec, parseCommandOptions } from '../../packages/trainer/src/command/index.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const spec = parseSpecText(readFileSync(path.join(here, 'finetune.yaml'), 'utf8'));

describe('examples/pytorch/finetune.yaml', () => {
  it('passes the command runner checks', () => {
    expect(checkCommandSpec(spec)).toEqual([]);
  });

  it("a trial's argv parses with finetune.py's flags", { timeout: 180_000 }, () => {
    const parsed = parseCommandOptions(spec.trainer.options);
    if (!('options' in parsed)) throw new Error(JSON.stringify(parsed.problems));
    const { options } = parsed;
    const trials = [
      { ...spec.fixed, learning_rate: 0.003, optimizer: 'momentum', frozen_layers: 5, momentum: 0.8 },
      { ...spec.fixed, learning_rate: 1e-5, optimizer: 'rmsprop', frozen_layers: 0, rmsprop_tf1: false },
    ];
    const argvs = trials.map((p) => buildArgv(options.command, p, options.args).slice(2)); // after [python3, finetune.py]
    const script = [
      'import json, sys',
      'import finetune',
      'for argv in json.loads(sys.argv[1]):',
      '    f = finetune.parse_flags(argv)',
      '    print(json.dumps({k: getattr(f, k) for k in ("learning_rate", "optimizer", "frozen_layers", "momentum", "rmsprop_tf1", "learning_rate_decay_factor", "num_epochs_per_decay", "threads")}))',
    ].join('\n');
    const res = spawnSync('python3', ['-c', script, JSON.stringify(argvs)], {
      cwd: path.resolve(here),
      encoding: 'utf8',
      timeout: 170_000,
    });
    expect(res.status, res.stderr.slice(-2000)).toBe(0);
    const seen = res.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(seen).toEqual([
      {
        learning_rate: 0.003,
        optimizer: 'momentum',
        frozen_layers: 5,
        momentum: 0.8,
        rmsprop_tf1: true,
        learning_rate_decay_factor: 0.94,
        num_epochs_per_decay: 2,
        threads: 1,
      },
      {
        learning_rate: 1e-5,
        optimizer: 'rmsprop',
        frozen_layers: 0,
        momentum: 0.9,
        rmsprop_tf1: false,
        learning_rate_decay_factor: 0.94,
        num_epochs_per_decay: 2,
        threads: 1,
      },
    ]);
  });
});
