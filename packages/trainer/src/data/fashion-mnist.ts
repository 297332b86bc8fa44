import { existsSync } from 'node:fs';
import path from 'node:path';
import { readIdxFile } from './idx.ts';

/** Where Debian's `dataset-fashion-mnist` package puts the IDX files (MIT licence). */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
export const FASHION_MNIST_PACKAGE = 'dataset-fashion-mnist';

export const FASHION_CLASSES = [
  'tshirt_top',
  'trouser',
  'pullover',
  'dress',
  'coat',
  'sandal',
  'shirt',
  'sneaker',
  'bag',
  'ankle_boot',
] as const;

export const FASHION_ITEM_SIZE = 28;

/** One Fashion-MNIST file pair: `count` 28×28 grey items (0–255) and their class (0–9). */
export interface FashionItems {
  count: number;
  pixels: Uint8Array;
  labels: Uint8Array;
}

export interface FashionMnist {
  /** train-*-idx?-ubyte: 60,000 items. */
  train: FashionItems;
  /** t10k-*-idx?-ubyte: 10,000 items. */
  test: FashionItems;
}

/** The directory to read: SWEEPD_FASHION_MNIST_DIR when set (tests, other installs), else Debian's. */
export function fashionMnistDir(): string {
  return process.env.SWEEPD_FASHION_MNIST_DIR || FASHION_MNIST_DIR;
}

function findFile(dir: string, base: string): string {
  for (const name of [`${base}.gz`, base]) {
    const file = path.join(dir, name);
    if (existsSync(file)) return file;
  }
  const hint =
    `install Debian's package ${FASHION_MNIST_PACKAGE} (apt-get install ${FASHION_MNIST_PACKAGE}), which puts the files in ${FASHION_MNIST_DIR}` +
    (dir === FASHION_MNIST_DIR ? '' : `; SWEEPD_FASHION_MNIST_DIR or the caller chose ${dir} instead`);
  throw new Error(`Fashion-MNIST file ${base}(.gz) not found in ${dir}: ${hint}`);
}

function readPair(dir: string, prefix: 'train' | 't10k'): FashionItems {
  const imagesFile = findFile(dir, `${prefix}-images-idx3-ubyte`);
  const labelsFile = findFile(dir, `${prefix}-labels-idx1-ubyte`);
  const images = readIdxFile(imagesFile);
  const labels = readIdxFile(labelsFile);
  const [count, h, w] = images.dims;
  if (images.dims.length !== 3 || h !== FASHION_ITEM_SIZE || w !== FASHION_ITEM_SIZE) {
    throw new Error(`Fashion-MNIST ${imagesFile}: dimensions [${images.dims.join(', ')}], expected [N, 28, 28]`);
  }
  if (labels.dims.length !== 1) throw new Error(`Fashion-MNIST ${labelsFile}: dimensions [${labels.dims.join(', ')}], expected [N]`);
  if (labels.dims[0] !== count) {
    throw new Error(`Fashion-MNIST ${labelsFile} has ${labels.dims[0]} labels but ${imagesFile} has ${count} images`);
  }
  const bad = labels.data.findIndex((v) => v >= FASHION_CLASSES.length);
  if (bad >= 0) throw new Error(`Fashion-MNIST ${labelsFile}: label ${labels.data[bad]} at index ${bad} is not a class 0–9`);
  return { count: count as number, pixels: images.data, labels: labels.data };
}

let cached: { dir: string; data: FashionMnist } | undefined;

/** Reads (once per process and directory) both Fashion-MNIST file pairs. */
export function loadFashionMnist(dir = fashionMnistDir()): FashionMnist {
  if (cached?.dir === dir) return cached.data;
  const data = { train: readPair(dir, 'train'), test: readPair(dir, 't10k') };
  cached = { dir, data };
  return data;
}
