import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeIdx } from './idx.ts';
import { FASHION_CLASSES, FASHION_MNIST_DIR, loadFashionMnist } from './fashion-mnist.ts';
import { areaWeights, FASHION_VAL_WEIGHTS, fashionPretrainDataset, generateFashionMosaic } from './fashion-mosaic.ts';
import { clearDatasetCache, loadDataset } from './index.ts';

function sameBytes(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}

function prevalence(labels: Uint8Array, count: number, k: number): number {
  let s = 0;
  for (let n = 0; n < count; n++) s += labels[n * 10 + k] as number;
  return s / count;
}

/** A fake Fashion-MNIST directory: `items` items with labels i mod 10 (gzipped like Debian's). */
/** Every fake directory made, removed after each test. */
const fakeDirs: string[] = [];

function fakeDir(items: number, patch: (name: string, bytes: Uint8Array) => Uint8Array = (_, b) => b): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'fmnist-'));
  fakeDirs.push(dir);
  const write = (name: string, dims: number[], data: Uint8Array) => {
    const bytes = encodeIdx(dims, data);
    writeFileSync(path.join(dir, `${name}.gz`), gzipSync(patch(name, bytes)));
  };
  for (const prefix of ['train', 't10k']) {
    write(`${prefix}-images-idx3-ubyte`, [items, 28, 28], new Uint8Array(items * 784).fill(200));
    write(
      `${prefix}-labels-idx1-ubyte`,
      [items],
      Uint8Array.from({ length: items }, (_, i) => i % 10),
    );
  }
  return dir;
}

