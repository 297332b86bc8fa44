import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { endianness } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import type { DatasetSplit, ImageDataset } from './types.ts';

/**
 * The on-disk dataset format (`trainer.dataset: ./path/to/dir`), documented in README.md beside
 * this file: a `dataset.json` manifest plus raw little-endian tensors — images as uint8 (0–255,
 * `.u8`) or float32 (`.f32`), NHWC, and multi-hot labels as one uint8 (0 or 1) per image and class.
 */
export const MANIFEST = 'dataset.json';

const fileName = z
  .string()
  .min(1)
  .refine((f) => !path.isAbsolute(f) && !f.split(/[\\/]/).includes('..'), { message: 'must be a path inside the dataset directory' });
const splitSchema = z.strictObject({
  images: fileName.refine((f) => f.endsWith('.u8') || f.endsWith('.f32'), {
    message: 'must end in .u8 (uint8 0–255) or .f32 (float32 little-endian)',
  }),
  labels: fileName.refine((f) => f.endsWith('.u8'), { message: 'must end in .u8 (one uint8 0/1 per image and class)' }),
});
const dim = z.number().int().min(1).max(4096);
export const manifestSchema = z.strictObject({
  name: z.string().min(1).optional(),
  classes: z
    .array(z.string().min(1))
    .min(1)
    .refine((c) => new Set(c).size === c.length, { message: 'class names must be unique' }),
  image: z.strictObject({ height: dim, width: dim, channels: z.number().int().min(1).max(4) }),
  splits: z.strictObject({ train: splitSchema, val: splitSchema }),
});
export type DatasetManifest = z.output<typeof manifestSchema>;

const littleEndianHost = endianness() === 'LE';

function readBytes(dir: string, file: string, field: string): Uint8Array {
  const full = path.join(dir, file);
  try {
    return readFileSync(full);
  } catch (error) {
    const code = (error as { code?: string }).code;
    const why = code === 'ENOENT' ? 'file not found' : (error as Error).message;
    throw new Error(`dataset ${dir}: ${field} ${full}: ${why}`);
  }
}

function float32s(bytes: Uint8Array): Float32Array {
  if (littleEndianHost) {
    // Copied: readFileSync's buffer may sit at an offset not aligned to 4 in Node's pool.
    const copy = new Uint8Array(bytes.byteLength);
    copy.set(bytes);
    return new Float32Array(copy.buffer);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.byteLength / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(4 * i, true);
  return out;
}

function loadSplit(dir: string, m: DatasetManifest, which: 'train' | 'val'): DatasetSplit {
  const spec = m.splits[which];
  const classes = m.classes.length;
  const labelsFile = path.join(dir, spec.labels);
  const imagesFile = path.join(dir, spec.images);
  const labels = readBytes(dir, spec.labels, `splits.${which}.labels`);
  if (labels.length === 0 || labels.length % classes !== 0) {
    throw new Error(
      `dataset ${dir}: ${labelsFile} has ${labels.length} bytes, not a positive multiple of the ${classes} classes in ${MANIFEST} (one byte per image and class)`,
    );
  }
  const count = labels.length / classes;
  const bad = labels.findIndex((v) => v > 1);
  if (bad >= 0) {
    throw new Error(
      `dataset ${dir}: ${labelsFile}: label value ${labels[bad]} for image ${Math.floor(bad / classes)}, class ${m.classes[bad % classes]} (byte ${bad}); labels must be 0 or 1`,
    );
  }
  const { height, width, channels } = m.image;
  const values = count * height * width * channels;
  const float = spec.images.endsWith('.f32');
  const raw = readBytes(dir, spec.images, `splits.${which}.images`);
  const need = values * (float ? 4 : 1);
  if (raw.length !== need) {
    const per = height * width * channels * (float ? 4 : 1);
    const fits = raw.length % per === 0 ? ` (${raw.length / per} images)` : '';
    throw new Error(
      `dataset ${dir}: ${imagesFile} has ${raw.length} bytes${fits}, but ${labelsFile} has labels for ${count} images of ${height}×${width}×${channels} ${float ? 'float32' : 'uint8'}, which need ${need} bytes`,
    );
  }
  let images: Float32Array;
  if (float) {
    images = float32s(raw);
    const nonFinite = images.findIndex((v) => !Number.isFinite(v));
    if (nonFinite >= 0) throw new Error(`dataset ${dir}: ${imagesFile}: value ${images[nonFinite]} at index ${nonFinite} is not finite`);
  } else {
    images = new Float32Array(values);
    for (let i = 0; i < values; i++) images[i] = (raw[i] as number) / 255;
  }
  return { count, images, labels: new Uint8Array(labels) };
}

/** Reads and validates the manifest of the dataset in `dir`. */
export function readManifest(dir: string): DatasetManifest {
  const file = path.join(dir, MANIFEST);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ENOENT' && !existsSync(dir)) throw new Error(`dataset ${dir}: no such directory`);
    throw new Error(
      code === 'ENOENT'
        ? `dataset ${dir}: no ${MANIFEST} there: a dataset directory holds ${MANIFEST} and the files it names (the README's "Models and datasets")`
        : `dataset ${dir}: cannot read ${file}: ${(error as Error).message}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`dataset ${dir}: ${file} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`dataset ${dir}: ${file}: ${problems}`);
  }
  return parsed.data;
}

