/**
 * The seed-story testbed: the practitioner's situation at a size two CPU cores can train. A
 * BatchNorm ResNet (examples/pytorch's tiny_resnet) is pretrained on a real source task — mosaics
 * of Fashion-MNIST items the target never uses — and then fine-tuned on `fashion-mosaic`, a
 * multi-label target with a prevalence shift between train and validation and a class absent
 * from validation. The datasets and the pretrained weights are made once and kept in the cache
 * directory (`npm run testbed` makes them; the bench reuses them and says when they were made).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fashionPretrainDataset, generateFashionMosaic, writeDiskDataset } from '../../../packages/trainer/src/data/index.ts';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const FINETUNE = path.join(REPO_ROOT, 'examples/pytorch/finetune.py');
export const IMAGE_SIZE = 32;
export const TARGET_SIZES = { train: 1024, val: 512 };
/** Source-task training: enough for the backbone to know the items (checked by its own AUC). */
export const PRETRAIN = { epochs: 15, optimizer: 'adam', learningRate: 3e-3, trainSize: 3072 };

export interface Testbed {
  dir: string;
  target: string;
  source: string;
  checkpoint: string;
  /** When the weights were made, and whether this call made them. */
  madeAt: Date;
  made: boolean;
  /** The source task's validation macro AUC at the end of pretraining (from its report). */
  sourceAuc?: number;
}

export function defaultTestbedDir(): string {
  const cache = process.env.SWEEPD_CACHE_DIR || path.join(REPO_ROOT, '.sweepd', 'cache');
  return path.join(cache, 'testbed', `tiny-resnet-fashion-${IMAGE_SIZE}px`);
}

/** Makes (or finds) the datasets and the pretrained backbone. */
export async function prepareTestbed(dir = defaultTestbedDir(), log: (m: string) => void = console.log): Promise<Testbed> {
  const target = path.join(dir, 'target');
  const source = path.join(dir, 'source');
  const checkpoint = path.join(dir, 'tiny_resnet-pretrained.pt');
  mkdirSync(dir, { recursive: true });
  if (!existsSync(path.join(target, 'dataset.json'))) {
    log(`testbed: writing the fashion-mosaic target (${TARGET_SIZES.train} train / ${TARGET_SIZES.val} validation images) to ${target}`);
    writeDiskDataset(
      target,
      generateFashionMosaic({ trainSize: TARGET_SIZES.train, valSize: TARGET_SIZES.val, imageSize: IMAGE_SIZE, seed: 0 }),
      {
        imageFormat: 'u8',
      },
    );
  }
  if (!existsSync(path.join(source, 'dataset.json'))) {
    log(`testbed: writing the source task (Fashion-MNIST items the target never uses) to ${source}`);
    writeDiskDataset(source, fashionPretrainDataset(IMAGE_SIZE, PRETRAIN.trainSize), { imageFormat: 'u8' });
  }
  if (existsSync(checkpoint)) return { dir, target, source, checkpoint, madeAt: statSync(checkpoint).mtime, made: false };

  log(`testbed: pretraining tiny_resnet on the source task (${PRETRAIN.epochs} epochs, ${PRETRAIN.optimizer} ${PRETRAIN.learningRate})`);
  const work = mkdtempSync(path.join(tmpdir(), 'sweepd-pretrain-'));
  try {
    const partial = `${checkpoint}.${process.pid}.tmp`;
    const { reports } = await runFinetune(
      [
        '--model=tiny_resnet',
        `--data_dir=${source}`,
        `--optimizer=${PRETRAIN.optimizer}`,
        `--learning_rate=${PRETRAIN.learningRate}`,
        '--learning_rate_decay_type=fixed',
        `--num_epochs=${PRETRAIN.epochs}`,
        '--nolayer_stats',
        '--threads=1',
        `--save_checkpoint=${partial}`,
      ],
      work,
    );
    const { renameSync } = await import('node:fs');
    renameSync(partial, checkpoint);
    const last = reports.at(-1) as { metrics?: Record<string, number> } | undefined;
    const sourceAuc = last?.metrics?.val_auc_macro;
    log(`testbed: pretrained; source-task validation macro AUC ${sourceAuc?.toFixed(4)}`);
    return { dir, target, source, checkpoint, madeAt: new Date(), made: true, ...(sourceAuc !== undefined ? { sourceAuc } : {}) };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Runs finetune.py by hand (outside a daemon) in `work`, as the sweepd client expects, and returns its reports. */
export async function runFinetune(args: string[], work: string): Promise<{ reports: unknown[] }> {
  const metrics = path.join(work, 'metrics.jsonl');
  const env = {
    ...process.env,
    SWEEPD_TRIAL_ID: 'pretrain',
    SWEEPD_TRIAL_DIR: work,
    SWEEPD_METRICS_FILE: metrics,
    SWEEPD_CONTROL_FILE: path.join(work, 'control.json'),
    SWEEPD_CACHE_DIR: path.join(work, 'cache'),
    PYTHONUNBUFFERED: '1',
  };
  const child = spawn('python3', [FINETUNE, ...args], { cwd: work, env, stdio: ['ignore', 'inherit', 'inherit'] });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', resolve);
  });
  if (code !== 0) throw new Error(`finetune.py ${args.join(' ')} exited with ${code}`);
  const { readFileSync } = await import('node:fs');
  const text = existsSync(metrics) ? readFileSync(metrics, 'utf8') : '';
  return {
    reports: text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l.replace(/\bNaN\b|-?Infinity\b/g, 'null'))),
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const bed = await prepareTestbed(process.argv[2] ? path.resolve(process.argv[2]) : undefined);
  console.log(`testbed ready in ${bed.dir} (weights made ${bed.madeAt.toISOString()}${bed.made ? ', now' : ', earlier'})`);
}
