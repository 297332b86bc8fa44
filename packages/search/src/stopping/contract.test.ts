import { stoppingContractSuite } from '@sweepd/core/testing';
import { ashaRulePlugin, builtinStoppingRules } from './index.ts';

for (const plugin of builtinStoppingRules) {
  stoppingContractSuite(plugin.name, (ctx) => plugin.create(plugin.parseOptions({}), ctx));
}

// The asha options that change how promotion is decided keep the contract too.
stoppingContractSuite('asha (noise_tolerance 1, rung_value best)', (ctx) =>
  ashaRulePlugin.create(ashaRulePlugin.parseOptions({ noise_tolerance: 1, tolerance: 0.001, rung_value: 'best' }), ctx),
);
