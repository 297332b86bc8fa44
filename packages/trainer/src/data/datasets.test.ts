import { describe, expect, it } from 'vitest';
import { clearDatasetCache, loadDataset, parseDatasetOptions } from './index.ts';
import { SEED19_PREVALENCE } from './seed19.ts';

function prevalence(labels: Uint8Array, count: number, classes: number, k: number): number {
  let s = 0;
  for (let n = 0; n < count; n++) s += labels[n * classes + k] as number;
  return s / count;
}

describe('datasets', () => {
  it('synthetic is deterministic per seed, cached per process, and differs across seeds', () => {
    clearDatasetCache();
    const a = loadDataset('synthetic', { classes: 4, train_size: 64, val_size: 32, seed: 7 });
    expect(loadDataset('synthetic', { classes: 4, train_size: 64, val_size: 32, seed: 7 })).toBe(a);
    clearDatasetCache();
    const b = loadDataset('synthetic', { classes: 4, train_size: 64, val_size: 32, seed: 7 });
    expect(b).not.toBe(a);
    expect(b.train.images).toEqual(a.train.images);
    expect(b.validation.labels).toEqual(a.validation.labels);
    const c = loadDataset('synthetic', { classes: 4, train_size: 64, val_size: 32, seed: 8 });
    expect(c.train.images).not.toEqual(a.train.images);
    expect(a.train.images.length).toBe(64 * 32 * 32 * 3);
    expect(a.validation.labels.length).toBe(32 * 4);
    expect(a.train.images.every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(a.classes).toEqual(['class_0', 'class_1', 'class_2', 'class_3']);
  });

  it('seed-19 follows the practitioner’s prevalences, with single-valued validation classes', () => {
    const d = loadDataset('seed-19', { train_size: 1024, val_size: 512, image_size: 16 });
    expect(d.classes).toEqual(SEED19_PREVALENCE.map((c) => c.name));
    const k = (name: string) => d.classes.indexOf(name);
    for (const name of ['obj_1', 'obj_13', 'obj_14']) expect(prevalence(d.validation.labels, 512, 19, k(name))).toBe(0);
    expect(prevalence(d.validation.labels, 512, 19, k('obj_6'))).toBe(1);
    expect(prevalence(d.train.labels, 1024, 19, k('obj_2'))).toBeCloseTo(0.71, 1);
    expect(prevalence(d.validation.labels, 512, 19, k('obj_2'))).toBeCloseTo(0.333, 1);
    expect(prevalence(d.validation.labels, 512, 19, k('obj_15'))).toBeGreaterThan(0.88);
  });

  it('rejects bad names and options with the field named', () => {
    expect(() => parseDatasetOptions('imagenet')).toThrow(/unknown dataset "imagenet".*synthetic, seed-19/);
    expect(() => parseDatasetOptions('synthetic', { classes: 0 })).toThrow(/dataset synthetic: invalid options: classes/);
    expect(() => parseDatasetOptions('synthetic', { train_size: 1.5 })).toThrow(/train_size/);
    expect(() => parseDatasetOptions('synthetic', { image_size: 4 })).toThrow(/image_size/);
    expect(() => parseDatasetOptions('seed-19', { classes: 3 })).toThrow(/seed-19: invalid options.*classes/);
    expect(() => parseDatasetOptions('synthetic', { colour: 'red' })).toThrow(/colour/);
    expect(parseDatasetOptions('seed-19').options).toMatchObject({ classes: 19, train_size: 1024, val_size: 256, image_size: 32 });
  });
});
