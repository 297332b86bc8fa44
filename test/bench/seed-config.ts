/**
 * Benchmark of the practitioner's failure: does their configuration — RMSProp at
 * lr 0.01 with momentum 0.9, decay 0.9, epsilon 1.0, exponential decay 0.94 every 2 epochs,
 * weight decay 4e-5, batch 32, every layer trainable — fail here the way it failed for them
 * (AUC ≈ 0.7, kernels barely moving while biases do, growing sparsity, weights drifting
 * negative), and would sweepd's stopping rules have caught it?
 *
 * On `seed-19` (the practitioner's class table, synthetic shapes, builtin:small-cnn) and on
 * `fashion-mosaic` (real Fashion-MNIST mosaics, builtin:fashion-cnn pretrained on other items),
 * three configurations run through the real runner (TfjsRunner.run, wasm when available):
 *   (a) seed:      the practitioner's flags;
 *   (b) low-lr:    Adam 1e-4, otherwise the same (all layers trainable);
 *   (c) head-only: Adam 1e-3, every layer but the head frozen.
 * Every epoch prints validation AUC (macro, micro), losses, and the per-layer diagnostics. Then
 * the stopping rules weight-stall, dead-units, divergence, median and learning-curve (the three as peers) are
 * replayed epoch by epoch over the recorded histories, as the daemon would have run them.
 *
 * Run: node --import tsx test/bench/seed-config.ts   (about 4–6 minutes on 2 cores; the builtin
 * backbones are pretrained once into test/bench/.cache/models and reused by later runs)
 */

import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { EpochRecord, LayerStats, Params, TrialJob, TrialView } from '@sweepd/core';
import { createStoppingRule, decideAll } from '@sweepd/search';
import { selectBackend, tfjsRunnerPlugin } from '@sweepd/trainer/tfjs';

const CACHE_DIR = join(dirname(fileURLToPath(import.meta.url)), '.cache');
const EPOCHS = 8;

export const SEED_DATASETS = [
  { dataset: 'seed-19', model: 'builtin:small-cnn', options: { train_size: 1024, val_size: 512, image_size: 32 } },
  { dataset: 'fashion-mosaic', model: 'builtin:fashion-cnn', options: { train_size: 1024, val_size: 512, image_size: 32 } },
] as const;

const COMMON: Params = {
  batch_size: 32,
  weight_decay: 4e-5,
  learning_rate_decay_type: 'exponential',
  learning_rate_decay_factor: 0.94,
  num_epochs_per_decay: 2,
  seed: 1,
};

export const SEED_CONFIGS: ReadonlyArray<{ name: string; params: Params }> = [
  {
    name: 'seed',
    params: {
      ...COMMON,
      optimizer: 'rmsprop',
      learning_rate: 0.01,
      rmsprop_momentum: 0.9,
      rmsprop_decay: 0.9,
      opt_epsilon: 1.0,
      frozen_layers: 0,
    },
  },
  { name: 'low-lr', params: { ...COMMON, optimizer: 'adam', learning_rate: 1e-4, frozen_layers: 0 } },
  // The reference CNN has 5 layers with weights (conv1..3, fc1, logits): 4 frozen = head only.
  { name: 'head-only', params: { ...COMMON, optimizer: 'adam', learning_rate: 1e-3, frozen_layers: 4 } },
];

const RULES = [
  { name: 'weight-stall', options: {} },
  { name: 'dead-units', options: {} },
  { name: 'divergence', options: {} },
  // Two peers per trial here: the default min_trials (5) would never judge.
  { name: 'median', options: { warmup_epochs: 1, min_trials: 2 } },
  // Macro AUC starts at 0.5 with the new head; the noise is measured from the peers' curves.
  { name: 'learning-curve', options: { initial_value: 0.5, min_epochs: 1 } },
] as const;

export interface SeedConfigRun {
  dataset: string;
  config: string;
  state: string;
  reason?: string;
  epochs: EpochRecord[];
  seconds: number;
}

export interface RuleVerdict {
  dataset: string;
  config: string;
  rule: string;
  /** First epoch at which the rule says stop, or null. */
  epoch: number | null;
  reason?: string;
}

export interface SeedConfigResult {
  backend: string;
  runs: SeedConfigRun[];
  verdicts: RuleVerdict[];
  seconds: number;
}

const f = (v: number | undefined, digits = 3) => (v === undefined || !Number.isFinite(v) ? '   –  ' : v.toFixed(digits));
const e = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '    –   ' : v.toExponential(2));

