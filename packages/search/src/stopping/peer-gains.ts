import type { Params, TrialView } from '@sweepd/core';

/**
 * Peer-based learning-curve prediction: what the study's own trials that reached the horizon
 * gained after epoch e, taken from the ones most like the trial — same categorical choices first,
 * then nearest in the numeric params (each scaled to the range the trial and its peers span, on a
 * log scale where every value is positive and they span more than two decades) and in the curve up
 * to e (scaled to the peers' range of values at e). A trial whose look-alikes bloomed late is
 * predicted to bloom; one whose look-alikes flattened is not.
 */
export interface PeerGainOptions {
  /** How many of the nearest peers the gains are taken from. */
  neighbours: number;
  /** The quantile of their gains (0.9 = optimistic). */
  quantile: number;
  /** Fewer peers with both epoch e and the horizon than this (of the trial's choices, with same_choices): no prediction. */
  min_peers: number;
  /** Only peers with the trial's categorical choices count. */
  same_choices?: boolean;
}

type Scales = Map<string, { log: boolean; range: number }>;

/** Each numeric param's scale over the trial and the peers: its range, on a log scale where every value is positive and they span more than two decades. */
function numericScales(trial: TrialView, peers: readonly TrialView[]): Scales {
  const scales: Scales = new Map();
  for (const key of Object.keys(trial.params)) {
    const values = [trial.params, ...peers.map((p) => p.params)]
      .map((p: Params) => p[key])
      .filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
    if (values.length === 0) continue;
    let lo = Math.min(...values);
    let hi = Math.max(...values);
    const log = lo > 0 && hi / lo > 100;
    if (log) {
      lo = Math.log(lo);
      hi = Math.log(hi);
    }
    scales.set(key, { log, range: hi - lo });
  }
  return scales;
}

/** Categorical mismatches and the euclidean distance in unit coordinates of the numeric params. */
function paramDistance(a: Params, b: Params, keys: readonly string[], scales: Scales): { categorical: number; numeric: number } {
  let categorical = 0;
  let sq = 0;
  for (const key of keys) {
    const x = a[key];
    const y = b[key];
    const scale = scales.get(key);
    if (typeof x === 'number' && typeof y === 'number' && scale) {
      if (!(scale.range > 0)) continue;
      const u = scale.log ? Math.log(x) : x;
      const v = scale.log ? Math.log(y) : y;
      sq += ((u - v) / scale.range) ** 2;
    } else if (x !== y) categorical++;
  }
  return { categorical, numeric: Math.sqrt(sq) };
}

/** A categorical mismatch weighs more than any numeric distance, so that like choices come first. */
const CATEGORICAL_WEIGHT = 10;

/** Signed (maximizing) value of `metric` at `epoch`, or NaN. */
function valueAt(trial: TrialView, metric: string, sign: number, epoch: number): number {
  const r = trial.epochs.find((x) => x.epoch === epoch);
  const v = r?.metrics[metric];
  return typeof v === 'number' && Number.isFinite(v) ? sign * v : Number.NaN;
}

/**
 * The `quantile` of the gains (signed value at the horizon minus at epoch e) of the `neighbours`
 * peers nearest the trial, or undefined with fewer than `min_peers` usable peers.
 */
export function peerGain(
  trial: TrialView,
  others: readonly TrialView[],
  e: number,
  horizon: number,
  metric: string,
  sign: number,
  options: PeerGainOptions,
): { gain: number; peers: number } | undefined {
  const candidates = others
    .map((peer) => ({ peer, atE: valueAt(peer, metric, sign, e), final: valueAt(peer, metric, sign, horizon) }))
    .filter((c) => Number.isFinite(c.atE) && Number.isFinite(c.final));
  if (candidates.length < options.min_peers) return undefined;

  const keys = Object.keys(trial.params);
  const scales = numericScales(
    trial,
    candidates.map((c) => c.peer),
  );
  const own: number[] = [];
  for (let t = 1; t <= e; t++) own.push(valueAt(trial, metric, sign, t));
  const atEs = candidates.map((c) => c.atE);
  const curveRange = Math.max(...atEs) - Math.min(...atEs);

  const distance = (peer: TrialView): number => {
    const { categorical, numeric } = paramDistance(trial.params, peer.params, keys, scales);
    let curveSq = 0;
    let n = 0;
    if (curveRange > 0) {
      for (let t = 1; t <= e; t++) {
        const y = own[t - 1] as number;
        const z = valueAt(peer, metric, sign, t);
        if (!Number.isFinite(y) || !Number.isFinite(z)) continue;
        curveSq += ((y - z) / curveRange) ** 2;
        n++;
      }
    }
    return CATEGORICAL_WEIGHT * categorical + numeric + (n > 0 ? Math.sqrt(curveSq / n) : 0);
  };

  const nearest = candidates
    .map((c) => ({ d: distance(c.peer), gain: c.final - c.atE, id: c.peer.id }))
    .filter((c) => !options.same_choices || c.d < CATEGORICAL_WEIGHT)
    .sort((a, b) => a.d - b.d || (a.id < b.id ? -1 : 1))
    .slice(0, options.neighbours);
  if (nearest.length < options.min_peers) return undefined;
  const gains = nearest.map((x) => x.gain).sort((a, b) => a - b);
  const x = options.quantile * (gains.length - 1);
  const i = Math.floor(x);
  const j = Math.min(i + 1, gains.length - 1);
  const gain = (gains[i] as number) + ((gains[j] as number) - (gains[i] as number)) * (x - i);
  return { gain, peers: gains.length };
}
