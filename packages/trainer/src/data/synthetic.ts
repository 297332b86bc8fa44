import { Rng } from '@sweepd/core';
import type { DatasetSplit, ImageDataset } from './types.ts';

/**
 * A deterministic multi-label image dataset: every class is a shape drawn in a colour (class k
 * is shape k mod 6 in colour ⌊k/6⌋ mod 4), placed at a random position and size over a noisy
 * background, present in an image with the class's prevalence. A small CNN learns it in a few
 * epochs, which makes it the data for tests, the quickstart and the bench.
 */
export interface SyntheticOptions {
  classes: number;
  trainSize: number;
  valSize: number;
  imageSize: number;
  seed: number;
  /** Per-class share of images containing the class, train and validation (default 0.3 each). */
  trainPrevalence?: readonly number[];
  valPrevalence?: readonly number[];
  classNames?: readonly string[];
  name?: string;
}

const SHAPES = ['square', 'disc', 'hbar', 'vbar', 'cross', 'ring'] as const;
const COLOURS: ReadonlyArray<readonly [number, number, number]> = [
  [1, 0.1, 0.1],
  [0.1, 1, 0.1],
  [0.2, 0.3, 1],
  [1, 1, 0.1],
];
const CHANNELS = 3;

/** The names of a synthetic dataset's classes when none are given: class_0, class_1, … */
export function syntheticClassNames(classes: number): string[] {
  return Array.from({ length: classes }, (_, k) => `class_${k}`);
}

export function generateSynthetic(options: SyntheticOptions): ImageDataset {
  const { classes, trainSize, valSize, imageSize, seed } = options;
  if (!Number.isInteger(classes) || classes < 1) throw new Error(`synthetic dataset: classes must be a positive integer (got ${classes})`);
  if (!Number.isInteger(trainSize) || trainSize < 1)
    throw new Error(`synthetic dataset: train_size must be a positive integer (got ${trainSize})`);
  if (!Number.isInteger(valSize) || valSize < 1) throw new Error(`synthetic dataset: val_size must be a positive integer (got ${valSize})`);
  if (!Number.isInteger(imageSize) || imageSize < 8)
    throw new Error(`synthetic dataset: image_size must be an integer ≥ 8 (got ${imageSize})`);
  const names = options.classNames ?? syntheticClassNames(classes);
  if (names.length !== classes) throw new Error(`synthetic dataset: ${names.length} class names for ${classes} classes`);
  const trainPrev = options.trainPrevalence ?? new Array<number>(classes).fill(0.3);
  const valPrev = options.valPrevalence ?? trainPrev;
  for (const [what, prev] of [
    ['train', trainPrev],
    ['validation', valPrev],
  ] as const) {
    if (prev.length !== classes) throw new Error(`synthetic dataset: ${what} prevalence has ${prev.length} values for ${classes} classes`);
    const bad = prev.findIndex((p) => !(p >= 0 && p <= 1));
    if (bad >= 0) throw new Error(`synthetic dataset: ${what} prevalence of ${names[bad]} must be in [0, 1] (got ${prev[bad]})`);
  }
  // Separate streams so that the validation set does not change with train_size.
  const train = generateSplit(new Rng(`${seed}:train`), trainSize, imageSize, trainPrev);
  const validation = generateSplit(new Rng(`${seed}:validation`), valSize, imageSize, valPrev);
  return {
    name: options.name ?? 'synthetic',
    classes: names,
    height: imageSize,
    width: imageSize,
    channels: CHANNELS,
    train,
    validation,
  };
}

function generateSplit(rng: Rng, count: number, size: number, prevalence: readonly number[]): DatasetSplit {
  const classes = prevalence.length;
  const pixels = size * size * CHANNELS;
  const images = new Float32Array(count * pixels);
  const labels = new Uint8Array(count * classes);
  for (let n = 0; n < count; n++) {
    const image = images.subarray(n * pixels, (n + 1) * pixels);
    for (let i = 0; i < pixels; i++) image[i] = 0.15 * rng.next();
    for (let k = 0; k < classes; k++) {
      if (rng.next() < (prevalence[k] as number)) {
        labels[n * classes + k] = 1;
        drawShape(image, size, k, rng);
      }
    }
  }
  return { count, images, labels };
}

function drawShape(image: Float32Array, size: number, k: number, rng: Rng): void {
  const shape = SHAPES[k % SHAPES.length] as (typeof SHAPES)[number];
  const colour = COLOURS[Math.floor(k / SHAPES.length) % COLOURS.length] as readonly [number, number, number];
  const r = Math.max(2, Math.round(size * (0.1 + 0.08 * rng.next())));
  const cy = r + rng.int(Math.max(1, size - 2 * r));
  const cx = r + rng.int(Math.max(1, size - 2 * r));
  const intensity = 0.75 + 0.25 * rng.next();
  for (let y = Math.max(0, cy - r); y <= Math.min(size - 1, cy + r); y++) {
    for (let x = Math.max(0, cx - r); x <= Math.min(size - 1, cx + r); x++) {
      const dy = y - cy;
      const dx = x - cx;
      if (!inside(shape, dy, dx, r)) continue;
      const at = (y * size + x) * CHANNELS;
      for (let c = 0; c < CHANNELS; c++) image[at + c] = Math.max(image[at + c] as number, intensity * (colour[c] as number));
    }
  }
}

function inside(shape: (typeof SHAPES)[number], dy: number, dx: number, r: number): boolean {
  const d2 = dy * dy + dx * dx;
  const thin = Math.max(1, Math.floor(r / 3));
  switch (shape) {
    case 'square':
      return true;
    case 'disc':
      return d2 <= r * r;
    case 'hbar':
      return Math.abs(dy) <= thin;
    case 'vbar':
      return Math.abs(dx) <= thin;
    case 'cross':
      return Math.abs(dx - dy) <= thin - 1 || Math.abs(dx + dy) <= thin - 1;
    case 'ring':
      return d2 <= r * r && d2 >= (r - thin - 1) * (r - thin - 1);
  }
}
