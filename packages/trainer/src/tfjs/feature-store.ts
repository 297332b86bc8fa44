import { createHash } from 'node:crypto';
import type * as tf from '@tensorflow/tfjs';

/** Frozen-prefix outputs for a dataset's train and validation images, kept outside the tf engine. */
export interface CachedFeatures {
  shape: number[];
  train: Float32Array;
  validation: Float32Array;
}

/**
 * Frozen-prefix features shared by the trials of one worker. Trials of a study mostly share the
 * backbone and the frozen depth, so their prefixes compute identical features; the key hashes
 * the prefix's weights, so a hit is the same computation by construction. Held as plain arrays
 * (not tensors) so the engine's tensor count stays flat between trials; least recently used
 * entries go first once `maxBytes` is exceeded.
 */
export class FeatureStore {
  private readonly entries = new Map<string, CachedFeatures>();
  private bytes = 0;

  constructor(private maxBytes: number) {}

  /** A new size limit (a trial's `feature_cache_mb`): entries past it go, least recently used first. */
  setLimit(maxBytes: number): void {
    this.maxBytes = maxBytes;
    this.evict();
  }

  static key(datasetKey: string, prefix: tf.LayersModel): string {
    const hash = createHash('sha256');
    hash.update(datasetKey);
    for (const layer of prefix.layers) {
      hash.update(`|${layer.getClassName()}:${JSON.stringify(layer.getConfig())}`);
      for (const w of layer.weights) {
        const values = w.read().dataSync() as Float32Array;
        hash.update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
      }
    }
    return hash.digest('hex');
  }

  get(key: string): CachedFeatures | undefined {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  set(key: string, features: CachedFeatures): void {
    const size = (features.train.byteLength + features.validation.byteLength) | 0;
    if (size > this.maxBytes) return;
    this.delete(key);
    this.entries.set(key, features);
    this.bytes += size;
    this.evict();
  }

  private evict(): void {
    for (const oldest of this.entries.keys()) {
      if (this.bytes <= this.maxBytes) break;
      this.delete(oldest);
    }
  }

  private delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.bytes -= entry.train.byteLength + entry.validation.byteLength;
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  get size(): number {
    return this.entries.size;
  }
}
