import { Rng } from '@sweepd/core';
import { FASHION_CLASSES, FASHION_ITEM_SIZE, type FashionItems, loadFashionMnist } from './fashion-mnist.ts';
import type { DatasetSplit, ImageDataset } from './types.ts';

/**
 * `fashion-mosaic`: real images for the practitioner's kind of problem. Each image is a 2×2 grid
 * of Fashion-MNIST items (each 28×28 item area-resampled to image_size/2; grey copied to the three
 * channels; an empty cell stays black), and its multi-label target says which of the 10 item
 * classes appear in it. Every cell is empty with probability EMPTY_CELL, else holds an item
 * whose class is drawn with skewed weights — different ones in validation (a prevalence shift),
 * where ankle_boot never occurs (its AUC is undefined, as for the practitioner's obj_1).
 *
 * Which Fashion-MNIST items each split uses (disjoint, so the backbone never saw a target item):
 *   - target train split:         items 0–29,999 of the train file;
 *   - target validation split:    the t10k file (10,000 items);
 *   - backbone pretraining (`builtin:fashion-cnn`): items 30,000–59,999 of the train file, in
 *     mosaics with uniform class weights (see fashionPretrainDataset).
 */
export const EMPTY_CELL = 0.25;
export const GRID = 2;

/** Per-cell class weights (sum 1), in FASHION_CLASSES order. */
export const FASHION_TRAIN_WEIGHTS = [0.3, 0.18, 0.13, 0.1, 0.08, 0.07, 0.06, 0.05, 0.025, 0.005] as const;
export const FASHION_VAL_WEIGHTS = [0.1, 0.3, 0.05, 0.18, 0.08, 0.12, 0.02, 0.12, 0.03, 0] as const;
const UNIFORM_WEIGHTS = new Array<number>(FASHION_CLASSES.length).fill(1 / FASHION_CLASSES.length);

export const TARGET_TRAIN_ITEMS: readonly [number, number] = [0, 30_000];
export const PRETRAIN_ITEMS: readonly [number, number] = [30_000, 60_000];

export interface FashionMosaicOptions {
  trainSize: number;
  valSize: number;
  /** Side of the square image; a multiple of 2 (each cell is imageSize/2). */
  imageSize: number;
  seed: number;
}

/** Indices of the items of each class within [from, to) of `items`. */
function itemsByClass(items: FashionItems, [from, to]: readonly [number, number]): number[][] {
  const byClass: number[][] = FASHION_CLASSES.map(() => []);
  for (let i = from; i < Math.min(to, items.count); i++) (byClass[items.labels[i] as number] as number[]).push(i);
  return byClass;
}

/**
 * Area resampling weights from `n` source pixels to `m` target pixels: target o covers source
 * [o·n/m, (o+1)·n/m), each source pixel weighted by its overlap (rows sum to 1).
 */
export function areaWeights(n: number, m: number): Float32Array {
  const w = new Float32Array(m * n);
  const scale = n / m;
  for (let o = 0; o < m; o++) {
    const lo = o * scale;
    const hi = (o + 1) * scale;
    for (let i = Math.floor(lo); i < Math.min(n, Math.ceil(hi)); i++) {
      const overlap = Math.min(hi, i + 1) - Math.max(lo, i);
      if (overlap > 0) w[o * n + i] = overlap / scale;
    }
  }
  return w;
}

/** Writes item `index` resized to `cell`×`cell` into the NHWC `image` at (top, left), values in [0, 1]. */
function drawItem(
  image: Float32Array,
  size: number,
  items: FashionItems,
  index: number,
  top: number,
  left: number,
  cell: number,
  weights: Float32Array,
): void {
  const n = FASHION_ITEM_SIZE;
  const src = items.pixels.subarray(index * n * n, (index + 1) * n * n);
  // Separable: rows first (n×n → cell×n), then columns.
  const rows = new Float32Array(cell * n);
  for (let o = 0; o < cell; o++) {
    for (let i = 0; i < n; i++) {
      const wi = weights[o * n + i] as number;
      if (wi === 0) continue;
      for (let x = 0; x < n; x++) rows[o * n + x] = (rows[o * n + x] as number) + wi * (src[i * n + x] as number);
    }
  }
  for (let y = 0; y < cell; y++) {
    for (let o = 0; o < cell; o++) {
      let v = 0;
      for (let x = 0; x < n; x++) v += (weights[o * n + x] as number) * (rows[y * n + x] as number);
      const at = ((top + y) * size + left + o) * 3;
      const value = Math.min(1, v / 255); // float rounding may push a 255 just past 1
      image[at] = value;
      image[at + 1] = value;
      image[at + 2] = value;
    }
  }
}

