import { describe, expect, it } from 'vitest';
import type { EpochWrite } from './contract.ts';
import { epochWriteProblem } from './epoch-write-problem.ts';

const write = (extra: Partial<EpochWrite> = {}): EpochWrite => ({
  trialId: 'tr_1',
  epoch: 1,
  metrics: { val_auc_macro: 0.7 },
  layers: [],
  ...extra,
});

describe('epochWriteProblem', () => {
  it('has nothing against a storable epoch', () => {
    expect(
      epochWriteProblem(write({ layers: [{ layer: 'conv1', trainable: true }], notes: { host: 'vm', list: ['a', 1] } })),
    ).toBeUndefined();
  });

  it('names what no store could keep: a layer twice, a NUL in a name or in the notes (PostgreSQL text refuses U+0000)', () => {
    const twice = [
      { layer: '0', trainable: true },
      { layer: '0', trainable: false },
    ];
    expect(epochWriteProblem(write({ layers: twice }))).toBe('layer 0 is listed twice in epoch 1');
    expect(epochWriteProblem(write({ metrics: { 'auc\0': 0.5 } }))).toBe(
      'metric name "auc\\u0000" holds a NUL character, which the database cannot store',
    );
    expect(epochWriteProblem(write({ layers: [{ layer: 'a\0', trainable: true }] }))).toMatch(/^layer name "a\\u0000" holds a NUL/);
    expect(epochWriteProblem(write({ notes: { device: 'cpu\0' } }))).toBe(
      'notes.device holds a NUL character, which the database cannot store',
    );
    expect(epochWriteProblem(write({ notes: { deep: [{ x: 'y\0' }] } }))).toBe(
      'notes.deep[0].x holds a NUL character, which the database cannot store',
    );
    expect(epochWriteProblem(write({ notes: { ['k\0']: 1 } }))).toBe(
      'notes key "k\\u0000" holds a NUL character, which the database cannot store',
    );
    expect(epochWriteProblem(write({ epoch: 1.5 }))).toBe('epoch must be an integer from 0 to 2147483647, got 1.5');
    expect(epochWriteProblem(write({ epoch: 2 ** 31 }))).toMatch(/^epoch must be an integer from 0 to 2147483647/);
    // A file name Python read with surrogateescape: half a surrogate pair, which PostgreSQL's json refuses.
    expect(epochWriteProblem(write({ notes: { image: '/data/\udcff.jpg' } }))).toBe(
      'notes.image holds half a UTF-16 surrogate pair (not valid Unicode), which the database cannot store',
    );
    expect(epochWriteProblem(write({ metrics: { 'auc\ud800': 0.5 } }))).toMatch(/^metric name .* holds half a UTF-16 surrogate pair/);
    expect(epochWriteProblem(write({ layers: [{ layer: 'conv\ud800', trainable: true }] }))).toMatch(/^layer name .* holds half/);
    expect(epochWriteProblem(write({ notes: { ok: '😀 whole pairs are fine' } }))).toBeUndefined();
    expect(epochWriteProblem(write({ notes: JSON.parse('{"a": {"__proto__": 5}}') }))).toBe(
      'notes.a key "__proto__" is not accepted: it would vanish',
    );
    expect(epochWriteProblem(write({ layers: [{ layer: 'fc' } as never] }))).toBe('layer fc: trainable must be true or false');
  });
});