function job(dataset: (typeof SEED_DATASETS)[number], params: Params, n: number): TrialJob {
  return {
    studyId: 'seed-config',
    trialId: `seed-config-${dataset.dataset}-${n}`,
    number: n,
    params,
    maxEpochs: EPOCHS,
    objective: { metric: 'val_auc_macro', direction: 'maximize' },
    trainer: { runner: 'tfjs', model: dataset.model, dataset: dataset.dataset, options: { dataset_options: dataset.options } },
    pool: 'bench',
  };
}

function printEpoch(r: EpochRecord): void {
  const m = r.metrics;
  const flags = r.notes?.diagnostics as { stalled: boolean; dying: boolean } | undefined;
  console.log(
    `    epoch ${r.epoch}  lr ${e(m.learning_rate)}  train_loss ${f(m.train_loss, 4)}  val_loss ${f(m.val_loss, 4)}  ` +
      `AUC macro ${f(m.val_auc_macro)} micro ${f(m.val_auc_micro)}  ${f(m.epoch_seconds, 1)} s` +
      (flags ? `  stalled ${flags.stalled ? 'YES' : 'no'} dying ${flags.dying ? 'YES' : 'no'}` : ''),
  );
  for (const l of r.layers as LayerStats[]) {
    if (l.kernelMovement === undefined && l.deadFraction === undefined) continue;
    console.log(
      `      ${l.layer.padEnd(7)} ${l.trainable ? 'train ' : 'frozen'}  ΔW/W0 ${e(l.kernelMovement)}  Δb ${e(l.biasMovement)}  ` +
        `update ${e(l.updateRatio)}  mean ${e(l.mean)}  neg ${f(l.fractionNegative)}  sparsity ${f(l.sparsity)}  dead ${f(l.deadFraction)}`,
    );
  }
}

/** Trial views of every run of one dataset, cut at `epoch` (as if the three ran side by side). */
function viewsAt(runs: readonly SeedConfigRun[], epoch: number): TrialView[] {
  return runs.map((run, i) => ({
    id: run.config,
    number: i + 1,
    params: {},
    state: 'running',
    epochs: run.epochs.filter((r) => r.epoch <= epoch),
  }));
}

async function replayRules(runs: readonly SeedConfigRun[]): Promise<RuleVerdict[]> {
  const verdicts: RuleVerdict[] = [];
  const ctx = { direction: 'maximize' as const, metric: 'val_auc_macro', maxEpochs: EPOCHS };
  const rules = await Promise.all(RULES.map(async (ref) => ({ name: ref.name, rule: await createStoppingRule(ref, ctx) })));
  for (const [i, run] of runs.entries()) {
    const stopped = new Map<string, { epoch: number; reason: string }>();
    let combined: { epoch: number; rule: string; reason: string } | undefined;
    for (let epoch = 1; epoch <= run.epochs.length; epoch++) {
      const views = viewsAt(runs, epoch);
      const trial = views[i] as TrialView;
      const peers = views.filter((_, j) => j !== i);
      for (const { name, rule } of rules) {
        if (stopped.has(name)) continue;
        const d = rule.decide(trial, peers);
        if (d.stop) stopped.set(name, { epoch, reason: d.reason });
      }
      if (!combined) {
        const d = decideAll(rules, trial, peers);
        if (d.stop) combined = { epoch, rule: d.rule, reason: d.reason };
      }
    }
    for (const { name } of rules) {
      const s = stopped.get(name);
      verdicts.push({ dataset: run.dataset, config: run.config, rule: name, epoch: s?.epoch ?? null, ...(s ? { reason: s.reason } : {}) });
    }
    console.log(
      `  ${run.config.padEnd(9)} all rules together (decideAll, in the order above): ${
        combined ? `stopped at epoch ${combined.epoch} by ${combined.rule}` : `runs all ${run.epochs.length} epochs`
      }`,
    );
    for (const { name } of rules) {
      const s = stopped.get(name);
      console.log(`    ${name.padEnd(12)} ${s ? `would stop at epoch ${s.epoch}: ${s.reason}` : 'never stops it'}`);
    }
  }
  return verdicts;
}

function lastOf(run: SeedConfigRun): EpochRecord | undefined {
  return run.epochs.at(-1);
}

function bestAuc(run: SeedConfigRun): number {
  return Math.max(...run.epochs.map((r) => r.metrics.val_auc_macro ?? Number.NaN).filter(Number.isFinite));
}

