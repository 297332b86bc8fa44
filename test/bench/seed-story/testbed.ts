/**
 * The seed-story testbed: the practitioner's situation at a size two CPU cores can train. A
 * BatchNorm ResNet (examples/pytorch's tiny_wide_resnet: 7 blocks, most convolutions 128 wide at
 * 8×8) is pretrained on a real source task — mosaics of Fashion-MNIST items the target never uses —
 * and then fine-tuned on `fashion-mosaic`, a multi-label target with a prevalence shift between
 * train and validation and a class absent from validation, with a new head
 * (`--checkpoint_exclude_scopes=fc`, as TF-slim fine-tuning drops the ImageNet logits).
 *
 * Why the kernels of the practitioner's config hardly move here, as in the issue: TF1 RMSProp with
 * epsilon 1.0 (mean square starting at 1, gradients far below 1) is SGD at lr/√2 with momentum; a
 * convolution followed by BatchNorm is scale-invariant, so its gradient is ∝ 1/||w|| and its
 * relative movement per step ∝ lr/||w||². Adam pretraining (epsilon 1e-8) grows the kernel norms
 * (each weight steps by about the learning rate whatever its gradient), and the wide layers hold
 * many weights, so ||w||² is large and the practitioner's kernels move about 1 % (median over
 * layers, 6 epochs) while the BatchNorm parameters and the new head learn; Adam 1e-4, whose step
 * per weight does not shrink with the norm, moves them about 9 times more. (The first testbed,
 * tiny_resnet pretrained by finetune.py's Adam with TF-slim's default epsilon 1.0 — a slow
 * momentum SGD that left the kernels near their initialisation — moved them 10–11 %.)
 *
 * The datasets and the pretrained weights are made once and kept in the cache directory, under a
 * name that carries a hash of the recipe (`npm run testbed` makes them; the bench reuses them and
 * says when they were made).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fashionPretrainDataset, generateFashionMosaic, writeDiskDataset } from '../../../packages/trainer/src/data/index.ts';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const FINETUNE = path.join(REPO_ROOT, 'examples/pytorch/finetune.py');
export const IMAGE_SIZE = 32;
export const TARGET_SIZES = { train: 1024, val: 512 };
/** The backbone (examples/pytorch/models.py) and how many blocks --frozen_layers counts for it. */
export const MODEL = { name: 'tiny_wide_resnet', blocks: 7 };
/**
 * Source-task training: enough for the backbone to know the items (checked by its own AUC). Adam
 * with its usual epsilon 1e-8 (finetune.py's --opt_epsilon defaults to TF-slim's 1.0, which makes
 * Adam a slow momentum SGD whose kernels hardly leave their initialisation); Adam's per-weight steps
 * then grow the kernel norms as long pretraining does, and a BatchNorm'd kernel's relative
 * movement under a plain gradient step falls as 1/||w||². The seed is none of the bench's
 * (0, 1, 2): a fine-tuning run with the pretraining's seed would draw the very head the backbone
 * was trained against, which is not a new head.
 */
export const PRETRAIN = { epochs: 15, optimizer: 'adam', learningRate: 3e-3, epsilon: 1e-8, seed: 1000, trainSize: 3072 };
/** The pretrained head is not loaded: fine-tuning starts with a new one, as the practitioner's did. */
export const EXCLUDE_SCOPES = 'fc';

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

/** The cache directory is named by everything that makes the weights: a new recipe, a new directory. */
export function recipeKey(): string {
  const recipe = JSON.stringify({ model: MODEL, pretrain: PRETRAIN, imageSize: IMAGE_SIZE, target: TARGET_SIZES });
  return createHash('sha256').update(recipe).digest('hex').slice(0, 10);
}

export function defaultTestbedDir(): string {
  const cache = process.env.SWEEPD_CACHE_DIR || path.join(REPO_ROOT, '.sweepd', 'cache');
  return path.join(cache, 'testbed', `${MODEL.name.replaceAll('_', '-')}-fashion-${IMAGE_SIZE}px-${recipeKey()}`);
}

/** Makes (or finds) the datasets and the pretrained backbone. */
export async function prepareTestbed(dir = defaultTestbedDir(), log: (m: string) => void = console.log): Promise<Testbed> {
  const target = path.join(dir, 'target');
  const source = path.join(dir, 'source');
  const checkpoint = path.join(dir, `${MODEL.name}-pretrained.pt`);
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

  log(
    `testbed: pretraining ${MODEL.name} on the source task (${PRETRAIN.epochs} epochs, ${PRETRAIN.optimizer} ${PRETRAIN.learningRate}, epsilon ${PRETRAIN.epsilon}, seed ${PRETRAIN.seed})`,
  );
  const work = mkdtempSync(path.join(tmpdir(), 'sweepd-pretrain-'));
  try {
    const partial = `${checkpoint}.${process.pid}.tmp`;
    const { reports } = await runFinetune(
      [
        `--model=${MODEL.name}`,
        `--data_dir=${source}`,
        `--optimizer=${PRETRAIN.optimizer}`,
        `--learning_rate=${PRETRAIN.learningRate}`,
        `--opt_epsilon=${PRETRAIN.epsilon}`,
        `--seed=${PRETRAIN.seed}`,
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
