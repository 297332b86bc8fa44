import type { TrialView } from '@sweepd/core';
import { type Activation, classValues, layerLabel, type TrialEvidence } from './evidence.ts';
import { hasEpsilon, learningRateOf, optimizerOf } from './param-names.ts';
import type { RatePosition } from './peers.ts';
import { formatRate, formatRateAmong, pct, rangeOf, val, valInUnit } from './words.ts';

/** The figures a diagnosis rests on, one sentence each, as its `evidence` lists them. */

export function evidenceSentences(
  e: TrialEvidence,
  position: RatePosition | undefined,
  params: TrialView['params'],
  margin: number,
  failed: boolean,
): string[] {
  const out: string[] = [];
  const m = e.metric;
  if (m) {
    // An AUC in [0, 1] (chance 0.5) that left it shows by how much, not rounded back to 1.
    const shown = m.chance === 0.5 ? valInUnit : val;
    const course = m.points.length <= 8 ? m.points.map((p) => shown(p.value)).join(' → ') : `${shown(m.first)} → … → ${shown(m.last)}`;
    // An epoch whose value was NaN, infinite or missing is not on the course, but it ran.
    const without = e.epochs - m.points.length;
    out.push(
      `${m.name}: ${course} over ${m.points.length} epoch(s)${without > 0 ? ` (${without} more without a finite value)` : ''}; best ${val(m.best)} at epoch ${m.bestEpoch}` +
        (m.chance !== undefined ? ` (chance: ${m.chance})` : '') +
        (m.fallBack > 0 ? `, last ${val(m.last)}` : '') +
        '.',
    );
  }
  if (e.diverged) out.push(`Diverged: ${e.diverged}.`);
  const fromZero = e.kernelsFromZero?.map(layerLabel).join(', ');
  const nonFinite = e.kernelsNonFinite?.map(layerLabel).join(', ');
  if (e.kernels)
    out.push(
      `Kernels moved a median ${pct(e.kernels.median)} from their starting values (largest ${pct(e.kernels.max)} in ${layerLabel(e.kernels.maxLayer)}; ${e.kernels.layers} trainable layer(s)` +
        (nonFinite ? `; not ${nonFinite}, whose weights went NaN or infinite` : '') +
        (fromZero ? `; not ${fromZero}, whose kernel started at zero, so it has no movement relative to its start).` : ').'),
    );
  else if (fromZero)
    out.push(
      `Kernel movement: none to show, since ${fromZero} started at zero (no movement relative to a zero start); ${e.kernelsFromZero?.length === 1 ? 'its' : 'their'} update ratio is below.`,
    );
  // Layers with weights the script reported frozen: what they hold is not trained, at any rate.
  if (e.reported && !e.reported.inferred && e.reported.frozen > 0)
    out.push(`Frozen: ${e.reported.frozen} of its ${e.reported.weighted} layer(s) with weights did not train (trainable: false).`);
  if (e.unchangedHistograms) {
    const { layers, from, to } = e.unchangedHistograms;
    out.push(
      `Weight histograms (from the event files): ${layers === 1 ? "the reported layer's is" : `all ${layers} reported layers' are`} the same at epoch ${to} as at epoch ${from}: no weight moved past a histogram bucket edge.`,
    );
  }
  if (e.updateRatio)
    out.push(`Last epoch's update ratio ‖ΔW‖/‖W‖: median ${val(e.updateRatio.median)}, largest ${val(e.updateRatio.max)}.`);
  if (e.biases)
    out.push(`Biases moved a median ${val(e.biases.median)} (absolute; largest ${val(e.biases.max)} in ${layerLabel(e.biases.maxLayer)}).`);
  if (e.dead)
    out.push(`Dead units: ${pct(e.dead.value)} of ${layerLabel(e.dead.layer)}'s units are zero on the whole probe batch${earlier(e.dead)}`);
  if (e.sparsity)
    out.push(`Sparsity: ${pct(e.sparsity.value)} of ${layerLabel(e.sparsity.layer)}'s activations are zero${earlier(e.sparsity)}`);
  const rate = learningRateOf({ params });
  if (rate !== undefined) {
    const optimizer = optimizerOf({ params });
    const opt = optimizer !== undefined ? ` (${optimizer}` : ' (';
    const eps = typeof params.opt_epsilon === 'number' && hasEpsilon(optimizer) ? `, epsilon ${formatRate(params.opt_epsilon)})` : ')';
    // With the digits it takes not to read as a peer rate named beside it.
    const named = position ? [...position.betterHigher, ...position.betterLower] : [];
    let line = `Learning rate ${formatRateAmong(rate, named)}${opt === ' (' ? '' : `${opt}${eps}`}`;
    if (position) {
      const better = position.betterHigher.length + position.betterLower.length + position.betterSame;
      const standing = failed
        ? `not ranked (it failed); against the ${position.of - 1} ranked ${position.group}`
        : `ranks ${position.rank} of ${position.of} ${position.group}`;
      // Better, but did not learn: left out of the rates below, and said, so that "no peer scored better" stays true.
      const n = position.betterUnlearned;
      line +=
        `: ${standing}; ` +
        (better === 0
          ? // Named by kind: a trial of another optimizer may well have done better (the summary may say so).
            `no other ${position.member}${n > 0 ? ' that learned' : ''} scored better by more than ${val(margin)}`
          : `of the ${better} that scored better by more than ${val(margin)}, ${position.betterHigher.length} used a higher rate${
              position.betterHigher.length ? ` (${rangeOf(position.betterHigher, rate)})` : ''
            }, ${position.betterLower.length} a lower one${position.betterLower.length ? ` (${rangeOf(position.betterLower, rate)})` : ''} and ${position.betterSame} the same`);
      if (n > 0) line += `; ${n}${better === 0 ? '' : ' more'} scored better but did not learn, so their rates are left out`;
    }
    out.push(`${line}.`);
  }
  return out;
}