/** What the runs show, said plainly: computed from the records, not written in advance. */
function summarize(dataset: string, runs: readonly SeedConfigRun[], verdicts: readonly RuleVerdict[]): string[] {
  const lines: string[] = [];
  const by = (name: string) => runs.find((r) => r.config === name) as SeedConfigRun;
  const seed = by('seed');
  const aucs = runs.map((r) => `${r.config} ${f(bestAuc(r))}`).join(', ');
  lines.push(`${dataset}: best validation macro AUC ${aucs}.`);
  const last = lastOf(seed);
  if (!last) return [...lines, `  the seed configuration reported no epoch (${seed.state}: ${seed.reason ?? ''})`];
  const trainable = (last.layers as LayerStats[]).filter((l) => l.trainable && l.kernelMovement !== undefined);
  const convs = trainable.filter((l) => l.layer.startsWith('conv'));
  const first = seed.epochs[0];
  const kernelMoves = convs.map((l) => `${l.layer} ${e(l.kernelMovement)}`).join(', ');
  const biasMoves = convs.map((l) => `${l.layer} ${e(l.biasMovement)}`).join(', ');
  lines.push(`  seed config, last epoch: conv kernels moved ΔW/W0 ${kernelMoves}; conv biases Δb ${biasMoves}.`);
  const lowLr = lastOf(by('low-lr'));
  if (lowLr) {
    const lowConv = (lowLr.layers as LayerStats[]).filter((l) => l.layer.startsWith('conv'));
    lines.push(`  low-lr, last epoch: conv kernels ΔW/W0 ${lowConv.map((l) => `${l.layer} ${e(l.kernelMovement)}`).join(', ')}.`);
  }
  const deadNow = Math.max(...(last.layers as LayerStats[]).map((l) => l.deadFraction ?? 0));
  const deadFirst = first ? Math.max(...(first.layers as LayerStats[]).map((l) => l.deadFraction ?? 0)) : Number.NaN;
  const sparseNow = (last.layers as LayerStats[]).filter((l) => l.sparsity !== undefined).map((l) => `${l.layer} ${f(l.sparsity, 2)}`);
  const sparseFirst = (first?.layers as LayerStats[] | undefined)
    ?.filter((l) => l.sparsity !== undefined)
    .map((l) => `${l.layer} ${f(l.sparsity, 2)}`);
  lines.push(
    `  seed config sparsity epoch 1 → ${last.epoch}: [${sparseFirst?.join(', ')}] → [${sparseNow.join(', ')}]; largest dead fraction ${f(deadFirst)} → ${f(deadNow)}.`,
  );
  const negFirst = (first?.layers as LayerStats[] | undefined)?.filter((l) => l.fractionNegative !== undefined && l.trainable);
  const negNow = trainable.filter((l) => l.fractionNegative !== undefined);
  if (negFirst && negNow.length) {
    const pairs = negNow.map((l) => {
      const then = negFirst.find((x) => x.layer === l.layer)?.fractionNegative;
      return `${l.layer} ${f(then, 2)}→${f(l.fractionNegative, 2)}`;
    });
    lines.push(`  seed config fraction of negative kernel weights epoch 1 → ${last.epoch}: ${pairs.join(', ')}.`);
  }
  const stalledEpochs = seed.epochs.filter((r) => (r.notes?.diagnostics as { stalled?: boolean } | undefined)?.stalled).map((r) => r.epoch);
  const dyingEpochs = seed.epochs.filter((r) => (r.notes?.diagnostics as { dying?: boolean } | undefined)?.dying).map((r) => r.epoch);
  lines.push(
    `  runner flags on the seed config: stalled at epochs [${stalledEpochs.join(', ')}], dying at epochs [${dyingEpochs.join(', ')}].`,
  );
  const seedStops = verdicts.filter((v) => v.dataset === dataset && v.config === 'seed' && v.epoch !== null);
  lines.push(
    `  rules that would stop the seed config: ${seedStops.length ? seedStops.map((v) => `${v.rule} at epoch ${v.epoch}`).join(', ') : 'none'}.`,
  );
  const others = verdicts.filter((v) => v.dataset === dataset && v.config !== 'seed' && v.epoch !== null);
  lines.push(
    `  rules that would stop the other configs: ${others.length ? others.map((v) => `${v.rule} stops ${v.config} at epoch ${v.epoch}`).join(', ') : 'none'}.`,
  );
  // The practitioner's four symptoms, each checked on the records.
  const seedBest = bestAuc(seed);
  const otherBest = Math.max(...runs.filter((r) => r !== seed).map(bestAuc));
  const firstLayers = (first?.layers ?? []) as LayerStats[];
  const kernelsStill = convs.every((l) => (l.kernelMovement ?? 1) < 1e-2);
  const biasesMove = convs.some((l) => (l.biasMovement ?? 0) > 0.05);
  const sparsityGrows =
    (last.layers as LayerStats[]).filter((l) => {
      const then = firstLayers.find((x) => x.layer === l.layer)?.sparsity;
      return l.sparsity !== undefined && then !== undefined && l.sparsity > then + 0.02;
    }).length >
    convs.length / 2;
  const drifts = trainable.filter((l) => {
    const then = firstLayers.find((x) => x.layer === l.layer)?.fractionNegative;
    return l.fractionNegative !== undefined && then !== undefined && l.fractionNegative > then + 0.02;
  });
  const yes = (b: boolean) => (b ? 'yes' : 'no');
  lines.push(
    `  the practitioner's symptoms on the seed config: AUC ≈ 0.7–0.8: ${yes(seedBest >= 0.65 && seedBest <= 0.82)} (${f(seedBest)}); ` +
      `kernels barely moving (all conv ΔW/W0 < 1e-2) while biases move: ${yes(kernelsStill && biasesMove)}; ` +
      `sparsity growing: ${yes(sparsityGrows)}; weights drifting negative: ${yes(drifts.length > 0)}${drifts.length ? ` (${drifts.map((l) => l.layer).join(', ')})` : ''}.`,
  );
  lines.push(
    `  verdict: the seed config ${seedBest < otherBest - 0.02 ? `is worse than the best alternative (${f(seedBest)} vs ${f(otherBest)})` : seedBest > otherBest + 0.02 ? `beats the alternatives here (${f(seedBest)} vs ${f(otherBest)})` : `is about as good as the alternatives (${f(seedBest)} vs ${f(otherBest)})`}.`,
  );
  return lines;
}

