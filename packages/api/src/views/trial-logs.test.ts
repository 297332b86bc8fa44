import { describe, expect, it } from 'vitest';
import { logsPlace } from './trial-logs.ts';

describe('where a trial left its logs', () => {
  const epoch = (n: number, notes?: Record<string, unknown>) => ({ epoch: n, metrics: {}, layers: [], ...(notes && { notes }) });

  it("comes from the trial's end, else from its first epoch (an end never heard), else nowhere", () => {
    const epochs = [epoch(2), epoch(1, { trial_dir: '/w/trials/tr_4', host: 'gpu-box-2', device: 'cuda' })];
    expect(logsPlace({ notes: {}, epochs })).toEqual({ dir: '/w/trials/tr_4', host: 'gpu-box-2' });
    expect(logsPlace({ notes: { trial_dir: '/w/trials/tr_4b', host: 'gpu-box-3' }, epochs })).toEqual({
      dir: '/w/trials/tr_4b',
      host: 'gpu-box-3',
    });
    // Stored before hosts were noted: the place without one.
    expect(logsPlace({ notes: { trial_dir: '/old' }, epochs: [] })).toEqual({ dir: '/old', host: null });
    expect(logsPlace({ notes: {}, epochs: [epoch(1)] })).toBeNull();
  });
});
