import type { Plugin } from '@sweepd/core';
export const builtinStoppingRules: Plugin<'stopping'>[] = [];