/**
 * The classes of a per-class objective that stayed near or below chance at the trial's best epoch
 * (under `learnedFloor`), and those with no value: an evidence sentence, and a note for a summary
 * that would otherwise say "Healthy" of the average alone. Undefined when every class learned.
 */
export function weakClasses(
  trial: TrialView,
  metric: string,
  e: TrialEvidence,
  learnedFloor: number | undefined,
): { sentence: string; note: string } | undefined {
  const m = e.metric;
  if (!m || learnedFloor === undefined) return undefined;
  const classes = classValues(trial, metric, m.bestEpoch);
  if (!classes) return undefined;
  const weak = classes.values.filter((c) => c.value < learnedFloor).sort((a, b) => a.value - b.value);
  if (weak.length === 0 && classes.missing.length === 0) return undefined;
  // An average near chance already says the classes did not learn; only missing ones add to it.
  if (m.best < learnedFloor && classes.missing.length === 0) return undefined;
  // Out of the classes with a value: counting those with none would read as if they had learned.
  const total = `${classes.values.length}${classes.missing.length > 0 ? ' with a value' : ''}`;
  const shown = weak
    .slice(0, 3)
    .map((c) => `${c.name} ${val(c.value)}`)
    .join(', ');
  const more = weak.length > 3 ? ` and ${weak.length - 3} more` : '';
  const missing = classes.missing.length > 0 ? `no value for ${classes.missing.join(', ')} (one label value in validation)` : '';
  const parts = [weak.length > 0 ? `${weak.length} of ${total} near or below chance (${shown}${more})` : '', missing].filter(Boolean);
  const sentence = `Per class at epoch ${m.bestEpoch}: ${parts.join('; ')}.`;
  const note =
    weak.length > 0
      ? ` Not every class learned: ${shown}${more}, near or below chance.`
      : ` ${classes.missing.join(', ')} ha${classes.missing.length === 1 ? 's' : 've'} no value, so the average leaves ${classes.missing.length === 1 ? 'it' : 'them'} out.`;
  return { sentence, note };
}

/** ' (6.3 % before training, 81 % at the first epoch).': the same layer's figure earlier, where known. */
function earlier(a: Activation): string {
  const parts = [
    ...(a.start !== undefined ? [`${pct(a.start)} before training`] : []),
    ...(a.first !== undefined ? [`${pct(a.first)} at the first epoch`] : []),
  ];
  return parts.length > 0 ? ` (${parts.join(', ')}).` : '.';
}
