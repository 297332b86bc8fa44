import type { Params, Plugin, Space } from '@sweepd/core';
import { z } from 'zod';
import { enumerateGrid, gridAxes, gridBudgetProblem, gridWalker, spacedValues } from './grid-points.ts';

const logGridOptions = z.strictObject({
  points_per_decade: z
    .number()
    .positive('must be > 0')
    .max(1000, 'must be at most 1000')
    .default(1)
    .describe('grid density on log-scale floats: 1 gives 1e-8, 1e-7, …, 1e-1; 2 adds the half-decades'),
  points: z
    .number()
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .max(10_000, 'must be at most 10000')
    .default(5)
    .describe('values per linear-scale float, evenly spaced from low to high'),
});
export type LogGridOptions = z.output<typeof logGridOptions>;

/** Points on a log-scale float: round(decades × points_per_decade) + 1, geometric from low to high. */
export function logFloatPoints(low: number, high: number, pointsPerDecade: number): number[] {
  // Not log10(high / low): the ratio overflows to Infinity for ranges such as 1e-160..1e160.
  const decades = Math.log10(high) - Math.log10(low);
  return spacedValues(low, high, Math.max(1, Math.round(decades * pointsPerDecade)) + 1, true);
}

/**
 * A geometric grid over log-scale floats (the learning-rate sweep practitioners do by hand),
 * crossed with every categorical choice and int value; linear floats at `points` values.
 * Order: see enumerateGrid. Answers 'done' once every point has been asked.
 */
export const logGridStrategy: Plugin<'strategy', LogGridOptions> = {
  kind: 'strategy',
  name: 'log-grid',
  description: 'geometric grid over log-scale floats at points_per_decade, crossed with all choices and int values',
  parseOptions: (raw) => logGridOptions.parse(raw ?? {}),
  create(options, ctx) {
    return gridWalker(ctx.space, logGridPoints(options, ctx.space));
  },
  checkOptions: (options, ctx) => gridBudgetProblem('log-grid', logGridPoints(options, ctx.space), ctx),
};

/** The grid's points, in the order it walks them. */
function logGridPoints(options: LogGridOptions, space: Space): Params[] {
  return enumerateGrid(
    space,
    gridAxes((_name, p) =>
      p.log ? logFloatPoints(p.low, p.high, options.points_per_decade) : spacedValues(p.low, p.high, options.points, false),
    ),
    'log-grid',
  );
}
