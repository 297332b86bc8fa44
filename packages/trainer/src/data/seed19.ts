import type { ImageDataset } from './types.ts';
import { generateSynthetic } from './synthetic.ts';

/**
 * The practitioner's 19 classes (from their class table): the share of images containing each class in
 * train and validation, in percent. obj_1, obj_13 and obj_14 never occur in validation and obj_6
 * always does, so their validation AUC is undefined — exactly what the metrics must survive.
 */
export const SEED19_PREVALENCE: ReadonlyArray<{ name: string; train: number; validation: number }> = [
  { name: 'obj_1', train: 3.9832, validation: 0 },
  { name: 'obj_2', train: 70.6678, validation: 33.3253 },
  { name: 'obj_3', train: 89.9084, validation: 98.5371 },
  { name: 'obj_4', train: 85.6781, validation: 81.4631 },
  { name: 'obj_5', train: 92.7638, validation: 71.4327 },
  { name: 'obj_6', train: 99.969, validation: 100 },
  { name: 'obj_7', train: 90.5899, validation: 96.1605 },
  { name: 'obj_8', train: 77.1223, validation: 91.8368 },
  { name: 'obj_9', train: 94.62, validation: 98.8323 },
  { name: 'obj_10', train: 88.2051, validation: 95.0989 },
  { name: 'obj_11', train: 3.8838, validation: 9.367 },
  { name: 'obj_12', train: 50.0131, validation: 24.8709 },
  { name: 'obj_13', train: 0.0056, validation: 0 },
  { name: 'obj_14', train: 0.3237, validation: 0 },
  { name: 'obj_15', train: 61.3438, validation: 94.1573 },
  { name: 'obj_16', train: 93.8729, validation: 98.1648 },
  { name: 'obj_17', train: 93.8731, validation: 97.5094 },
  { name: 'obj_18', train: 59.2404, validation: 70.1059 },
  { name: 'obj_19', train: 8.5414, validation: 26.8762 },
];

export interface Seed19Options {
  trainSize: number;
  valSize: number;
  imageSize: number;
  seed: number;
}

export function generateSeed19(options: Seed19Options): ImageDataset {
  return generateSynthetic({
    ...options,
    name: 'seed-19',
    classes: SEED19_PREVALENCE.length,
    classNames: SEED19_PREVALENCE.map((c) => c.name),
    trainPrevalence: SEED19_PREVALENCE.map((c) => c.train / 100),
    valPrevalence: SEED19_PREVALENCE.map((c) => c.validation / 100),
  });
}
