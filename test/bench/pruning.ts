/**
 * Pruning benchmark: sweepd's early stopping against Optuna's pruners, on the public learning-curve
 * problem (lr_auc) and three held-out ones (test/bench/pruning-problems.ts), Optuna measured in the
 * same run by test/bench/references/pruning_optuna.py.
 *
 *   node --import tsx test/bench/pruning.ts [--seeds 20] [--first-seed 0] [--problems lr_auc,power_law] [--full]
 *
 * Per problem, method and seed: a sequential study of 50 trials × up to 20 epochs, trials drawn by
 * the method's strategy seeded with the seed; after every epoch but the last the stopping rules
 * decide with the history so far (as Optuna's should_prune() is asked for epoch < 20). Per run:
 *   - epochs: epochs run over the 50 trials;
 *   - completed: trials that ran all 20 epochs;
 *   - best final: the best observed epoch-20 value among the trials that completed (the best of
 *     that many noisy draws, so it rises with their number even where the configurations do not);
 *   - true final: the noise-free epoch-20 value of that trial.
 * The table gives medians over the seeds with their interquartile range [p25, p75].
 *
 * Targets, per problem, both against figures of this run: sweepd's method spends fewer epochs than
 * Optuna's SuccessiveHalvingPruner (median), and its best final is at least MedianPruner's (median;
 * at most, for the minimised problem). The bench fails when a target is missed or Optuna is missing
 * (found as references.ts finds every reference: Debian's python3-optuna first, installed when missing).
 *
 * The default: 20 seeds (0–19), all four problems, Optuna's Median, SuccessiveHalving and Hyperband
 * (240 Optuna studies in two processes beside sweepd's; sweepd's own no-pruning row is the
 * ceiling). `--full` adds Optuna's no-pruning studies (320 in all). Optuna's TPE is nearly all
 * the time: about 0.9 CPU-seconds a study, some 2 minutes on two idle cores. On this development
 * machine, with a load average near 20 on its two cores, the default took 365 s (sweepd's side 44 s)
 * and --full 669 s; with the cores nearly idle, 16–60 s (sweepd's side 2–5 s). Optuna's
 * Hyperband places trials in brackets by hashing its random study name, so its row moves a little
 * from run to run. Optuna's other rows repeat on one machine but not across machines: its TPE's
 * trajectories follow numpy's CPU dispatch (SuccessiveHalving's lr_auc epochs 234.5 on this
 * machine with AVX-512, 218 with NPY_DISABLE_CPU_FEATURES turning it off; 211 and 223 on earlier
 * machines; same Optuna 3.1.0, numpy 1.24.2), a spread the size of the seed noise of a 20-seed
 * median (about ±12 epochs on lr_auc). sweepd's rows repeat exactly.
 *
 * Last reported run (seeds 0–19, METHOD below; sweepd 5 s, Optuna 3.1.0 29 s, thirtieth session):
 * fewer epochs than SuccessiveHalving on every problem (lr_auc 207 < 227, power_law 200 < 212,
 * late_bloom 184 < 210, noisy_loss 213 < 233); best final at least Median's on lr_auc only (0.9395 ≥
 * 0.9374; power_law 0.9353 < 0.9379, late_bloom 0.9142 < 0.9209, noisy_loss 0.2446 > 0.2378): 5 of
 * the 8 checks pass, and the bench fails. METHOD without initial_noise (that of the six sessions
 * before) passed the same 5 against the same Optuna figures, at 219, 207, 192, 232 epochs and best
 * finals 0.9408, 0.9354, 0.9143, 0.2458; in the twenty-eighth session, against Optuna's figures of
 * another machine, 4. sweepd completes 5 trials a study, Median 19–24: its best final is the best
 * of about four times as many noisy last epochs. Without initial_noise, on 200 seeds (3000–3199, Optuna
 * in the same session) METHOD passes 3: 215 / 0.9386, 206 / 0.9358, 197 / 0.9098, 236 / 0.2447
 * against SuccessiveHalving's 221, 222, 221, 233 epochs and Median's 0.9391, 0.9364, 0.9192, 0.2407;
 * its true finals beat Median's on lr_auc and power_law (0.9362 / 0.9333, 0.9327 / 0.9322) and
 * trail on late_bloom and noisy_loss (0.9041 / 0.9113, 0.2550 / 0.2537). The two runs before it
 * gave sweepd the same figures and passed 5 (SuccessiveHalving's lr_auc epochs 223 then, Median's
 * lr_auc best final 0.9384). The method before it (METHOD without the start-up screen and the
 * late optimism, TPE's start-up of 10) passed 4: 207 / 0.9354, 202 / 0.9338, 202 / 0.9088,
 * 214 / 0.2439.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { bestOf, type EpochRecord, type Params, registry, Rng, type TrialView } from '@sweepd/core';
import { createStoppingRule, createStrategy } from '@sweepd/search';
import { decideAll, type NamedStoppingRule, tagsForTrialAll } from '../../packages/search/src/stopping/index.ts';
import { type CurveProblem, observe, PROBES, PROBLEMS, problemNamed, SPACE } from './pruning-problems.ts';
import { REFERENCE_DIR, referencePython } from './references.ts';

const N_TRIALS = 50;
const N_EPOCHS = 20;
const METRIC = 'objective';
const REFERENCE = path.join(REFERENCE_DIR, 'pruning_optuna.py');
/** The rules with an `initial_value` option. */
const TAKES_INITIAL_VALUE = new Set(['learning-curve', 'curve-halving']);

interface RuleRef {
  name: string;
  options?: Record<string, unknown>;
}

export interface Method {
  label: string;
  strategy: { name: string; options?: Record<string, unknown> };
  /** The rules; `initial_value` is filled in per problem where a rule takes it and `initialValue` is set. */
  rules: RuleRef[];
  /** Give each rule that accepts it the problem's value before training as `initial_value`. */
  initialValue?: boolean;
}

/**
 * sweepd's method, named before anything runs. Two rules, asked in this order:
 *   - startup-screen: the first 6 trials (TPE's random start-up, shortened from 10 to 6) stop at
 *     epoch 2, and at every later epoch, unless they lead every other trial that has got there
 *     (and one has: the first to reach an epoch stops); so random configurations do not spend 20
 *     epochs each, nor set the bar just by finishing first.
 *   - learning-curve, with the extrapolation's shapes widened by a power law (α 1: curves still
 *     rising as a power of time, power_law's) and narrowed to time constants of at most 3 epochs
 *     (no straight-line optimism for a slow climb), compared with the other trials' values at
 *     epoch 20 rather than their noise peaks (reference final), with 2 noise sd of optimism for a
 *     trial level with the best trial at its epoch and 0.25 for one behind it — 1 from trial 25 on
 *     (late), so that more of the late, near-leading trials finish and add their last epochs to
 *     the draw the best final is — anchored at the problem's value before training; while no peer
 *     has the 5 epochs the noise is measured from (right after the screen), the noise sd is read
 *     from the peers' values below that value (initial_noise), so the first trial after the
 *     screen is judged too instead of running 20 epochs however poor it is.
 * The strategy: tpe-local, TPE whose suggestions after its start-up are, three in ten, a step (sd
 * 0.08 of each range) from the best completed trial, so that the best region is measured more than once.
 *
 * Chosen on seeds 1000–1079 of all four problems (the reported seeds are 0–19), medians
 * (epochs / best final) against Optuna on the same seeds — Median, SuccessiveHalving:
 *                                  lr_auc         power_law      late_bloom     noisy_loss
 *   Optuna Median                  492 / 0.9381   521 / 0.9369   469 / 0.9226   491 / 0.2450
 *   Optuna SuccessiveHalving       228 / 0.9337   232 / 0.9306   216 / 0.9080   234 / 0.2562
 *   this method                    215 / 0.9390   198 / 0.9361   183 / 0.9068   223 / 0.2435
 *   the previous method            208 / 0.9388   196 / 0.9348   189 / 0.9083   206 / 0.2470
 * It passes 6 of the 8 checks there, the previous method 5: both miss power_law's and late_bloom's
 * best final. Found on seeds 1000–1039 (Optuna there: Median's best final 0.9381, 0.9390, 0.9219,
 * 0.2435, SuccessiveHalving's epochs 219, 224, 208, 226), where it and the previous method both
 * pass 5 (209 / 0.9384, 199 / 0.9363, 174 / 0.9109, 218 / 0.2443 against 212 / 0.9389,
 * 192 / 0.9355, 190 / 0.9080, 206 / 0.2494), then checked on 1040–1079 before it was chosen (6
 * against 5: 220 / 0.9410, 197 / 0.9338, 189 / 0.9035, 228 / 0.2431 against 195 / 0.9376,
 * 202 / 0.9337, 180 / 0.9087, 204 / 0.2446; Median 0.9383, 0.9363, 0.9228, 0.2453; SuccessiveHalving
 * 257, 263.5, 228.5, 252). The margins are small (noisy_loss's best final 0.13 noise sd, its epochs
 * 1 in the reported run). What lost is listed at the end of this file.
 */
