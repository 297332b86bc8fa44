import { describe, expect, it } from 'vitest';
import { TagMap, TagMapError } from './tag-map.ts';

describe('TagMap', () => {
  it('maps exact run/tag names and nothing else', () => {
    const map = new TagMap({ 'validation/epoch_auc': 'val_auc', loss: 'loss' });
    expect(map.metricFor('validation/epoch_auc')).toBe('val_auc');
    expect(map.metricFor('loss')).toBe('loss');
    expect(map.metricFor('train/epoch_auc')).toBeUndefined();
    expect(map.metricFor('epoch_auc')).toBeUndefined();
  });

  it("replaces a '*' in the metric with what the '*' in the tag matched, slashes included", () => {
    const map = new TagMap({ 'eval/*': 'val_*', 'train/*/loss': 'loss_*' });
    expect(map.metricFor('eval/AUC')).toBe('val_AUC');
    expect(map.metricFor('eval/per_class/obj_3')).toBe('val_per_class/obj_3');
    expect(map.metricFor('train/clone_0/loss')).toBe('loss_clone_0');
    expect(map.metricFor('train/loss')).toBeUndefined();
  });

  it('prefers an exact key, then the first declared pattern', () => {
    const map = new TagMap({ 'eval/*': 'first_*', 'eval/A*': 'second_*', 'eval/AUC': 'auc' });
    expect(map.metricFor('eval/AUC')).toBe('auc');
    expect(map.metricFor('eval/AP')).toBe('first_AP');
  });

  it('rejects malformed entries, naming them', () => {
    expect(() => new TagMap({ 'a/*/*': 'x' })).toThrow(TagMapError);
    expect(() => new TagMap({ 'a/*/*': 'x' })).toThrow(/tags\.a\/\*\/\*: at most one '\*'/);
    expect(() => new TagMap({ loss: '' })).toThrow(/tags\.loss: the metric name must be a non-empty string/);
    expect(() => new TagMap({ loss: 'l_*' })).toThrow(/needs a '\*' in the tag/);
    expect(() => new TagMap({ '': 'x' })).toThrow(/empty tag name/);
  });
});
