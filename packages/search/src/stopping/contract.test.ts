import { stoppingContractSuite } from '@sweepd/core/testing';
import { ashaRulePlugin, builtinStoppingRules, learningCurveRulePlugin, startupScreenRulePlugin } from './index.ts';

for (const plugin of builtinStoppingRules) {
  stoppingContractSuite(plugin.name, (ctx) => plugin.create(plugin.parseOptions({}), ctx));
}

// The asha options that change how promotion is decided keep the contract too.
stoppingContractSuite('asha (noise_tolerance 1, rung_value best)', (ctx) =>
  ashaRulePlugin.create(ashaRulePlugin.parseOptions({ noise_tolerance: 1, tolerance: 0.001, rung_value: 'best' }), ctx),
);

// learning-curve as the pruning benchmark runs it: less optimism for a trial behind the leaders.
stoppingContractSuite('learning-curve (initial_value 0.5, behind_confidence 0.5)', (ctx) =>
  learningCurveRulePlugin.create(
    learningCurveRulePlugin.parseOptions({ min_epochs: 1, initial_value: 0.5, confidence: 2, behind_confidence: 0.5 }),
    ctx,
  ),
);

// learning-curve as the pruning benchmark runs it now: power-law shapes, bends within 3 epochs, final values.
const BENCH_LEARNING_CURVE = {
  min_epochs: 1,
  initial_value: 0.5,
  confidence: 2,
  behind_confidence: 0.25,
  leaders: 1,
  power_exponents: [1],
  max_time_constant: 3,
  reference: 'final',
};
stoppingContractSuite('learning-curve (power_exponents, max_time_constant, reference final)', (ctx) =>
  learningCurveRulePlugin.create(learningCurveRulePlugin.parseOptions(BENCH_LEARNING_CURVE), ctx),
);

// learning-curve with more optimism for late trials behind the leaders, and the start-up screen, as the bench runs them.
stoppingContractSuite('learning-curve (late behind_confidence)', (ctx) =>
  learningCurveRulePlugin.create(
    learningCurveRulePlugin.parseOptions({ ...BENCH_LEARNING_CURVE, late: { from_trial: 25, behind_confidence: 1 } }),
    ctx,
  ),
);
stoppingContractSuite('startup-screen (trials 6, epochs 2)', (ctx) =>
  startupScreenRulePlugin.create(startupScreenRulePlugin.parseOptions({ trials: 6, epochs: 2 }), ctx),
);

// learning-curve with the peer-based prediction, in both roles.
for (const role of ['keep', 'stop'] as const) {
  stoppingContractSuite(`learning-curve (peer_gains, role ${role})`, (ctx) =>
    learningCurveRulePlugin.create(
      learningCurveRulePlugin.parseOptions({
        ...BENCH_LEARNING_CURVE,
        peer_gains: { role, same_choices: role === 'stop', min_peers: 2, from_epoch: 2 },
      }),
      ctx,
    ),
  );
}
