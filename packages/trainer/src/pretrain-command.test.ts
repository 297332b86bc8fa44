import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { EpochRecord } from '@sweepd/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pretrainCommand } from './pretrain-command.ts';
import { tfjsRunnerPlugin } from './tfjs/runner.ts';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

let cacheDir: string;

describe('sweepd pretrain', () => {
  beforeAll(async () => {
    cacheDir = await mkdtemp(path.join(tmpdir(), 'sweepd-pretrain-'));
    process.env.SWEEPD_TF_BACKEND = 'wasm';
  });
  afterAll(async () => {
    delete process.env.SWEEPD_TF_BACKEND;
    await rm(cacheDir, { recursive: true, force: true });
  });

  it('rejects bad usage with exit code 2 and says why', async () => {
    for (const [argv, message] of [
      [['--modle', 'x'], /Unknown option '--modle'/],
      [['--model', 'builtin:resnet'], /unknown model "builtin:resnet": expected one of builtin:small-cnn, builtin:fashion-cnn/],
      [['--image-size', '7'], /--image-size must be an even integer from 8 to 224 \(got "7"\)/],
      [['extra'], /Unexpected argument 'extra'/],
    ] as const) {
      const c = capture();
      expect(await pretrainCommand([...argv], c.io)).toBe(2);
      expect(c.err.join('\n')).toMatch(message);
    }
    const help = capture();
    expect(await pretrainCommand(['--help'], help.io)).toBe(0);
    expect(help.out[0]).toMatch(/^usage: sweepd pretrain/);
  });

  it('pretrains builtin:fashion-cnn once, reports the cached one, and the runner fine-tunes it', async () => {
    const argv = ['--model', 'builtin:fashion-cnn', '--cache-dir', cacheDir, '--image-size', '16'];
    const modelJson = path.join(cacheDir, 'models', 'fashion-cnn-16px', 'model.json');
    const first = capture();
    expect(await pretrainCommand(argv, first.io)).toBe(0);
    expect(first.out).toEqual([
      expect.stringMatching(new RegExp(`^builtin:fashion-cnn \\(16px\\) pretrained in [\\d.]+ s: ${modelJson}$`)),
    ]);
    expect(first.err.join('\n')).toMatch(/pretrained small_cnn on fashion-mosaic-pretrain \(10 classes, 3072 images, 5 epochs/);
    expect(JSON.parse(await readFile(modelJson, 'utf8')).modelTopology).toBeDefined();
    const savedAt = (await stat(modelJson)).mtimeMs;

    const again = capture();
    expect(await pretrainCommand(argv, again.io)).toBe(0);
    expect(again.out).toEqual([`builtin:fashion-cnn (16px) is already pretrained: ${modelJson}`]);
    expect((await stat(modelJson)).mtimeMs).toBe(savedAt);

    // The runner finds the cached backbone for fashion-mosaic at the same size and does not pretrain again.
    const runner = await tfjsRunnerPlugin.create(tfjsRunnerPlugin.parseOptions({ backend: 'wasm' }), { cacheDir, log: () => {} });
    const epochs: EpochRecord[] = [];
    const logs: string[] = [];
    const outcome = await runner.run(
      {
        studyId: 's',
        trialId: 't',
        number: 1,
        params: { optimizer: 'adam', learning_rate: 0.01, frozen_layers: 3 },
        maxEpochs: 5,
        objective: { metric: 'val_auc_macro', direction: 'maximize' },
        trainer: {
          runner: 'tfjs',
          model: 'builtin:fashion-cnn',
          dataset: 'fashion-mosaic',
          options: { dataset_options: { train_size: 512, val_size: 256, image_size: 16 } },
        },
        pool: 'default',
      },
      { signal: new AbortController().signal, log: (m) => logs.push(m), report: async (e) => void epochs.push(e) },
    );
    expect(outcome.state).toBe('completed');
    expect(logs.some((m) => m.startsWith('pretrained'))).toBe(false);
    expect(epochs[4]!.notes).toMatchObject({ auc_undefined_classes: ['ankle_boot'], feature_cache: true });
    // Pretrained features of other items already separate the target's classes well.
    expect(epochs[4]!.metrics.val_auc_macro).toBeGreaterThan(0.75);
  });

  it('retrains with --force (builtin:small-cnn, 8px: fast)', async () => {
    const argv = ['--cache-dir', cacheDir, '--image-size', '8'];
    const modelJson = path.join(cacheDir, 'models', 'small-cnn-synthetic12-8px', 'model.json');
    expect(await pretrainCommand(argv, capture().io)).toBe(0);
    const savedAt = (await stat(modelJson)).mtimeMs;
    const cached = capture();
    expect(await pretrainCommand(argv, cached.io)).toBe(0);
    expect(cached.out).toEqual([`builtin:small-cnn (8px) is already pretrained: ${modelJson}`]);
    const forced = capture();
    expect(await pretrainCommand([...argv, '--force'], forced.io)).toBe(0);
    expect(forced.out).toEqual([expect.stringMatching(/^builtin:small-cnn \(8px\) pretrained in [\d.]+ s: /)]);
    expect((await stat(modelJson)).mtimeMs).toBeGreaterThan(savedAt);
  });
});
