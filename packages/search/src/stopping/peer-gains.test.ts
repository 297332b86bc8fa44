import type { TrialView } from '@sweepd/core';
import { describe, expect, it } from 'vitest';
import { peerGain } from './peer-gains.ts';
import { METRIC, trial } from './test-histories.ts';

const line = (start: number, end: number): number[] => Array.from({ length: 20 }, (_, i) => start + ((end - start) * i) / 19);
const at = (n: number, params: TrialView['params'], values: number[]): TrialView => ({ ...trial(n, values), params });
const options = { neighbours: 2, quantile: 1, min_peers: 1 };

describe('peerGain', () => {
  // Epoch 1 at 0.5 for all; each peer's gain to epoch 20 is its end − 0.5.
  const peers = [
    at(0, { optimizer: 'sgd', lr: 1e-3 }, line(0.5, 0.6)),
    at(1, { optimizer: 'adam', lr: 1e-1 }, line(0.5, 0.7)),
    at(2, { optimizer: 'adam', lr: 1e-4 }, line(0.5, 0.9)),
    at(3, { optimizer: 'adam', lr: 2e-4 }, line(0.5, 0.8)),
  ];
  const me = at(9, { optimizer: 'adam', lr: 1.5e-4 }, line(0.5, 0.5).slice(0, 1));

  it('takes the gains of the nearest peers with the same choices, nearest on a log scale, at the quantile', () => {
    expect(peerGain(me, peers, 1, 20, METRIC, 1, options)?.gain).toBeCloseTo(0.4, 10);
    expect(peerGain(me, peers, 1, 20, METRIC, 1, { ...options, quantile: 0 })?.gain).toBeCloseTo(0.3, 10);
    expect(peerGain(me, peers, 1, 20, METRIC, 1, { ...options, neighbours: 3, quantile: 0 })).toEqual({
      gain: expect.closeTo(0.2, 10),
      peers: 3,
    });
  });

  it('with same_choices, leaves other choices out; too few peers or none at the horizon: undefined', () => {
    const sgd = at(9, { optimizer: 'sgd', lr: 1e-4 }, [0.5]);
    expect(peerGain(sgd, peers, 1, 20, METRIC, 1, { ...options, neighbours: 4, quantile: 1 })?.gain).toBeCloseTo(0.4, 10);
    expect(peerGain(sgd, peers, 1, 20, METRIC, 1, { ...options, neighbours: 4, same_choices: true })).toEqual({
      gain: expect.closeTo(0.1, 10),
      peers: 1,
    });
    expect(peerGain(sgd, peers, 1, 20, METRIC, 1, { ...options, same_choices: true, min_peers: 2 })).toBeUndefined();
    const running = peers.map((p) => ({ ...p, epochs: p.epochs.slice(0, 10) }));
    expect(peerGain(me, running, 1, 20, METRIC, 1, options)).toBeUndefined();
  });

  it('works on the signed values: a minimised metric gains as it falls', () => {
    const losses = peers.map((p) => ({
      ...p,
      epochs: p.epochs.map((r) => ({ ...r, metrics: { [METRIC]: 1 - (r.metrics[METRIC] as number) } })),
    }));
    expect(peerGain(me, losses, 1, 20, METRIC, -1, options)?.gain).toBeCloseTo(0.4, 10);
  });
});
