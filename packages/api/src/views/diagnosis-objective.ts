import type { SearchSpec } from '@sweepd/core';
import { type DiagnosisObjective, learningRateParam } from '@sweepd/search';

/** What a diagnosis judges against in a study: its objective, the learning-rate range it searches, and its fixed parameters. */
export function diagnosisObjective(spec: SearchSpec): DiagnosisObjective {
  const { metric, direction } = spec.objective;
  const range = learningRateRange(spec);
  const fixed = Object.keys(spec.fixed ?? {}).length > 0 ? { fixed: spec.fixed } : {};
  return range ? { metric, direction, learningRateRange: range, ...fixed } : { metric, direction, ...fixed };
}

/** The range of the space's learning rate, under whichever name it goes by (learning_rate, lr, …). */
function learningRateRange(spec: SearchSpec): { low: number; high: number; name: string } | undefined {
  const name = learningRateParam(Object.keys(spec.space));
  const lr = name === undefined ? undefined : spec.space[name];
  if (!lr || name === undefined) return undefined;
  if (lr.type === 'float' || lr.type === 'int') return { low: lr.low, high: lr.high, name };
  const rates = lr.choices.filter((c): c is number => typeof c === 'number');
  return rates.length > 0 ? { low: Math.min(...rates), high: Math.max(...rates), name } : undefined;
}