export async function runSeedConfigBench(): Promise<SeedConfigResult> {
  const started = performance.now();
  const { backend } = await selectBackend(undefined, (m) => console.log(m));
  console.log(
    `\nseed-configuration bench: ${SEED_CONFIGS.map((c) => c.name).join(', ')} × ${SEED_DATASETS.map((d) => `${d.dataset} (${d.options.train_size} train / ${d.options.val_size} validation images, ${d.options.image_size}×${d.options.image_size}×3, ${d.model})`).join(' and ')}; ${EPOCHS} epochs each; backend ${backend}; load average ${loadavg()[0]?.toFixed(1)} on ${cpus().length} cores`,
  );
  const runner = await tfjsRunnerPlugin.create(tfjsRunnerPlugin.parseOptions({}), {
    cacheDir: CACHE_DIR,
    log: (m) => console.log(`  [runner] ${m}`),
  });
  const runs: SeedConfigRun[] = [];
  const verdicts: RuleVerdict[] = [];
  const summary: string[] = [];
  try {
    for (const dataset of SEED_DATASETS) {
      const datasetRuns: SeedConfigRun[] = [];
      for (const [n, config] of SEED_CONFIGS.entries()) {
        console.log(`\n[${dataset.dataset}] ${config.name}: ${JSON.stringify(config.params)}`);
        const epochs: EpochRecord[] = [];
        const t0 = performance.now();
        const outcome = await runner.run(job(dataset, config.params, n + 1), {
          signal: new AbortController().signal,
          log: (m) => console.log(`  [trial] ${m}`),
          report: async (r) => {
            epochs.push(r);
            printEpoch(r);
          },
        });
        const run: SeedConfigRun = {
          dataset: dataset.dataset,
          config: config.name,
          state: outcome.state,
          ...(outcome.reason ? { reason: outcome.reason } : {}),
          epochs,
          seconds: (performance.now() - t0) / 1000,
        };
        console.log(`  → ${outcome.state}${outcome.reason ? ` (${outcome.reason})` : ''} in ${run.seconds.toFixed(1)} s`);
        datasetRuns.push(run);
      }
      console.log(
        `\n[${dataset.dataset}] stopping rules replayed epoch by epoch (${RULES.map((r) => r.name).join(', ')}; median over the other two configs):`,
      );
      const v = await replayRules(datasetRuns);
      runs.push(...datasetRuns);
      verdicts.push(...v);
      summary.push(...summarize(dataset.dataset, datasetRuns, v));
    }
  } finally {
    await runner.close?.();
  }
  const seconds = (performance.now() - started) / 1000;
  console.log('\nsummary');
  for (const line of summary) console.log(`  ${line}`);
  console.log(`  (whole bench ${seconds.toFixed(0)} s)`);
  return { backend, runs, verdicts, seconds };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runSeedConfigBench();
}