export const METHOD: Method = {
  label: 'sweepd learning-curve',
  strategy: { name: 'tpe-local', options: { local_fraction: 0.3, local_scale: 0.08, n_startup_trials: 6 } },
  rules: [
    { name: 'startup-screen', options: { trials: 6, epochs: 2 } },
    {
      name: 'learning-curve',
      options: {
        min_epochs: 1,
        confidence: 2,
        behind_confidence: 0.25,
        leaders: 1,
        power_exponents: [1],
        max_time_constant: 3,
        reference: 'final',
        late: { from_trial: 25, behind_confidence: 1 },
        initial_noise: { min_samples: 2 },
      },
    },
  ],
  initialValue: true,
};

/** No pruning with sweepd's strategy: the ceiling of what stopping can keep. */
const NO_PRUNING: Method = { label: 'sweepd no pruning', strategy: { name: 'tpe' }, rules: [] };

export interface RunResult {
  epochs: number;
  bestFinal: number;
  bestTrue: number;
  nStopped: number;
}

/** One seed of one method on one problem. */
export async function runStudy(problem: CurveProblem, method: Method, seed: number): Promise<RunResult> {
  const { direction } = problem;
  const stoppingCtx = { direction, metric: METRIC, maxEpochs: N_EPOCHS };
  const rules: NamedStoppingRule[] = [];
  for (const ref of method.rules) {
    const options =
      method.initialValue && TAKES_INITIAL_VALUE.has(ref.name) ? { ...ref.options, initial_value: problem.initialValue } : ref.options;
    rules.push({ name: ref.name, rule: await createStoppingRule({ name: ref.name, ...(options ? { options } : {}) }, stoppingCtx) });
  }
  const strategy = await createStrategy(
    { name: method.strategy.name, options: { seed, ...method.strategy.options } },
    { space: SPACE, direction, metric: METRIC, maxTrials: N_TRIALS, maxEpochs: N_EPOCHS },
  );
  const sign = direction === 'maximize' ? 1 : -1;
  const history: TrialView[] = [];
  let epochsSpent = 0;
  let best: { final: number; true: number } | undefined;
  let nStopped = 0;
  for (let number = 0; number < N_TRIALS; number++) {
    const asked = await strategy.ask(history, 1);
    if (asked === 'done' || asked.length === 0) throw new Error(`strategy ${method.strategy.name} gave no trial after ${history.length}`);
    const first = asked[0] as { params: Params; tags?: Readonly<Record<string, string | number | boolean>> } | Params;
    const suggestion =
      'params' in first && typeof first.params === 'object'
        ? (first as { params: Params; tags?: Record<string, string | number | boolean> })
        : { params: first as Params };
    const params = suggestion.params;
    const tags = { ...suggestion.tags, ...tagsForTrialAll(rules, number) };
    const epochs: EpochRecord[] = [];
    const id = `s${seed}-t${number}`;
    const view = (state: TrialView['state']): TrialView => {
      const value = bestOf(epochs, METRIC, direction);
      return { id, number, params, state, epochs: [...epochs], tags, ...(value !== undefined ? { value } : {}) };
    };
    const rng = new Rng(`pruning:${problem.name}:${seed}:${number}`);
    let stopped = false;
    for (let epoch = 1; epoch <= N_EPOCHS; epoch++) {
      epochs.push({ epoch, metrics: { [METRIC]: observe(problem, params, epoch, rng) }, layers: [] });
      epochsSpent++;
      if (epoch < N_EPOCHS && decideAll(rules, view('running'), history).stop) {
        stopped = true;
        break;
      }
    }
    history.push(view(stopped ? 'stopped' : 'completed'));
    if (stopped) {
      nStopped++;
      continue;
    }
    const last = epochs[epochs.length - 1]?.metrics[METRIC] as number;
    if (best === undefined || sign * last > sign * best.final) best = { final: last, true: problem.at(params, N_EPOCHS) };
  }
  if (!best) throw new Error(`${method.label} on ${problem.name}, seed ${seed}: no trial completed`);
  return { epochs: epochsSpent, bestFinal: best.final, bestTrue: best.true, nStopped };
}

export interface Spread {
  p25: number;
  median: number;
  p75: number;
}

/** Percentiles by linear interpolation (numpy's default), so both sides summarise alike. */
export function spread(values: readonly number[]): Spread {
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number): number => {
    const x = q * (s.length - 1);
    const lo = Math.floor(x);
    const hi = Math.min(lo + 1, s.length - 1);
    return (s[lo] as number) + ((s[hi] as number) - (s[lo] as number)) * (x - lo);
  };
  return { p25: at(0.25), median: at(0.5), p75: at(0.75) };
}

export interface Row {
  label: string;
  epochs: Spread;
  bestFinal: Spread;
  bestTrue: Spread;
  /** Trials that ran all their epochs: the best final is the best of their noisy last epochs, so more of them lift it by luck. */
  completed: Spread;
}

function rowOf(label: string, runs: ReadonlyArray<{ epochs: number; bestFinal: number; bestTrue: number; nStopped: number }>): Row {
  return {
    label,
    epochs: spread(runs.map((r) => r.epochs)),
    completed: spread(runs.map((r) => N_TRIALS - r.nStopped)),
    bestFinal: spread(runs.map((r) => r.bestFinal)),
    bestTrue: spread(runs.map((r) => r.bestTrue)),
  };
}

export async function sweepdRows(problem: CurveProblem, methods: readonly Method[], seeds: readonly number[]): Promise<Row[]> {
  const rows: Row[] = [];
  for (const method of methods) {
    const runs: RunResult[] = [];
    for (const seed of seeds) runs.push(await runStudy(problem, method, seed));
    rows.push(rowOf(method.label, runs));
  }
  return rows;
}

interface OptunaRun {
  problem: string;
  pruner: string;
  seed: number;
  epochs: number;
  best_obs_final: number;
  best_true_final: number;
  n_pruned: number;
}

interface OptunaOutput {
  optuna: string;
  wall_s: number;
  probes: Record<string, number[]>;
  runs: OptunaRun[];
}

const OPTUNA_PRUNERS = {
  median: 'Optuna Median',
  sha: 'Optuna SuccessiveHalving',
  hyperband: 'Optuna Hyperband',
  nop: 'Optuna no pruning',
} as const;
type Pruner = keyof typeof OPTUNA_PRUNERS;