describe('Fashion-MNIST files', () => {
  afterEach(() => {
    delete process.env.SWEEPD_FASHION_MNIST_DIR;
    clearDatasetCache();
    for (const dir of fakeDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it("reads Debian's dataset-fashion-mnist files", () => {
    const data = loadFashionMnist(FASHION_MNIST_DIR);
    expect(data.train.count).toBe(60_000);
    expect(data.test.count).toBe(10_000);
    expect(data.train.pixels.length).toBe(60_000 * 784);
    // Fashion-MNIST is balanced: 6,000 train items per class.
    expect(data.train.labels.filter((l) => l === 9).length).toBe(6000);
  });

  it('names the Debian package when the files are missing', () => {
    expect(() => loadFashionMnist('/usr/share/datasets/fashion-mnist-not-here')).toThrow(
      /train-images-idx3-ubyte\(\.gz\) not found in \/usr\/share\/datasets\/fashion-mnist-not-here: install Debian's package dataset-fashion-mnist \(apt-get install dataset-fashion-mnist\)/,
    );
    process.env.SWEEPD_FASHION_MNIST_DIR = path.join(tmpdir(), 'no-such-fashion-dir');
    expect(() => loadDataset('fashion-mosaic', { train_size: 8, val_size: 8 })).toThrow(
      /not found in .*no-such-fashion-dir: install .*dataset-fashion-mnist.*SWEEPD_FASHION_MNIST_DIR/,
    );
  });

  it('rejects label files that disagree with the image files', () => {
    const wrongCount = fakeDir(20, (name, b) => (name === 'train-labels-idx1-ubyte' ? Uint8Array.of(0, 0, 8, 1, 0, 0, 0, 2, 1, 2) : b));
    expect(() => loadFashionMnist(wrongCount)).toThrow(/has 2 labels but .*train-images-idx3-ubyte\.gz has 20 images/);
    const badClass = fakeDir(20, (name, b) => {
      if (name !== 't10k-labels-idx1-ubyte') return b;
      const c = b.slice();
      c[8 + 3] = 12;
      return c;
    });
    expect(() => loadFashionMnist(badClass)).toThrow(/label 12 at index 3 is not a class 0–9/);
    const badShape = fakeDir(20, (name, b) => {
      if (name !== 'train-images-idx3-ubyte') return b;
      return Uint8Array.of(0, 0, 8, 3, 0, 0, 0, 20, 0, 0, 0, 14, 0, 0, 0, 56, ...b.subarray(16));
    });
    expect(() => loadFashionMnist(badShape)).toThrow(/dimensions \[20, 14, 56\], expected \[N, 28, 28\]/);
  });
});

describe('fashion-mosaic', () => {
  it('is deterministic by seed, with skewed classes, a prevalence shift, and ankle_boot absent from validation', () => {
    const options = { trainSize: 1024, valSize: 512, imageSize: 32, seed: 4 };
    const a = generateFashionMosaic(options);
    const b = generateFashionMosaic(options);
    // Byte comparison: a deep equal over 3 million floats takes seconds.
    expect(sameBytes(b.train.images, a.train.images)).toBe(true);
    expect(sameBytes(b.validation.labels, a.validation.labels)).toBe(true);
    expect(sameBytes(generateFashionMosaic({ ...options, seed: 5 }).train.labels, a.train.labels)).toBe(false);
    expect(a.classes).toEqual([...FASHION_CLASSES]);
    expect(a.train.images.length).toBe(1024 * 32 * 32 * 3);
    expect(a.train.images.every((v) => v >= 0 && v <= 1)).toBe(true);
    const k = (name: string) => FASHION_CLASSES.indexOf(name as (typeof FASHION_CLASSES)[number]);
    // 3 occupied cells on average, class weight 0.30 → about 1 − 0.7^3 ≈ 0.66 of train images.
    expect(prevalence(a.train.labels, 1024, k('tshirt_top'))).toBeGreaterThan(0.55);
    expect(prevalence(a.validation.labels, 512, k('tshirt_top'))).toBeLessThan(0.35);
    expect(prevalence(a.validation.labels, 512, k('trouser'))).toBeGreaterThan(prevalence(a.train.labels, 1024, k('trouser')) + 0.1);
    expect(prevalence(a.train.labels, 1024, k('ankle_boot'))).toBeLessThan(0.04);
    expect(FASHION_VAL_WEIGHTS[k('ankle_boot')]).toBe(0);
    expect(prevalence(a.validation.labels, 512, k('ankle_boot'))).toBe(0);
  });

  it('labels a class exactly when one of its items was drawn (empty images stay black)', () => {
    const d = generateFashionMosaic({ trainSize: 256, valSize: 8, imageSize: 32, seed: 1 });
    for (let n = 0; n < 256; n++) {
      const image = d.train.images.subarray(n * 3072, (n + 1) * 3072);
      const anyLabel = d.train.labels.subarray(n * 10, (n + 1) * 10).some((v) => v === 1);
      const anyInk = image.some((v) => v > 0);
      expect(anyInk).toBe(anyLabel);
    }
  });

  it('pretrains on other items than the target uses', () => {
    const source = fashionPretrainDataset(32, 64);
    const target = generateFashionMosaic({ trainSize: 64, valSize: 64, imageSize: 32, seed: 0 });
    const images = (s: { images: Float32Array; count: number }) =>
      new Set(Array.from({ length: s.count }, (_, n) => s.images.subarray(n * 3072, n * 3072 + 3072).join(',')));
    const seen = images(target.train);
    for (const im of images(source.train)) if (im.split(',').some((v) => v !== '0')) expect(seen.has(im)).toBe(false);
  });

  it('resamples areas with rows that sum to 1', () => {
    const w = areaWeights(28, 16);
    for (let o = 0; o < 16; o++) expect(w.subarray(o * 28, (o + 1) * 28).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect([...areaWeights(4, 4)]).toEqual([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
  });

  it('loads through loadDataset with options checked', () => {
    const d = loadDataset('fashion-mosaic', { train_size: 16, val_size: 8, image_size: 56 });
    expect([d.height, d.width, d.channels, d.train.count, d.validation.count]).toEqual([56, 56, 3, 16, 8]);
    expect(() => loadDataset('fashion-mosaic', { image_size: 33 })).toThrow(/fashion-mosaic: invalid options: image_size: must be even/);
  });
});
