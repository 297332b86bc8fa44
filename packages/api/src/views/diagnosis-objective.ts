import type { SearchSpec } from '@sweepd/core';
import type { DiagnosisObjective } from '@sweepd/search';

/** What a diagnosis judges against in a study: its objective, and the learning-rate range it searches. */
export function diagnosisObjective(spec: SearchSpec): DiagnosisObjective {
  const { metric, direction } = spec.objective;
  const range = learningRateRange(spec);
  return range ? { metric, direction, learningRateRange: range } : { metric, direction };
}

function learningRateRange(spec: SearchSpec): { low: number; high: number } | undefined {
  const lr = spec.space.learning_rate;
  if (!lr) return undefined;
  if (lr.type === 'float' || lr.type === 'int') return { low: lr.low, high: lr.high };
  const rates = lr.choices.filter((c): c is number => typeof c === 'number');
  return rates.length > 0 ? { low: Math.min(...rates), high: Math.max(...rates) } : undefined;
}