/** Runs the Optuna reference in this run, beside sweepd's studies; throws when Optuna is missing. */
async function runOptuna(problems: readonly string[], pruners: readonly Pruner[], seeds: number, firstSeed: number): Promise<OptunaOutput> {
  const run = promisify(execFile);
  // Throws, naming the packages, when no interpreter imports them (after trying to install them).
  const python = referencePython(['optuna', 'numpy']);
  const args = [
    REFERENCE,
    '--seeds',
    String(seeds),
    '--first-seed',
    String(firstSeed),
    '--problems',
    problems.join(','),
    '--pruners',
    pruners.join(','),
  ];
  const { stdout } = await run(python, args, { timeout: 30 * 60_000, maxBuffer: 1 << 26 });
  return JSON.parse(stdout) as OptunaOutput;
}

/** The TS and Python definitions of a problem must agree, or the comparison means nothing. */
function checkProbes(problem: CurveProblem, probes: readonly number[] | undefined): void {
  if (!probes || probes.length !== PROBES.length) throw new Error(`the Optuna reference gave no probe values for ${problem.name}`);
  for (const [i, probe] of PROBES.entries()) {
    const ours = problem.at(probe.params, probe.epoch);
    if (!(Math.abs(ours - (probes[i] as number)) < 1e-12)) {
      throw new Error(`${problem.name} differs from the Optuna reference at ${JSON.stringify(probe)}: ${ours} here, ${probes[i]} there`);
    }
  }
}

const f0 = (s: Spread) => `${s.median.toFixed(0)} [${s.p25.toFixed(0)}–${s.p75.toFixed(0)}]`;
const f4 = (s: Spread) => `${s.median.toFixed(4)} [${s.p25.toFixed(4)}–${s.p75.toFixed(4)}]`;

export function printTable(problem: CurveProblem, rows: readonly Row[]): void {
  const header = ['method', 'epochs median [IQR]', 'completed median [IQR]', `best final median [IQR]`, 'true final median [IQR]'];
  const lines = rows.map((r) => [r.label, f0(r.epochs), f0(r.completed), f4(r.bestFinal), f4(r.bestTrue)]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] as string).length)));
  console.log(`\n${problem.name} (${problem.direction}) — ${problem.about}`);
  for (const line of [header, ...lines]) console.log(line.map((c, i) => c.padEnd(widths[i] as number)).join('  '));
}

export interface ProblemVerdict {
  problem: string;
  pass: boolean;
  lines: string[];
}

function verdict(problem: CurveProblem, rows: readonly Row[]): ProblemVerdict {
  const find = (label: string): Row => {
    const row = rows.find((r) => r.label === label);
    if (!row) throw new Error(`no '${label}' row for ${problem.name}: a reference is missing`);
    return row;
  };
  const ours = find(METHOD.label);
  const sha = find(OPTUNA_PRUNERS.sha);
  const med = find(OPTUNA_PRUNERS.median);
  const sign = problem.direction === 'maximize' ? 1 : -1;
  const fewer = ours.epochs.median < sha.epochs.median;
  const asGood = sign * ours.bestFinal.median >= sign * med.bestFinal.median;
  const cmp = problem.direction === 'maximize' ? '≥' : '≤';
  return {
    problem: problem.name,
    pass: fewer && asGood,
    lines: [
      `${fewer ? 'PASS' : 'FAIL'} ${problem.name}: epochs ${ours.epochs.median.toFixed(0)} ${fewer ? '<' : 'is not <'} SuccessiveHalving's ${sha.epochs.median.toFixed(0)}`,
      `${asGood ? 'PASS' : 'FAIL'} ${problem.name}: best final ${ours.bestFinal.median.toFixed(4)} ${asGood ? cmp : `is not ${cmp}`} Median's ${med.bestFinal.median.toFixed(4)}`,
    ],
  };
}

export async function runPruningBench(
  options: { seeds?: number; firstSeed?: number; problems?: readonly string[]; full?: boolean } = {},
): Promise<{ pass: true; verdicts: ProblemVerdict[] }> {
  await import('@sweepd/search'); // registers the built-in strategies and rules
  if (!registry.names('strategy').includes(METHOD.strategy.name)) throw new Error(`strategy '${METHOD.strategy.name}' is not registered`);
  const seeds = options.seeds ?? 20;
  const firstSeed = options.firstSeed ?? 0;
  const problems = (options.problems ?? PROBLEMS.map((p) => p.name)).map(problemNamed);
  // Optuna's own no-pruning studies are the slowest part and no target reads them: only with `full`.
  const pruners: Pruner[] = options.full ? ['median', 'sha', 'hyperband', 'nop'] : ['median', 'sha', 'hyperband'];
  const seedList = Array.from({ length: seeds }, (_, i) => firstSeed + i);
  console.log(
    `pruning benchmark: ${N_TRIALS} trials × ${N_EPOCHS} epochs, seeds ${firstSeed}–${firstSeed + seeds - 1}; ` +
      `sweepd's method (named before the run): ${JSON.stringify({ strategy: METHOD.strategy, rules: METHOD.rules, initial_value: METHOD.initialValue ? "the problem's value before training" : undefined })}`,
  );
  const started = Date.now();
  // Optuna runs in its own two processes while sweepd's studies run here.
  const optuna = runOptuna(
    problems.map((p) => p.name),
    pruners,
    seeds,
    firstSeed,
  );
  optuna.catch(() => {}); // awaited below; this keeps an early failure from being reported as unhandled
  const ours = new Map<string, Row[]>();
  for (const problem of problems) ours.set(problem.name, await sweepdRows(problem, [METHOD, NO_PRUNING], seedList));
  const sweepdSeconds = (Date.now() - started) / 1000;
  const reference = await optuna;
  console.log(
    `sweepd: ${sweepdSeconds.toFixed(0)} s; Optuna ${reference.optuna} (TPESampler, pruners with their defaults), this run: ${reference.wall_s.toFixed(0)} s`,
  );

  const verdicts: ProblemVerdict[] = [];
  for (const problem of problems) {
    checkProbes(problem, reference.probes[problem.name]);
    const rows = [...(ours.get(problem.name) ?? [])];
    for (const pruner of pruners) {
      const label = OPTUNA_PRUNERS[pruner];
      const runs = reference.runs.filter((r) => r.problem === problem.name && r.pruner === pruner);
      if (runs.length !== seeds) throw new Error(`Optuna ${pruner} on ${problem.name}: ${runs.length} runs, expected ${seeds}`);
      rows.push(
        rowOf(
          label,
          runs.map((r) => ({ epochs: r.epochs, bestFinal: r.best_obs_final, bestTrue: r.best_true_final, nStopped: r.n_pruned })),
        ),
      );
    }
    printTable(problem, rows);
    verdicts.push(verdict(problem, rows));
  }
  console.log('');
  for (const v of verdicts) for (const line of v.lines) console.log(line);
  const pass = verdicts.every((v) => v.pass);
  console.log(pass ? 'PASS: ahead of both Optuna pruners on every problem' : 'FAIL: some target is missed');
  // Thrown so that `npm run bench` counts the miss (its runner looks at exceptions, not results).
  if (!pass)
    throw new Error(
      `pruning targets missed on ${verdicts
        .filter((v) => !v.pass)
        .map((v) => v.problem)
        .join(', ')}`,
    );
  return { pass: true, verdicts };
}

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const seeds = Number(argValue('--seeds') ?? 20);
  const firstSeed = Number(argValue('--first-seed') ?? 0);
  const problems = argValue('--problems')?.split(',');
  const full = process.argv.includes('--full');
  runPruningBench({ seeds, firstSeed, full, ...(problems ? { problems } : {}) }).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(2);
    },
  );
}

