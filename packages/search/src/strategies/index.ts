import type { Plugin } from '@sweepd/core';
export const builtinStrategies: Plugin<'strategy'>[] = [];
