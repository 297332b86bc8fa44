import type { Params, Plugin, Space } from '@sweepd/core';
import { z } from 'zod';
import { enumerateGrid, gridAxes, gridBudgetProblem, gridWalker, spacedValues } from './grid-points.ts';

const gridOptions = z.strictObject({
  points: z
    .number()
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .max(10_000, 'must be at most 10000')
    .optional()
    .describe('values per float parameter (evenly spaced, geometrically on log scales); required when the space has floats'),
});
export type GridOptions = z.output<typeof gridOptions>;

/**
 * Exhaustive grid over categoricals (every choice) and ints (every value on the step); floats need
 * `points`. Order: see enumerateGrid. Answers 'done' once every point has been asked.
 */
export const gridStrategy: Plugin<'strategy', GridOptions> = {
  kind: 'strategy',
  name: 'grid',
  description: 'every combination of categorical choices and int values (floats at `points` values), in a fixed order',
  parseOptions: (raw) => gridOptions.parse(raw ?? {}),
  create(options, ctx) {
    return gridWalker(ctx.space, gridPoints(options, ctx.space));
  },
  checkOptions: (options, ctx) => gridBudgetProblem('grid', gridPoints(options, ctx.space), ctx),
};

/** The grid's points, in the order it walks them. */
function gridPoints(options: GridOptions, space: Space): Params[] {
  return enumerateGrid(
    space,
    gridAxes((name, p) => {
      if (options.points === undefined) {
        throw new Error(`grid: float parameter '${name}' needs strategy.options.points (values per float), or use log-grid`);
      }
      return spacedValues(p.low, p.high, options.points, p.log);
    }),
    'grid',
  );
}