/*
 * Freeze-thaw at its simplest, simulated here before building pause and resume into the engine:
 * a stopped trial is only paused, and once the 50 trials have run, the paused trial with the
 * highest predicted value at epoch 20 (the extrapolation's best fit, anchored at the initial
 * value, time constants up to 3) is resumed to epoch 20, again and again while an epoch budget
 * lasts. Seeds 1000–1079, medians of epochs / best final (true final); METHOD without its late
 * optimism (which the budget replaces) 197 / 0.9382 (0.9362), 177 / 0.9360 (0.9332),
 * 170.5 / 0.9060 (0.9020), 200 / 0.2462 (0.2561); with a budget of 200 epochs 200 / 0.9383
 * (0.9358), 199 / 0.9361 (0.9332), 196 / 0.9069 (0.9024), 200 / 0.2461 (0.2555); of 210
 * 208 / 0.9383, 207 / 0.9361, 206 / 0.9069, 209 / 0.2461; resuming by last value instead
 * 199.5 / 0.9383, 198 / 0.9362, 196.5 / 0.9068, 200 / 0.2461 (5 checks each, METHOD 6). Up to
 * 2.7 more completions a study, and the best final does not move: the trials the rule stopped are
 * rightly written off, and the best ones had already finished. The gap on late_bloom is in what
 * is found (true final 0.902 against Median's 0.912: its adam and slow rmsprop configurations
 * look flat for their first epochs), and on power_law in how many near-best trials finish. A
 * thaw that pays must resume trials judged while their curves said little, so pausing earlier
 * (every trial at epoch 1 or 2) with resumes interleaved with new trials, as freeze-thaw BO does.
 *
 * That was simulated next (seeds 1000–1039; METHOD there 208.5 / 0.9384, 198.5 / 0.9363,
 * 173.5 / 0.9109, 218 / 0.2443, 5 checks): every trial the rules keep is paused at epoch 3, a
 * trial is judged against the best of the completed trials' last epochs and the paused ones'
 * fitted values at epoch 20, and a resumed trial runs on to epoch 20 unless even 2 sd of optimism
 * cannot reach that; the paused trial with the highest fitted value is resumed, within 200 epochs.
 * All resumes deferred to after the 50th trial: 140.5 / 0.9327, 151 / 0.9362, 118 / 0.8929,
 * 184.5 / 0.2522 (3 sd on resume; 2–3 completions and the budget left unspent — the first
 * trial to finish sets a bar the others' bounds fall below, and TPE and its local steps, with no
 * completed trial to read, find worse configurations: true finals 0.931, 0.935, 0.894, 0.255).
 * One resume after every new trial from trial 10: 198 / 0.9360, 196 / 0.9371, 164 / 0.9094,
 * 210.5 / 0.2497 (4 checks); from trial 20, paused at epoch 4: 186 / 0.9382, 170.5 / 0.9359,
 * 163 / 0.9071, 196.5 / 0.2471 (5). Fewer epochs than METHOD, and best finals below it but
 * power_law's from trial 10 (0.9371 against 0.9363, with late_bloom's and noisy_loss's worse):
 * no variant kept.
 */

/*
 * Tried after METHOD was chosen, none adopted (medians of epochs / best final over seeds 1000–1039
 * unless said otherwise, in the order lr_auc, power_law, late_bloom, noisy_loss; Optuna there:
 * Median's best final 0.9381, 0.9390, 0.9219, 0.2435, SuccessiveHalving's epochs 219, 224, 208,
 * 226; METHOD 208.5 / 0.9384, 198.5 / 0.9363, 173.5 / 0.9109, 218 / 0.2443, 5 checks).
 * - Learning-curve-aware TPE: a stopped trial modelled at its predicted value at epoch 20 (its
 *   value at its last epoch plus the median of what its 3 most similar finished trials of the same
 *   optimizer gained from there) instead of the best value it reached: 204.5 / 0.9384,
 *   196 / 0.9373, 181.5 / 0.9056, 221 / 0.2430 (6); over seeds 1000–1079 211.5 / 0.9403,
 *   205 / 0.9376, 182.5 / 0.9055, 223 / 0.2430 — 7 checks against METHOD's 6, power_law's true
 *   final 0.9353 against 0.9332. Run once on the reported seeds 0–19: 223 / 0.9360, 210 / 0.9359,
 *   181 / 0.9106, 225 / 0.2489, 3 checks against METHOD's 5; on seeds 2000–2079 (sweepd only)
 *   205 / 0.9403, 198.5 / 0.9365, 191 / 0.9088, 227 / 0.2442 against METHOD's 201 / 0.9397,
 *   195.5 / 0.9362, 189.5 / 0.9082, 231.5 / 0.2440: a wash, so neither it nor its option was kept.
 *   Its variants: peers of any optimizer 212.5 / 0.9377, 199 / 0.9371, 189 / 0.9102, 222.5 / 0.2449
 *   (4); 5 nearest 201.5 / 0.9377, 195 / 0.9373, 181 / 0.9068, 225.5 / 0.2457 (4); quantile 0.75
 *   207 / 0.9384, 198 / 0.9377, 181.5 / 0.9075, 221 / 0.2446 (5); with late 1.25 sd
 *   211.5 / 0.9391, 212 / 0.9372, 183 / 0.9055, 235.5 / 0.2443 (4); with time constants up to 4
 *   213 / 0.9397, 206.5 / 0.9376, 221 / 0.9115, 247 / 0.2430 (4), up to 4 or 5 for late trials only
 *   211.5 / 0.9391, 204 / 0.9373, 223.5 / 0.9120, 250 / 0.2433 and 210 / 0.9391, 202.5 / 0.9373,
 *   214.5 / 0.9109, 247.5 / 0.2433 (4 each).
 * - TPE modelling every trial at its value at one epoch (its last where it stopped before): epoch 2
 *   204.5 / 0.9386, 209.5 / 0.9373, 191 / 0.9089, 237 / 0.2435 (5); epoch 3 205 / 0.9374,
 *   202.5 / 0.9386, 199 / 0.9074, 234.5 / 0.2439 (3; power_law's true final 0.9361); epoch 4
 *   211 / 0.9384, 212 / 0.9384, 190 / 0.9077, 236.5 / 0.2414 (5); epoch 3 with late 0.75 sd
 *   195.5 / 0.9371, 195 / 0.9378, 194.5 / 0.9073, 210 / 0.2451 (4).
 * - The bar from unfinished peers too (each at its latest value, so a poor first finisher does not
 *   set a low one): 204 / 0.9384, 195.5 / 0.9366, 172.5 / 0.9106, 217.5 / 0.2458 (5). With it,
 *   every one of the first trials screened at a fixed epoch, leaders too: 12 at epoch 3
 *   203.5 / 0.9407, 206 / 0.9367, 198 / 0.9059, 221 / 0.2478 (5); 15 at 4 221.5 / 0.9375,
 *   228.5 / 0.9362, 220 / 0.9094, 242 / 0.2458 (0); 20 at 3 213 / 0.9388, 201 / 0.9362,
 *   203 / 0.9079, 224 / 0.2408 (6), and with late 1.5 sd from trial 20 217.5 / 0.9382,
 *   232 / 0.9360, 220.5 / 0.9074, 254.5 / 0.2406 (3); 25 at 2 183 / 0.9352, 181.5 / 0.9345,
 *   173 / 0.9064, 203 / 0.2452 (4). Completions fell to 4.3–4.5 a study.
 * - tpe-local's incumbent by the mean of its last 3 epochs (not its noise peak): 205 / 0.9384,
 *   198.5 / 0.9363, 173.5 / 0.9086, 220 / 0.2450 (5); last 5 207 / 0.9384, 201 / 0.9366,
 *   173.5 / 0.9103, 221.5 / 0.2441 (5).
 * - Local steps only from trial 30, with late optimism from there: fraction 0.7, scale 0.04, 1 sd
 *   238 / 0.9413, 234 / 0.9376, 217 / 0.9127, 258 / 0.2399 (2); 1.5 sd 247 / 0.9416,
 *   269.5 / 0.9382 (8.3 completions a study), 237.5 / 0.9129, 303 / 0.2379 (2); fraction 0.5,
 *   scale 0.06, 1 sd 214 / 0.9403, 197 / 0.9352, 190.5 / 0.9095, 231.5 / 0.2424 (5).
 * Where this leaves it. On power_law the method's best trial often has 5 or 6 frozen layers where
 * 3 is best (0.006–0.0135 lower at epoch 20): a difference under the noise of the one or two epochs
 * most trials run, and even 8 completions a study left the best final at 0.9382 < 0.9390. On
 * late_bloom it settles on sgd near 10^-2.5 (0.91 at epoch 20): momentum near 10^-3.1 and rmsprop
 * near 10^-3.5 (0.917–0.925) learn with time constants of 3.4–5 epochs, beyond the 3-epoch bound
 * that keeps the epochs down, and raising the bound costs some 40 epochs for 0.001. About 2 of the
 * 5 completions a study are early leaders far below the final best (on power_law, 0.51–0.86
 * against 0.93), 40 epochs that fund nothing. And the 20-seed medians move by 0.002–0.005 from
 * one set of seeds to another (the learning-curve-aware TPE: 7 checks on 1000–1079, 3 on 0–19),
 * as much as the gaps to Median.
 */

