import { stoppingContractSuite } from '@sweepd/core/testing';
import { builtinStoppingRules } from './index.ts';

for (const plugin of builtinStoppingRules) {
  stoppingContractSuite(plugin.name, (ctx) => plugin.create(plugin.parseOptions({}), ctx));
}