/** Loads the dataset in `dir` (see README.md), validating every file; errors name the file and what is wrong. */
export function loadDiskDataset(dir: string): ImageDataset {
  const resolved = path.resolve(dir);
  const m = readManifest(resolved);
  return {
    name: m.name ?? path.basename(resolved),
    classes: m.classes,
    height: m.image.height,
    width: m.image.width,
    channels: m.image.channels,
    train: loadSplit(resolved, m, 'train'),
    validation: loadSplit(resolved, m, 'val'),
  };
}

/** The modification time of the manifest: part of the per-process cache key. */
export function manifestVersion(dir: string): string {
  try {
    return String(statSync(path.join(path.resolve(dir), MANIFEST)).mtimeMs);
  } catch {
    return 'missing';
  }
}

export interface WriteDiskDatasetOptions {
  /** 'f32' (default) keeps the images exactly; 'u8' stores round(v·255), values clamped to [0, 1]. */
  imageFormat?: 'f32' | 'u8';
}

function imageBytes(images: Float32Array, format: 'f32' | 'u8'): Uint8Array {
  if (format === 'u8') {
    const out = new Uint8Array(images.length);
    for (let i = 0; i < images.length; i++) out[i] = Math.round(Math.min(1, Math.max(0, images[i] as number)) * 255);
    return out;
  }
  const out = new Uint8Array(images.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < images.length; i++) view.setFloat32(4 * i, images[i] as number, true);
  return out;
}

/** Writes `dataset` to `dir` in the on-disk format (creating `dir`); returns the manifest written. */
export function writeDiskDataset(dir: string, dataset: ImageDataset, options: WriteDiskDatasetOptions = {}): DatasetManifest {
  const format = options.imageFormat ?? 'f32';
  mkdirSync(dir, { recursive: true });
  const manifest: DatasetManifest = {
    name: dataset.name,
    classes: [...dataset.classes],
    image: { height: dataset.height, width: dataset.width, channels: dataset.channels },
    splits: {
      train: { images: `train-images.${format}`, labels: 'train-labels.u8' },
      val: { images: `val-images.${format}`, labels: 'val-labels.u8' },
    },
  };
  for (const [which, split] of [
    ['train', dataset.train],
    ['val', dataset.validation],
  ] as const) {
    writeFileSync(path.join(dir, manifest.splits[which].images), imageBytes(split.images, format));
    writeFileSync(path.join(dir, manifest.splits[which].labels), split.labels);
  }
  writeFileSync(path.join(dir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}