/*
 * What lost against METHOD: learning-curve's peer-based prediction (peer_gains: the trial's value at
 * its epoch e plus a high quantile of what its most similar trials that reached epoch 20 — same
 * optimizer first, then nearest lr and frozen, and curve up to e — gained after e, plus noise sd),
 * medians of epochs / best final over seeds 1000–1079 (Optuna and METHOD there as below; METHOD
 * passes 6). Each is METHOD's learning-curve with peer_gains added, role keep (the trial stops only
 * when neither the extrapolation nor the peers reach the reference) unless it says otherwise.
 * - 5 nearest, quantile 0.9, at least 3 peers, the trial's own optimism in sd: 235 / 0.9382,
 *   213.5 / 0.9379, 193.5 / 0.9113, 257.5 / 0.2432 (5: power_law's best final passes, 0.9379 ≥
 *   0.9369, but lr_auc's and noisy_loss's epochs do not); quantile 0.75 221 / 0.9392,
 *   207 / 0.9365, 189 / 0.9109, 246.5 / 0.2435 (5); 1 sd 235 / 0.9382, 215.5 / 0.9374,
 *   193 / 0.9114, 259.5 / 0.2436 (5); the peers' values averaged over ±1 epoch 237 / 0.9381,
 *   211 / 0.9374, 191.5 / 0.9098, 258 / 0.2426 (4); only peers of the same optimizer
 *   (same_choices) 218.5 / 0.9382, 202.5 / 0.9359, 186 / 0.9092, 228.5 / 0.2435 (6, nothing closer).
 * - With less late optimism to pay for it: late 0.75 sd 227 / 0.9382, 205 / 0.9379, 190 / 0.9112,
 *   247 / 0.2442 (6: power_law passes, noisy_loss's epochs do not); with 8 nearest
 *   227 / 0.9383, 205 / 0.9379, 190 / 0.9112, 248 / 0.2445 (6); 3 nearest 218 / 0.9377,
 *   199.5 / 0.9379, 190.5 / 0.9109, 239 / 0.2442 (5); quantile 0.75 213.5 / 0.9382,
 *   199 / 0.9363, 185.5 / 0.9109, 233.5 / 0.2445 (6); same_choices 211.5 / 0.9378,
 *   195.5 / 0.9368, 181.5 / 0.9069, 222.5 / 0.2451 (4); late 0.5 sd 218.5 / 0.9380,
 *   198 / 0.9365, 184.5 / 0.9099, 238 / 0.2451 (3); no late option
 *   216 / 0.9383, 195.5 / 0.9359, 177.5 / 0.9098, 230 / 0.2459 (5); same_choices without late
 *   203 / 0.9380, 185 / 0.9354, 173 / 0.9065, 205 / 0.2471 (4).
 * - role stop (the peers can also stop a trial the extrapolation keeps; same optimizer, at least 2,
 *   1 sd, from epoch 3): 203 / 0.9369, 188.5 / 0.9356, 167 / 0.9035, 200.5 / 0.2483 (4: epochs
 *   saved, completions lost); quantile 1, 2 sd, with late 1.5 sd to spend the saving:
 *   212.5 / 0.9382, 209.5 / 0.9362, 185 / 0.9080, 220.5 / 0.2447 (6).
 * - On seeds 1000–1039 only (METHOD there 5: 209 / 0.9384, 199 / 0.9363, 174 / 0.9109,
 *   218 / 0.2443): keeping a trial until epoch 5 (4) while no trial of its optimizer within 0.1
 *   (0.15) of it in unit coordinates has got there, 300.5 / 0.9408, 284 / 0.9362, 283.5 / 0.9124,
 *   307.5 / 0.2450 (1) and 254 / 0.9387, 246 / 0.9363, 243 / 0.9112, 263 / 0.2454 (1); counting
 *   peers still running 3 or more epochs past e with their gain so far 213.5 / 0.9387,
 *   201.5 / 0.9371, 173 / 0.9090, 221 / 0.2446 (5).
 * Why it does not reach late_bloom: the rule stops nearly every trial after 1 epoch (on seed 1000
 * an rmsprop at 4.4e-4 heading for 0.923 and an adam at 1.5e-4 heading for 0.882 among them), so
 * no late bloomer ever completes for its look-alikes' gains to vouch for the next one; keeping
 * them long enough to show the bloom (the exploration above) costs 50–100 epochs and moves the
 * best final by at most 0.0015. The peers keep power_law's slow risers (its best final passes
 * with them) at a price in epochs that noisy_loss (noise 0.012: noisy gains) cannot pay. The gap
 * is still the number of completions (4–6 against Median's ~20), as below.
 *
 * What lost against METHOD (medians of epochs / best final over seeds 1000–1079, in the order
 * lr_auc, power_law, late_bloom, noisy_loss; Optuna there: Median's best final 0.9381, 0.9369,
 * 0.9226, 0.2450, SuccessiveHalving's epochs 227.5, 231.5, 216, 234; METHOD 215 / 0.9390,
 * 198 / 0.9361, 183 / 0.9068, 223 / 0.2435, 6 of 8 checks). Each is METHOD with one thing changed.
 * - No late optimism: 197 / 0.9382, 177 / 0.9360, 171 / 0.9060, 200 / 0.2462 (5). late from trial
 *   15 with 1 sd: 220 / 0.9395, 204 / 0.9362, 188 / 0.9072, 229 / 0.2427; with 0.9 sd
 *   214 / 0.9390, 202 / 0.9366, 187 / 0.9072, 222 / 0.2439; from 25 with 0.75 sd 205 / 0.9382,
 *   192 / 0.9362, 177 / 0.9063, 213 / 0.2445 (all 6, none closer on power_law or late_bloom);
 *   1.5 sd 229 / 0.9390, 219 / 0.9362, 198 / 0.9097, 257 / 0.2429 (4: too many epochs).
 * - No start-up screen: 224 / 0.9401, 221 / 0.9369, 197 / 0.9103, 239 / 0.2446 (5: noisy_loss's
 *   epochs); with TPE's start-up of 10 too 218 / 0.9389, 220 / 0.9348, 195 / 0.9107, 241 / 0.2430
 *   (5). Screening 10 start-up trials (start-up 10): 210 / 0.9391, 203 / 0.9367, 187 / 0.9090,
 *   234 / 0.2468 (4). Screening at epoch 3: 211 / 0.9385, 205 / 0.9361, 179 / 0.9087, 230 / 0.2423 (6).
 * Tried on seeds 1000–1039 against the previous method (212 / 0.9389, 192 / 0.9355, 190 / 0.9080,
 * 206 / 0.2494, 5 checks; Optuna as in METHOD's comment), none passing more than 5:
 * - tpe-local's local fraction growing linearly from 0.3 after the start-up to 0.6 at the 50th
 *   trial: 215 / 0.9391, 193 / 0.9344, 178 / 0.9074, 214 / 0.2495; to 0.8: 221 / 0.9391,
 *   200 / 0.9345, 157 / 0.9054, 209 / 0.2494. Local steps from one of the 2 best completed trials:
 *   206 / 0.9381, 188 / 0.9342, 188 / 0.9075, 230 / 0.2469; of the 3 best 204 / 0.9385,
 *   193 / 0.9314, 176 / 0.9078, 220 / 0.2495. More steps near the best do not finish: a copy of
 *   the best trial is behind it at its epoch about half the time and gets 0.25 sd.
 * - A running epoch budget (while the epochs run are at most b per trial started, a trial behind
 *   keeps 2 sd): b 4 213 / 0.9403, 204 / 0.9354, 197 / 0.9083, 210 / 0.2493; b 4.2 215 / 0.9392,
 *   211 / 0.9354, 204 / 0.9080, 214 / 0.2494; 6 sd for every trial under budget 4: 214 / 0.9394,
 *   205 / 0.9345, 207 / 0.9118, 214 / 0.2499. The budget is spent, on trials that stop a few epochs
 *   later; completions stay at 5–6.
 * - tpe-local's local steps (tagged) never judged as behind: 234 / 0.9399, 226 / 0.9347,
 *   195 / 0.9087, 260 / 0.2445 (7 completions, too many epochs); only while within a budget of 4
 *   epochs per trial 210 / 0.9391, 203 / 0.9348, 190 / 0.9086, 211 / 0.2499; with local steps of
 *   sd 0.02, one in 0.15, 222 / 0.9392, 214 / 0.9353, 205 / 0.9119, 232 / 0.2463.
 * - The start-up screen with the previous method (10 trials; epochs 3): 192 / 0.9377,
 *   187 / 0.9340, 163 / 0.9088, 187 / 0.2480 — the epochs saved are not spent on completions.
 * - min_epochs 2: 232 / 0.9389, 217 / 0.9363, 223 / 0.9092, 233 / 0.2499; confidence 3:
 *   215 / 0.9391, 193 / 0.9355, 189 / 0.9083, 209 / 0.2499. The peers' final as the mean of their
 *   last 3 epochs: 208 / 0.9389, 190 / 0.9349, 188 / 0.9073, 209 / 0.2491.
 * - No behind optimism at all from trial 25 on (2 sd for every trial): 257 / 0.9421,
 *   257 / 0.9368, 216 / 0.9083, 302 / 0.2432 — 8 completions and power_law's and late_bloom's best
 *   final still short of Median's.
 * Where it stands: Median's true finals on seeds 1000–1039 (0.9350, 0.9332, 0.9101, 0.2528) are
 * close to the previous method's (0.9367, 0.9324, 0.9068, 0.2536); its best final is ahead by the
 * luck of about 20 completed trials (0.6, 1.2, 1.5 and 0.8 noise sd above its true final, against
 * 0.4, 0.6, 0.15 and 0.35 for its 5–6). At SuccessiveHalving's budget, about 7 completions
 * are affordable if every stopped trial costs 1–2 epochs.
 *
 * What lost while choosing the previous method (METHOD without the start-up screen and the late
 * optimism, TPE's start-up of 10; medians of epochs / best final over seeds 1000–1039, in the same
 * order; Optuna there: Median's best final 0.9381, 0.9390, 0.9219, 0.2435, SuccessiveHalving's
 * epochs 219, 224, 208, 226). Each is that method with one thing changed unless it says otherwise.
 * - No power-law shapes: 189 / 0.9382, 152 / 0.9196, 187 / 0.9066, 185 / 0.2503 (exponentials
 *   fitted to a power law's start flatten too soon and write off power_law's best trials).
 *   Power shapes without the time-constant bound (the earlier rule plus power_exponents [1],
 *   seeds 1000–1019): power_law 256 / 0.9370, but late_bloom 354 and noisy_loss 305 epochs.
 * - A longer time constant: at most 4 epochs 216 / 0.9393, 197 / 0.9355, 220 / 0.9134,
 *   228 / 0.2458; 7 (plain tpe, confidence 1, seeds 1000–1019) late_bloom 234–265 epochs.
 *   Unbounded, a slow climb extrapolated as a line keeps a trial 10 epochs or more.
 * - reference best (the peers' noise peaks): 186 / 0.9389, 189 / 0.9323, 173 / 0.9063, 180 / 0.2560.
 * - More optimism behind the leader: behind_confidence 0.5 222 / 0.9393, 197 / 0.9355,
 *   192 / 0.9073, 211 / 0.2493; 1.0 226 / 0.9395, 230 / 0.9386, 196 / 0.9085, 256 / 0.2429.
 *   leaders 2: 238 / 0.9392, 214 / 0.9341, 204 / 0.9097, 243 / 0.2453.
 * - The 2nd best as reference (top_k 2; plain tpe, seeds 1000–1019): 240–360 epochs everywhere.
 * - Behind only when more than 0.5–2 noise sd behind the leader (plain tpe): noisy_loss 228–263
 *   epochs.
 * - The first 10 trials capped at 3 epochs (no completed start-up trial sets a low bar):
 *   208 / 0.9381, 191 / 0.9347, 180 / 0.9066, 210 / 0.2482.
 * - The strategy: plain tpe 210 / 0.9379, 201 / 0.9337, 196 / 0.9078, 219 / 0.2471; local
 *   fraction 0.2 215 / 0.9382, 195 / 0.9353, 183 / 0.9063, 213 / 0.2459; 0.4 221 / 0.9387,
 *   192 / 0.9308, 180 / 0.9084, 208 / 0.2503; local scale 0.05 216 / 0.9390, 210 / 0.9364,
 *   186 / 0.9078, 227 / 0.2486; 0.1 213 / 0.9392, 207 / 0.9349, 181 / 0.9066, 203 / 0.2492.
 *   TPE's start-up of 6 trials instead of 10: 212 / 0.9392, 194 / 0.9377, 181 / 0.9086,
 *   222 / 0.2449, but the sum of the four best-final gaps to Median (noise sd) went 4: −3.5,
 *   5: −2.9, 6: −1.8, 7: −2.5, 8: −3.1, 10: −2.8 — taken for noise, not chosen. Stopped trials
 *   ranked below every completed one in TPE's model (Optuna's order): 206 / 0.9372, 177 / 0.9311,
 *   164 / 0.9060, 183 / 0.2515. Stopped trials given to TPE at their curve's fitted value at
 *   epoch 20 (best-fitting shape, time constants up to 3 epochs): 217 / 0.9391, 194 / 0.9355,
 *   183 / 0.9067, 194 / 0.2495; up to 6: 193 / 0.9372, 176 / 0.9289, 163 / 0.9079, 174 / 0.2539.
 *   gp (the earlier rule plus power shapes, seeds 1000–1019): late_bloom 394–413 epochs. TPE
 *   n_ei_candidates 64, gamma 0.05, prior_weight 0.5, univariate, kernel_scoring peak (with a
 *   similar rule, seeds 1000–1019): none better.
 * Where that method stood: at SuccessiveHalving's budget the best final is what it missed. Median
 * keeps about 20 trials to epoch 20 and its best final is the best of that many noisy last epochs
 * (in its reported run its median best final was 0.3–1.2 noise sd above its median true final);
 * that method completed 5–6, two or three of them start-up trials that only set a bar. The earlier
 * rule (confidence 2, behind_confidence 0.5, leaders 3, exponentials only, peaks as reference;
 * plain tpe) and what lost against it: lr_auc seeds 1000–1059 218 / 0.9387; curve-halving
 * (successive halving ranked by optimistic extrapolation) 182 / 0.9335; learning-curve beside
 * asha 189 / 0.9337; one lower confidence for every trial 191 / 0.9362.
 */

