import type { Direction } from '@sweepd/core';
import type { DiagnosisThresholds } from './diagnosis-types.ts';
import type { TrialEvidence } from './evidence.ts';

/**
 * Whether the objective shows learning: clearly above chance, or (off chance) risen by minGain, or,
 * for a score (`bound`: its top, or 0 for an error), by headroomShare of the room its first epoch left.
 * Where its layers show that no weight trained, only a rise counts: a pretrained network with every
 * layer frozen scores what its starting weights score, however far above chance (0.75, flat), and
 * that is the trial that learned nothing (one that rose learned through layers it does not report).
 */
export function learned(e: TrialEvidence, t: DiagnosisThresholds, bound: number | undefined): boolean {
  const m = e.metric;
  if (!m) return false;
  if (m.chance !== undefined) {
    const above = m.best - m.chance;
    if (above >= t.learnedAboveChance && !e.nothingTrained) return true;
    if (above < t.nearChance) return false;
  }
  if (m.gain >= t.minGain) return true;
  return bound !== undefined && m.gain > t.peerMargin && m.gain >= t.headroomShare * Math.abs(bound - m.first);
}

/** Whether `other` is better than `value` by more than `margin` in the objective's direction. */
export function isBetter(other: number | undefined, value: number, direction: Direction, margin: number): boolean {
  if (other === undefined || !Number.isFinite(other)) return false;
  return (direction === 'maximize' ? other - value : value - other) > margin;
}