function drawClass(rng: Rng, weights: readonly number[]): number {
  let u = rng.next();
  for (let k = 0; k < weights.length; k++) {
    u -= weights[k] as number;
    if (u < 0 && (weights[k] as number) > 0) return k;
  }
  // Rounding left u ≥ 0: the last class with a weight.
  for (let k = weights.length - 1; k >= 0; k--) if ((weights[k] as number) > 0) return k;
  throw new Error('fashion-mosaic: class weights are all zero');
}

/** `count` mosaics from `items` (the indices in `range`), classes drawn with `weights`. */
export function generateMosaics(
  rng: Rng,
  items: FashionItems,
  range: readonly [number, number],
  count: number,
  imageSize: number,
  weights: readonly number[],
): DatasetSplit {
  if (!Number.isInteger(imageSize) || imageSize < 8 || imageSize % GRID !== 0) {
    throw new Error(`fashion-mosaic: image_size must be an even integer ≥ 8 (got ${imageSize})`);
  }
  const classes = FASHION_CLASSES.length;
  const byClass = itemsByClass(items, range);
  const cell = imageSize / GRID;
  const resample = areaWeights(FASHION_ITEM_SIZE, cell);
  const pixels = imageSize * imageSize * 3;
  const images = new Float32Array(count * pixels);
  const labels = new Uint8Array(count * classes);
  for (let n = 0; n < count; n++) {
    const image = images.subarray(n * pixels, (n + 1) * pixels);
    for (let c = 0; c < GRID * GRID; c++) {
      if (rng.next() < EMPTY_CELL) continue;
      const k = drawClass(rng, weights);
      const pool = byClass[k] as number[];
      if (pool.length === 0) throw new Error(`fashion-mosaic: no ${FASHION_CLASSES[k]} items in items ${range[0]}–${range[1] - 1}`);
      drawItem(
        image,
        imageSize,
        items,
        pool[rng.int(pool.length)] as number,
        Math.floor(c / GRID) * cell,
        (c % GRID) * cell,
        cell,
        resample,
      );
      labels[n * classes + k] = 1;
    }
  }
  return { count, images, labels };
}

/** The target dataset (see the module comment for which items each split uses). */
export function generateFashionMosaic(options: FashionMosaicOptions): ImageDataset {
  const data = loadFashionMnist();
  const { trainSize, valSize, imageSize, seed } = options;
  return {
    name: 'fashion-mosaic',
    classes: [...FASHION_CLASSES],
    height: imageSize,
    width: imageSize,
    channels: 3,
    // Separate streams so that the validation set does not change with train_size.
    train: generateMosaics(
      new Rng(`fashion-mosaic:${seed}:train`),
      data.train,
      TARGET_TRAIN_ITEMS,
      trainSize,
      imageSize,
      FASHION_TRAIN_WEIGHTS,
    ),
    validation: generateMosaics(
      new Rng(`fashion-mosaic:${seed}:validation`),
      data.test,
      [0, data.test.count],
      valSize,
      imageSize,
      FASHION_VAL_WEIGHTS,
    ),
  };
}

/**
 * The source task of `builtin:fashion-cnn`: mosaics of the other half of the train file
 * (PRETRAIN_ITEMS, never used by the target) with uniform class weights. Its validation split
 * comes from the same pool (it is only for the pretraining log).
 */
export function fashionPretrainDataset(imageSize: number, trainSize = 3072): ImageDataset {
  const data = loadFashionMnist();
  return {
    name: 'fashion-mosaic-pretrain',
    classes: [...FASHION_CLASSES],
    height: imageSize,
    width: imageSize,
    channels: 3,
    train: generateMosaics(new Rng('fashion-pretrain:train'), data.train, PRETRAIN_ITEMS, trainSize, imageSize, UNIFORM_WEIGHTS),
    validation: generateMosaics(new Rng('fashion-pretrain:validation'), data.train, PRETRAIN_ITEMS, 64, imageSize, UNIFORM_WEIGHTS),
  };
}
