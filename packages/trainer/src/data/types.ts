/** One split of a multi-label image dataset, as flat typed arrays (NHWC, values in [0, 1]). */
export interface DatasetSplit {
  count: number;
  /** count × height × width × channels. */
  images: Float32Array;
  /** count × classes, 0 or 1. */
  labels: Uint8Array;
}

export interface ImageDataset {
  name: string;
  classes: readonly string[];
  height: number;
  width: number;
  channels: number;
  train: DatasetSplit;
  validation: DatasetSplit;
}