/*
 * Tried in the tenth session as throw-away prototypes (not kept in the repository), none adopted:
 * an expected-improvement-per-epoch rule (keep a trial iff the EI of its observed epoch-20 value over
 * the best observed one is at least λ·σ·(epochs left)), with the extrapolation's best fit or a
 * Bayesian mixture over shapes as its predictive distribution; that mixture with a τ prior learned
 * from the study's curves (global, per optimizer, or a kernel over neighbouring configurations),
 * Weibull (S-shaped) shapes, a one-step lookahead, a late λ, a running-budget λ and exploration
 * slots; TPE fed stopped trials' posterior mean / mean − sd / UCB finals; committing near-best
 * trials to epoch 20 while a total epoch budget allows (with or without capping the first trials).
 * Best on seeds 1000–1039: 6 checks (lookahead τ ≤ 3, λ 0.03: 209.5 / 0.9384, 192.5 / 0.9394,
 * 160.5 / 0.9068, 210.5 / 0.2481; per-optimizer τ prior, τ ≤ 6, λ 0.03: 209 / 0.9386,
 * 177 / 0.9365, 197.5 / 0.9135, 219 / 0.2432); on 1000–1079 at most 6, and on 200 seeds (3000–3199)
 * within ±0.001 of METHOD per problem, trading one problem against another. The EI rules can leave a
 * study with no completion (about 1 in 200). An oracle that never stops a late_bloom trial whose true
 * final is ≥ 0.912 passes late_bloom (1000–1079: 207 / 0.9235): the good momentum, rmsprop and adam
 * configurations are proposed in about half the studies but look, after 1–4 epochs, like slow junk.
 */

