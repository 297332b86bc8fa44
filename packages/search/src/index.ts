import { registry } from '@sweepd/core';
import { builtinStoppingRules } from './stopping/index.ts';
import { builtinStrategies } from './strategies/index.ts';

for (const plugin of [...builtinStrategies, ...builtinStoppingRules]) registry.register(plugin);

export { builtinStoppingRules, decideAll, tagsForTrialAll } from './stopping/index.ts';
export { builtinStrategies } from './strategies/index.ts';
export * from './create.ts';
export * from './engine/index.ts';
export * from './diagnosis/index.ts';
