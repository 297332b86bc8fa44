import type { Diagnosis } from './diagnosis-types.ts';
import type { JudgeContext } from './judge-context.ts';
import { val } from './words.ts';

/**
 * An AUC that fell far below chance ranks the classes backwards: that is learning, inverted (a
 * flipped label order or score sign), not a rate to change.
 */
export function invertedVerdict({ m, t, metricName, evidence }: JudgeContext): Diagnosis | undefined {
  if (!(m?.chance !== undefined && m.last <= m.chance - t.learnedAboveChance * 2 && m.last < m.first)) return undefined;
  return {
    verdict: 'no-learning',
    summary: `Learning, but inverted: ${metricName} fell ${val(m.first)} → ${val(m.last)}, far below chance (${m.chance}): the model ranks the classes backwards.`,
    evidence,
    advice: `Check the label order and the sign of the scores the AUC is computed on: flipped, this would read ${val(2 * m.chance - m.last)}.`,
  };
}