/*
 * Tried in the eleventh session (throw-away prototypes, not kept; medians of epochs / best final
 * over seeds 1000–1079 in the order lr_auc, power_law, late_bloom, noisy_loss; METHOD there 6
 * checks), none adopted:
 * - A start lag learned per optimizer (a trial's curve extrapolated on a time axis shifted by the
 *   lag its group showed; a flat trial of a group none of whose trials has moved yet kept to epoch
 *   4–6): at best 214.5 / 0.9390, 200.5 / 0.9361, 200 / 0.9080, 227.5 / 0.2441 (6). Lags fitted as
 *   delayed exponentials, per group or pooled, reach late_bloom 0.9120–0.9136 but at 250–258 epochs
 *   there, and read noisy_loss's noise as a delay (+25 epochs): 3–4 checks. The good late_bloom
 *   trials are then stopped at epochs 2–4 instead of 1; completions stay at 5.
 * - Judging a trial that leads every peer of its optimizer with more optimism (1–2 sd): 6 checks
 *   at best (216 / 0.9390, 200 / 0.9362, 187 / 0.9077, 225 / 0.2436). What stops the good
 *   late_bloom trials at epoch 1 is the anchored extrapolation with time constants of at most 3
 *   epochs (a momentum trial at 1e-3 reads 0.579 at epoch 1, is extrapolated to about 0.79 and
 *   ends near 0.924), not the optimism behind the leader: of 96 trials with a true final ≥ 0.915,
 *   80 are stopped after epoch 1.
 * - Copies of the best completed trial run to epoch 20 from trial 25 while the projected epochs stay
 *   under a fraction of 50 × 20: 0.21 221 / 0.9395, 215.5 / 0.9362, 208 / 0.9068, 229 / 0.2429
 *   (6); 0.22: 4 checks. Each copy is one more noisy draw for 20 epochs; Median's luck is ~20 draws.
 * - BOHB-style TPE (tpe-local fitted on the values at the highest epoch at least m trials reached,
 *   the others at their last epoch): m 22–32 pass 7 checks on seeds 1000–1079 (m 25: 214 / 0.9384,
 *   212.5 / 0.9380, 202.5 / 0.9112, 225.5 / 0.2433), but on seeds 2000–2079 (Optuna there in the
 *   same run: Median 0.9387, 0.9366, 0.9210, 0.2427; SuccessiveHalving 210, 233, 216, 223.5) m 25
 *   passes 3 and m 28 4, where METHOD passes 4 (201 / 0.9397, 195.5 / 0.9362, 189.5 / 0.9082,
 *   231.5 / 0.2440). Leaving out the trials short of that epoch, as BOHB does, passes 4–5, and with
 *   m 10 leaves studies with no completed trial. It trades lr_auc for power_law.
 * late_bloom's best final stayed between 0.9056 and 0.9136 against Median's 0.9226 in every variant.
 */

/*
 * Tried in the twelfth session (throw-away prototypes, not kept; medians of epochs / best final in
 * the order lr_auc, power_law, late_bloom, noisy_loss; METHOD passes 6 checks on seeds 1000–1079
 * and 4 on 2000–2079), none adopted:
 * - A Gaussian process across trials over each trial's estimated epoch-20 value (the estimate and
 *   its variance from the trial's partial curve: exponential and power-law shapes anchored at the
 *   initial value, weighted by fit, time constants up to 8; the GP over log-lr, frozen layers and
 *   a correlation between optimizers, each trial observed with its own variance, length scale and
 *   correlation by marginal likelihood), stopping a trial when its posterior mean + κ·sd falls
 *   below the best completed trial's posterior mean, with METHOD's start-up screen and strategy.
 *   κ 1: 188 / 0.9382, 176.5 / 0.9350, 196 / 0.9112, 215 / 0.2456 (5 on 1000–1079) and
 *   190.5 / 0.9400, 173 / 0.9328, 189 / 0.9134, 216.5 / 0.2434 (5 on 2000–2079); κ 1.25 6 and 4;
 *   κ 2 reaches late_bloom 0.9187 (true final 0.9156, above Median's) but at 248 epochs, and
 *   noisy_loss runs out of epochs first. It moves late_bloom's true final past METHOD's
 *   (0.906–0.916 against 0.902) and loses power_law's (averaging over shapes underestimates its tail).
 * - Expected improvement at epoch 20 on that GP as the strategy, with METHOD's rules: 186 / 0.9402,
 *   183.5 / 0.9365, 134 / 0.9005, 164 / 0.2509 (5 on 1000–1079); fewer completions (3.5–4.6).
 * At SuccessiveHalving's budget late_bloom's best final stayed 0.007–0.01 short of Median's.
 */

