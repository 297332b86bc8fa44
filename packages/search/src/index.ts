import { registry } from '@sweepd/core';
import { builtinStoppingRules } from './stopping/index.ts';
import { builtinStrategies } from './strategies/index.ts';

for (const plugin of [...builtinStrategies, ...builtinStoppingRules]) registry.register(plugin);

export { builtinStoppingRules, decideAll, noiseEstimate, tagsForTrialAll } from './stopping/index.ts';
export { BASELINE_STOPPING_RULES, isBaselineTrial } from './engine/baseline.ts';
export { builtinStrategies } from './strategies/index.ts';
export * from './create.ts';
export * from './engine/index.ts';
export * from './diagnosis/index.ts';
