import type { StudyRecord, TrialRecord } from '@sweepd/core';
import { describe, expect, it } from 'vitest';
import { SettledTrials } from './settled-trials.ts';

const study = (id: string, state: StudyRecord['state']) => ({ id, state }) as StudyRecord;
const trial = (state: TrialRecord['state']) => ({ state }) as TrialRecord;

describe('settled trials', () => {
  it('reads a study again while it runs or a trial is in flight, and once it has settled', async () => {
    const reads: string[] = [];
    let states: TrialRecord['state'][] = ['completed', 'running'];
    const kept = new SettledTrials({ listTrials: async (id) => (reads.push(id), states.map(trial)) });
    await kept.of(study('a', 'running'));
    await kept.of(study('a', 'stopped')); // ended, but a trial still stopping
    expect(reads).toEqual(['a', 'a']);
    states = ['completed', 'stopped'];
    const first = await kept.of(study('a', 'stopped'));
    const again = await kept.of(study('a', 'stopped'));
    expect(again).toBe(first);
    expect(reads).toEqual(['a', 'a', 'a']);
  });

  it('keeps the last studies read, up to its capacity', async () => {
    const reads: string[] = [];
    const kept = new SettledTrials({ listTrials: async (id) => (reads.push(id), [trial('completed')]) }, 2);
    for (const id of ['a', 'b', 'a', 'c', 'a', 'b']) await kept.of(study(id, 'completed'));
    // a, b read; a kept; c read (b, the least recent, let go); a kept; b read again.
    expect(reads).toEqual(['a', 'b', 'c', 'b']);
  });
});