/*
 * Tried in the seventeenth session (throw-away prototypes, not kept; epochs / best final in the
 * order lr_auc, power_law, late_bloom, noisy_loss; Optuna's Median and SuccessiveHalving cached per
 * seed set for the search; METHOD there: 1000–1079 6 checks, 2000–2079 4, 3000–3079 3), none adopted:
 * - Keeping a trial in the top 20 % of its peers at the same epoch (epochs 1–3) whatever the
 *   extrapolation says: 6 and 5 checks (1000 / 2000); late_bloom at best 0.9101.
 * - Stopping a trial behind more than half its peers at the same epoch (epochs 1–3), else METHOD:
 *   195.5 / 0.9384, 197.5 / 0.9360, 177 / 0.9063, 213 / 0.2442 (6) and 4 on 2000–2079.
 * - Near-copies of the best completed trial (same optimizer, close rate and frozen layers) whose
 *   curve is level with it kept within a budget: 7 on 1000–1079, 3 on 2000–2079.
 * - That peer-rank stop, tpe-local at local fraction 0.7 / scale 0.04 from trial 35, and the late
 *   optimism from trial 35 only while the study can afford the completion (epochs spent + epochs
 *   the trial still needs + 1.5 per trial to come ≤ 210): 7 / 6 / 5 checks on 1000 / 2000 / 3000
 *   (METHOD 6 / 4 / 3), but 5 on the 240 seeds pooled, as METHOD, and 5 on seeds 0–19 (220.5 /
 *   0.9374, 213.5 / 0.9389, 204.5 / 0.9130, 224.5 / 0.2479): it trades lr_auc's best final
 *   (its slow starters stopped by the rank) for power_law's, and gains by completing near-copies,
 *   not better configurations (power_law's true final 0.9327–0.9343 against METHOD's 0.9332–0.9337).
 * late_bloom's best final stayed at or below 0.9105 against Median's 0.920–0.923: a good adam trial
 * reads about 0.504 after epoch 1, as junk does, and 80 of the 96 such trials are stopped there.
 */

/*
 * Tried in the twenty-seventh session (throw-away prototypes, not kept), chosen on seeds 3000–3199
 * (200 seeds; Optuna's Median and SuccessiveHalving run once for them) and checked on 1000–1039;
 * epochs / best final in the order lr_auc, power_law, late_bloom, noisy_loss; METHOD passes 3 and
 * 6 checks there. None passed more on both sets, and none moved late_bloom's best final (about
 * 1.1 noise sd short of Median's on 200 seeds) or power_law's by more than 0.001:
 * - TPE's options under METHOD's rules (gamma 0.15 and 0.2, prior weight 0.5 and 2, rank
 *   weighting, peak scoring, 12 or 48 candidates, local fraction 0.2 and 0.4, local scale 0.05 and
 *   0.12, start-up 8, univariate): 1–4 checks, each trading epochs for best final along the same
 *   line; univariate TPE completes more trials (lr_auc 231 epochs, noisy_loss 255) with no better
 *   true finals (0.9355, 0.9327, 0.9037, 0.2545 against METHOD's 0.9362, 0.9327, 0.9041, 0.2550).
 *   Without pruning, plain TPE on seeds 1000–1039 read each trial's best epoch, its last, or the
 *   mean of its last 3 with no consistent difference.
 * - Committing trials to epoch 20 (never stopped past epoch 6 or 8; a trial leading every peer at
 *   its epoch kept, from trial 12 or 25): 2–4 on 3000, 4–6 on 1000.
 * - The bar from the peers' mean of their last 5 epochs, or their fitted epoch-20 value: 3 on
 *   3000, 4–5 on 1000; the fitted bar raised true finals by 0.0006–0.0011, not the best finals.
 * - A longer start-up screen (8–14 trials), with or without stopping nothing before a first
 *   completion from trial 20: up to 5 on 3000 but 3–6 on 1000, and studies with no completed trial.
 * - The trial's own noise measured while no peer can: 4 and 5. The first TPE trial (trial 6)
 *   completes in about 90 % of studies at a poor true final, since the rule cannot judge it before
 *   a peer has 5 epochs to measure the noise; given the true noise, the rule saves 10–28 epochs a
 *   problem at the same best finals (a diagnostic only: the noise is not known to a real study).
 * - The noise meter fitting power shapes too (power_law's noise read as 0.006 instead of 0.005):
 *   3 and 6, power_law 195 epochs but 0.9353.
 * - confidence 1.5 with the screen at epoch 1: 4 and 6 (209 / 0.9386, 204 / 0.9359, 193 / 0.9098,
 *   230 / 0.2444 on 3000): 2–10 fewer epochs on four seed sets, best finals within ±0.0004 but for
 *   power_law −0.0010 on 4000–4199; its one extra check (noisy_loss's epochs, 230 against 233) is
 *   inside the noise, so it was not taken.
 */

/*
 * Measured in the twenty-eighth session (throw-away prototypes, not kept; epochs / best final over
 * seeds 3000–3199 in the order lr_auc, power_law, late_bloom, noisy_loss; METHOD there 215 / 0.9386,
 * 206 / 0.9358, 196.5 / 0.9098, 236 / 0.2447):
 * - Without pruning, sweepd's TPE is no worse a search than Optuna's (seeds 3000–3099, mean true
 *   final of the best observed trial: 0.9370 / 0.9346, 0.9299 / 0.9242, 0.9237 / 0.9222,
 *   0.2561 / 0.2562), so the gap to Median is in what stopping costs, not in the sampler.
 * - A patient bracket, as Hyperband keeps (every k-th trial after the start-up judged only from
 *   epoch P): k 6, P 4: 227 / 0.9385, 218.5 / 0.9366, 213 / 0.9104, 252 / 0.2440; k 8, P 5:
 *   231 / 0.9389, 222.5 / 0.9360, 211 / 0.9094, 255.5 / 0.2451; k 4, P 5 and k 10, P 6 alike.
 *   15–30 epochs more for no gain on late_bloom: a good adam trial there reads about 0.62 at epoch
 *   5, where the fast trials read 0.8 and more, and is stopped then instead of at epoch 1.
 */

/*
 * Tried in the thirtieth session (throw-away prototypes, not kept unless said; epochs / best final
 * in the order lr_auc, power_law, late_bloom, noisy_loss; checks on seeds 1000–1079 / 2000–2079 /
 * 3000–3199, where METHOD without initial_noise passed 6 / 4 / 3), each variant also compared with
 * that method seed by seed (paired differences, best final in noise sd σ):
 * - initial_noise alone, min_samples 2 (kept): 7 / 4 / 4; on 3000–3199 203 / 0.9389, 197 / 0.9353,
 *   184 / 0.9088, 227 / 0.2440, paired −11.6 ± 1.9, −8.3 ± 1.6, −10.1 ± 2.6, −9.0 ± 2.0 epochs at
 *   +0.05, +0.06, +0.06, +0.04σ of best final: the same finals for about 10 epochs fewer. It reads
 *   the noise 1.06–1.48 times too high at trial 6 (some curves here end below their start), which
 *   errs towards stopping less; in 30–45 % of studies too few values lie below the start, and the
 *   rule waits as before. min_samples 4 saves about 5 epochs a problem.
 * - initial_noise (min_samples 4) with peer_gains (3 same-optimizer neighbours, quantile 0.9, one
 *   peer enough): 7 / 5 / 4, paired +0.16 to +0.31σ best final for +2 to +5 epochs; on seeds 0–19
 *   216.5 / 0.9395, 217.5 / 0.9350, 188.5 / 0.9142, 240.5 / 0.2441, 3 checks (power_law's and
 *   noisy_loss's epochs missed).
 * - Budget pacing (behind optimism high while the trial's completion fits a budget of 195–215
 *   epochs at 2–2.5 epochs per trial to come, low otherwise, instead of late): 4–5 on 1000–1079;
 *   noisy_loss's best final fell to 0.2461–0.249.
 * - Thompson-style continuation (each trial's behind optimism the probit of one uniform draw):
 *   4 on 1000–1079, 7–16 epochs saved for 0.11–0.38σ of best final lost; shifted by +0.25 sd 5;
 *   only before trial 25 6, its power_law pass a paired 0.00 ± 0.19σ.
 * - A patience lottery (1 trial in 6 not judged before epoch 5, then with time constants up to 8):
 *   late_bloom's best final +0.75 ± 0.21σ for 19–28 more epochs on every problem (3 checks); it
 *   needs about +2σ to pass.
 * late_bloom's best final stayed 0.9088–0.9110 on 1000–1079 in every variant, against Median's 0.9226.
 */
