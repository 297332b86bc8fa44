import type { Plugin } from '@sweepd/core';
import { gpStrategy } from './gp.ts';
import { gridStrategy } from './grid.ts';
import { logGridStrategy } from './log-grid.ts';
import { randomStrategy } from './random.ts';
import { tpeStrategy } from './tpe.ts';
import { tpeLocalStrategy } from './tpe-local.ts';

export { GP_MAX_DIMENSIONS, gpDimensions, gpStrategy } from './gp.ts';
export { gridStrategy } from './grid.ts';
export { logGridStrategy } from './log-grid.ts';
export { randomStrategy } from './random.ts';
export { tpeStrategy } from './tpe.ts';

/** Registered by packages/search/src/index.ts. */
export const builtinStrategies: Plugin<'strategy'>[] = [
  randomStrategy,
  gridStrategy,
  logGridStrategy,
  tpeStrategy,
  gpStrategy,
  tpeLocalStrategy,
] as Plugin<'strategy'>[];
