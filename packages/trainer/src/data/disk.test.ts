import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type DatasetManifest, loadDiskDataset, writeDiskDataset } from './disk.ts';
import { clearDatasetCache, loadDataset } from './index.ts';
import { generateSynthetic } from './synthetic.ts';

const root = mkdtempSync(path.join(tmpdir(), 'sweepd-disk-'));
const source = generateSynthetic({ classes: 3, trainSize: 12, valSize: 5, imageSize: 8, seed: 2 });
let n = 0;
/** A fresh copy of `source` on disk, optionally with the manifest or a file changed. */
function dir(
  change: { manifest?: (m: DatasetManifest) => unknown; file?: [string, Uint8Array | string] } = {},
  format: 'f32' | 'u8' = 'f32',
): string {
  const d = path.join(root, `d${n++}`);
  const manifest = writeDiskDataset(d, source, { imageFormat: format });
  if (change.manifest) writeFileSync(path.join(d, 'dataset.json'), JSON.stringify(change.manifest(structuredClone(manifest))));
  if (change.file) writeFileSync(path.join(d, change.file[0]), change.file[1]);
  return d;
}

describe('on-disk datasets', () => {
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('round-trips a dataset exactly in float32, and to 1/255 in uint8', () => {
    const d = dir();
    const back = loadDiskDataset(d);
    expect(back.classes).toEqual(source.classes);
    expect([back.height, back.width, back.channels, back.train.count, back.validation.count]).toEqual([8, 8, 3, 12, 5]);
    expect(back.train.images).toEqual(source.train.images);
    expect(back.validation.labels).toEqual(source.validation.labels);
    expect(JSON.parse(readFileSync(path.join(d, 'dataset.json'), 'utf8')).splits.val).toEqual({
      images: 'val-images.f32',
      labels: 'val-labels.u8',
    });
    const u8 = loadDiskDataset(dir({}, 'u8'));
    expect(u8.train.images.every((v, i) => Math.abs(v - (source.train.images[i] as number)) <= 0.5 / 255 + 1e-7)).toBe(true);
  });

  it('loads through loadDataset by path, cached, and refuses dataset_options', () => {
    clearDatasetCache();
    const d = dir();
    const rel = `./${path.relative(process.cwd(), d)}`;
    const a = loadDataset(rel);
    expect(loadDataset(d)).toBe(a);
    expect(a.name).toBe('synthetic');
    expect(() => loadDataset(d, { train_size: 4 })).toThrow(/takes no dataset_options \(got train_size\)/);
  });

  it('names a missing directory, manifest or file', () => {
    expect(() => loadDiskDataset(path.join(root, 'nowhere'))).toThrow(/nowhere: no such directory$/);
    expect(() => loadDiskDataset(root)).toThrow(/: no dataset\.json there: a dataset directory holds dataset\.json/);
    const d = dir();
    rmSync(path.join(d, 'val-labels.u8'));
    expect(() => loadDiskDataset(d)).toThrow(/splits\.val\.labels .*val-labels\.u8: file not found/);
  });

  it('rejects bad JSON and bad manifests with the path of the field', () => {
    expect(() => loadDiskDataset(dir({ file: ['dataset.json', '{"classes": [}'] }))).toThrow(/dataset\.json is not valid JSON/);
    expect(() => loadDiskDataset(dir({ manifest: (m) => ({ ...m, classes: [] }) }))).toThrow(/dataset\.json: classes: /);
    expect(() => loadDiskDataset(dir({ manifest: (m) => ({ ...m, classes: ['a', 'a', 'b'] }) }))).toThrow(
      /classes: class names must be unique/,
    );
    expect(() => loadDiskDataset(dir({ manifest: (m) => ({ ...m, image: { height: 8, width: 8 } }) }))).toThrow(/image\.channels/);
    expect(() =>
      loadDiskDataset(
        dir({ manifest: (m) => ({ ...m, splits: { train: { ...m.splits.train, images: 'train.png' }, val: m.splits.val } }) }),
      ),
    ).toThrow(/splits\.train\.images: must end in \.u8 \(uint8 0–255\) or \.f32/);
    expect(() =>
      loadDiskDataset(dir({ manifest: (m) => ({ ...m, splits: { train: { ...m.splits.train, labels: '../x.u8' }, val: m.splits.val } }) })),
    ).toThrow(/splits\.train\.labels: must be a path inside the dataset directory/);
    expect(() => loadDiskDataset(dir({ manifest: (m) => ({ ...m, splits: { train: m.splits.train } }) }))).toThrow(/splits\.val/);
    expect(() => loadDiskDataset(dir({ manifest: (m) => ({ ...m, colour: true }) }))).toThrow(/colour/);
  });

  it('rejects image files of the wrong length, labels that are not 0/1, and a class count that does not fit', () => {
    const short = dir({ file: ['train-images.f32', new Uint8Array(11 * 8 * 8 * 3 * 4)] });
    expect(() => loadDiskDataset(short)).toThrow(
      /train-images\.f32 has 8448 bytes \(11 images\), but .*train-labels\.u8 has labels for 12 images of 8×8×3 float32, which need 9216 bytes/,
    );
    const labels = new Uint8Array(12 * 3);
    labels[7] = 2;
    expect(() => loadDiskDataset(dir({ file: ['train-labels.u8', labels] }))).toThrow(
      /train-labels\.u8: label value 2 for image 2, class class_1 \(byte 7\); labels must be 0 or 1/,
    );
    expect(() => loadDiskDataset(dir({ manifest: (m) => ({ ...m, classes: ['a', 'b', 'c', 'd', 'e'] }) }))).toThrow(
      /train-labels\.u8 has 36 bytes, not a positive multiple of the 5 classes in dataset\.json/,
    );
    expect(() => loadDiskDataset(dir({ manifest: (m) => ({ ...m, classes: ['a', 'b'] }) }))).toThrow(
      /train-images\.f32 has 9216 bytes \(12 images\), but .* labels for 18 images/,
    );
    const nan = new Float32Array(12 * 8 * 8 * 3);
    nan[5] = Number.NaN;
    expect(() => loadDiskDataset(dir({ file: ['train-images.f32', new Uint8Array(nan.buffer)] }))).toThrow(
      /value NaN at index 5 is not finite/,
    );
  });
});
