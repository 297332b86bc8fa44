import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const pretrain = path.join(import.meta.dirname, 'pretrain.ts');
const data = path.join(import.meta.dirname, '../data/index.ts');

// Two trainer processes that need the same backbone at once (the embedded daemon starts one per
// core): one pretrains under the lock, the other waits for its model.json; neither fails.
const script = (dir: string) => `
  const { pretrainBackbone } = await import(${JSON.stringify(pretrain)});
  const { generateSynthetic } = await import(${JSON.stringify(data)});
  const tf = await import('@tensorflow/tfjs');
  await tf.setBackend('cpu');
  const dataset = generateSynthetic({ classes: 3, trainSize: 64, valSize: 32, imageSize: 32, seed: 1 });
  const dir = await pretrainBackbone({ dir: ${JSON.stringify(dir)}, dataset, epochs: 1, seed: 1, log: (m) => console.log(m) });
  console.log('dir ' + dir);
`;

let root: string | undefined;
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('pretraining into a shared cache', () => {
  it('is done once when two processes ask at the same time', async () => {
    root = await mkdtemp(path.join(tmpdir(), 'sweepd-pretrain-lock-'));
    const dir = path.join(root, 'models', 'small-cnn');
    const both = await Promise.all(
      [0, 1].map(() => run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script(dir)], { cwd: import.meta.dirname })),
    );
    for (const r of both) expect(r.stdout.trim().split('\n').at(-1)).toBe(`dir ${dir}`);
    const trainings = both.flatMap((r) => r.stdout.split('\n').filter((l) => l.startsWith('pretrained ')));
    expect(trainings, 'exactly one process trained the backbone').toHaveLength(1);
    expect((await readdir(dir)).sort()).toEqual(['model.json', 'weights.bin']);
    expect((await readdir(path.dirname(dir))).sort()).toEqual(['small-cnn']);
  }, 120_000);
});
