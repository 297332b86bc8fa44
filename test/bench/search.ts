/**
 * Search-strategy benchmark against Optuna on the problems of references/problems.py (branin,
 * hartmann6, lr_auc — the same definitions, the same seeds, the same noise draws for lr_auc), with
 * Optuna run in this run by references/optuna_search.py.
 *
 * Seeds: 0–99 for random and TPE on both sides; the GP (about 0.1 s a suggestion on hartmann6) runs
 * seeds 0–19 and is compared with Optuna's TPE on those same 20. Twenty seeds cannot tell TPE from
 * Optuna's TPE: Optuna's own median lr_auc regret at 50 trials is 8.5e-3 on seeds 0–19 and
 * 9.8e-3, 9.7e-3, 12.7e-3, 12.0e-3 on the next four twenties (measured 2026-11-30).
 *
 *   node --import tsx test/bench/search.ts [--quick] [--cached] [--no-latency] [--only=tpe,gp]
 *
 * --quick: 5 seeds of ours (against Optuna's full set), fewer latency samples. --cached: take Optuna's regret figures from
 * test/bench/.cache/ when an earlier run left them (the report then says so, with their date);
 * by default Optuna runs now. --no-latency: skip suggestion times. --only=tpe,gp: just those.
 * Suggestion time is wall time on both sides, on the same history, at 100, 1,000 and 10,000 trials.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Direction, type Params, Rng, type SearchStrategy, type Space, type TrialView, sampleSpace } from '@sweepd/core';
import { createStrategy } from '@sweepd/search';
import { referenceVersions, runReference } from './references.ts';
import { type Target, checkTargets } from './targets.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CACHE = path.join(HERE, '.cache');
const OPTUNA = ['optuna', 'numpy'] as const;

// ---------------------------------------------------------------- the problems, as references/problems.py defines them
const OPTS = ['sgd', 'momentum', 'rmsprop', 'adam'] as const;
const LR_CENTER: Record<string, number> = { sgd: -2.0, momentum: -2.5, rmsprop: -3.0, adam: -4.0 };
const LR_PEAK: Record<string, number> = { sgd: 0.935, momentum: 0.94, rmsprop: 0.945, adam: 0.95 };
const LR_WIDTH = 0.8;
const FROZEN_BEST = 6;
const FROZEN_PEN = 0.002;
export const LR_FMAX = 0.95;
export const BRANIN_MIN = 0.397887;
export const H6_MIN = -3.32237;

export function lrAucTrue(lr: number, opt: string, frozen: number): number {
  const z = (Math.log10(lr) - (LR_CENTER[opt] as number)) / LR_WIDTH;
  return 0.5 + ((LR_PEAK[opt] as number) - 0.5) * Math.exp(-0.5 * z * z) - FROZEN_PEN * (frozen - FROZEN_BEST) ** 2;
}

export function branin(x1: number, x2: number): number {
  const [a, b, c, r, s, t] = [1.0, 5.1 / (4 * Math.PI ** 2), 5 / Math.PI, 6.0, 10.0, 1 / (8 * Math.PI)];
  return a * (x2 - b * x1 ** 2 + c * x1 - r) ** 2 + s * (1 - t) * Math.cos(x1) + s;
}

const H6_A = [
  [10, 3, 17, 3.5, 1.7, 8],
  [0.05, 10, 17, 0.1, 8, 14],
  [3, 3.5, 1.7, 10, 17, 8],
  [17, 8, 0.05, 10, 0.1, 14],
];
const H6_P = [
  [1312, 1696, 5569, 124, 8283, 5886],
  [2329, 4135, 8307, 3736, 1004, 9991],
  [2348, 1451, 3522, 2883, 3047, 6650],
  [4047, 8828, 8732, 5743, 1091, 381],
].map((row) => row.map((v) => 1e-4 * v));
const H6_ALPHA = [1.0, 1.2, 3.0, 3.2];

export function hartmann6(x: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < 4; i++) {
    let inner = 0;
    for (let j = 0; j < 6; j++) inner += (H6_A[i]?.[j] as number) * ((x[j] as number) - (H6_P[i]?.[j] as number)) ** 2;
    sum += (H6_ALPHA[i] as number) * Math.exp(-inner);
  }
  return -sum;
}

interface Problem {
  name: 'branin' | 'hartmann6' | 'lr_auc';
  space: Space;
  direction: Direction;
  budget: number;
  checkpoints: number[];
  /** Observed value and true (noise-free) value of trial `i` of seed `seed`. */
  evaluate(params: Params, seed: number, i: number): { observed: number; truth: number };
  /** Regret of the incumbent (best observed trial), from its true value. */
  regret(truth: number): number;
}

function lrAucSpace(): Space {
  return {
    lr: { type: 'float', low: 1e-8, high: 1e-1, log: true },
    optimizer: { type: 'categorical', choices: [...OPTS] },
    frozen: { type: 'int', low: 0, high: 10, step: 1, log: false },
  };
}

function problems(noise: number[][]): Problem[] {
  return [
    {
      name: 'branin',
      space: { x1: { type: 'float', low: -5, high: 10, log: false }, x2: { type: 'float', low: 0, high: 15, log: false } },
      direction: 'minimize',
      budget: 50,
      checkpoints: [10, 25, 50],
      evaluate: (p) => {
        const v = branin(p.x1 as number, p.x2 as number);
        return { observed: v, truth: v };
      },
      regret: (truth) => truth - BRANIN_MIN,
    },
    {
      name: 'hartmann6',
      space: Object.fromEntries(Array.from({ length: 6 }, (_, j) => [`x${j}`, { type: 'float', low: 0, high: 1, log: false }])) as Space,
      direction: 'minimize',
      budget: 100,
      checkpoints: [10, 25, 50, 100],
      evaluate: (p) => {
        const v = hartmann6(Array.from({ length: 6 }, (_, j) => p[`x${j}`] as number));
        return { observed: v, truth: v };
      },
      regret: (truth) => truth - H6_MIN,
    },
    {
      name: 'lr_auc',
      space: lrAucSpace(),
      direction: 'maximize',
      budget: 50,
      checkpoints: [10, 25, 50],
      evaluate: (p, seed, i) => {
        const truth = lrAucTrue(p.lr as number, p.optimizer as string, p.frozen as number);
        return { observed: truth + (noise[seed]?.[i] as number), truth };
      },
      regret: (truth) => LR_FMAX - truth,
    },
  ];
}

/**
 * The lr_auc noise exactly as the Optuna side draws it: np.random.default_rng(10000 + seed).normal(0, 0.005),
 * one draw per trial. numpy's generator is not reimplemented here; the reference prints the draws.
 */
function lrAucNoise(seeds: number, trials: number): number[][] {
  return JSON.parse(runReference('optuna_search.py', ['noise', String(seeds), String(trials)], OPTUNA)) as number[][];
}

// ---------------------------------------------------------------- sweepd runs
/** Seeds of random and TPE, on both sides. */
const SEEDS = 100;
/** Seeds of the GP, whose suggestions cost some 0.1 s each on hartmann6: the first SEEDS of the others. */
const GP_SEEDS = 20;

export interface Contender {
  label: string;
  ref: (seed: number) => { name: string; options: Record<string, unknown> };
  /** How many seeds it runs (SEEDS unless said). */
  seeds?: number;
}

export const CONTENDERS: Contender[] = [
  { label: 'random', ref: (seed) => ({ name: 'random', options: { seed } }) },
  // sweepd's tpe defaults to multivariate kernels; tpe_uni is the independent (Optuna-default) variant.
  { label: 'tpe', ref: (seed) => ({ name: 'tpe', options: { seed } }) },
  { label: 'tpe_uni', ref: (seed) => ({ name: 'tpe', options: { seed, multivariate: false } }) },
  { label: 'gp', ref: (seed) => ({ name: 'gp', options: { seed } }), seeds: GP_SEEDS },
];

function trialView(i: number, params: Params, value: number): TrialView {
  return { id: `t${i}`, number: i, params, state: 'completed', value, epochs: [] };
}

/** Best-so-far regret trace of one run (incumbent = best observed trial, like the anchor). */
async function runOnce(problem: Problem, contender: Contender, seed: number): Promise<{ regret: number[]; askMs: number[] }> {
  const strategy = await createStrategy(contender.ref(seed), {
    space: problem.space,
    direction: problem.direction,
    maxTrials: problem.budget,
  });
  const history: TrialView[] = [];
  const regret: number[] = [];
  const askMs: number[] = [];
  let bestObserved: number | undefined;
  let incumbentTruth = Number.NaN;
  for (let i = 0; i < problem.budget; i++) {
    const t0 = performance.now();
    const asked = await strategy.ask(history, 1);
    askMs.push(performance.now() - t0);
    if (asked === 'done' || asked.length === 0) throw new Error(`${contender.label} gave no suggestion on ${problem.name} at trial ${i}`);
    const first = asked[0] as Params | { params: Params };
    const params = 'params' in first && typeof first.params === 'object' ? (first.params as Params) : (first as Params);
    const { observed, truth } = problem.evaluate(params, seed, i);
    const better = bestObserved === undefined || (problem.direction === 'minimize' ? observed < bestObserved : observed > bestObserved);
    if (better) {
      bestObserved = observed;
      incumbentTruth = truth;
    }
    regret.push(problem.regret(incumbentTruth));
    history.push(trialView(i, params, observed));
  }
  return { regret, askMs };
}

export interface Quartiles {
  p25: number;
  median: number;
  p75: number;
}

/** numpy.percentile's default (linear interpolation). */
export function quartiles(values: number[]): Quartiles {
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number) => {
    const pos = q * (s.length - 1);
    const lo = Math.floor(pos);
    const hi = Math.ceil(pos);
    return (s[lo] as number) + ((s[hi] as number) - (s[lo] as number)) * (pos - lo);
  };
  return { p25: at(0.25), median: at(0.5), p75: at(0.75) };
}

// ---------------------------------------------------------------- Optuna
type Efficiency = Record<string, Record<string, Record<string, Quartiles>>>;

interface OptunaFigures {
  source: string;
  /** Over all the seeds, and over the first GP_SEEDS of them (the GP's reference). */
  efficiency: Efficiency;
  efficiencyFirst: Efficiency;
}

/**
 * Optuna's regret figures: run now, or with `cached` taken from the file an earlier run wrote
 * (the source line then gives that run's date). Every fresh run rewrites the cache.
 */
function optunaEfficiency(seeds: number, cached: boolean, log: (line: string) => void): OptunaFigures {
  const key = `optuna-efficiency-${seeds}-${GP_SEEDS}.json`;
  const file = path.join(CACHE, key);
  if (cached && existsSync(file)) {
    const meta = JSON.parse(readFileSync(file, 'utf8')) as {
      createdAt: string;
      versions: string;
      json: { summary: Efficiency; summary_first: Efficiency };
    };
    return {
      efficiency: meta.json.summary,
      efficiencyFirst: meta.json.summary_first,
      source: `CACHE test/bench/.cache/${key}, measured ${meta.createdAt} (${meta.versions}), not in this run`,
    };
  }
  if (cached) log(`--cached: no cache at test/bench/.cache/${key} yet; running Optuna now`);
  const versions = referenceVersions(OPTUNA);
  const t0 = performance.now();
  log(`running Optuna (${versions}): references/optuna_search.py efficiency ${seeds} ${GP_SEEDS} …`);
  const json = JSON.parse(runReference('optuna_search.py', ['efficiency', String(seeds), String(GP_SEEDS)], OPTUNA)) as {
    summary: Efficiency;
    summary_first: Efficiency;
  };
  mkdirSync(CACHE, { recursive: true });
  writeFileSync(file, JSON.stringify({ createdAt: new Date().toISOString(), versions, json }));
  return {
    efficiency: json.summary,
    efficiencyFirst: json.summary_first,
    source: `this run (${((performance.now() - t0) / 1000).toFixed(0)} s, ${versions})`,
  };
}

// ---------------------------------------------------------------- latency
const LATENCY_SIZES = [100, 1000, 10_000];
/** The GP costs seconds per ask at 1,000 trials: it is timed up to there. */
const GP_MAX_SIZE = 1000;

/**
 * The lr_auc history both sides are timed on: 1,000 trials from a sweepd TPE run (a realistic
 * history, crowded where the optimum is), then seeded random configurations up to 10,000 trials
 * (building all 10,000 with TPE would take minutes of the benchmark). Values are noise-free.
 */
async function latencyHistory(): Promise<TrialView[]> {
  const space = lrAucSpace();
  const max = LATENCY_SIZES[LATENCY_SIZES.length - 1] as number;
  const tpe = await createStrategy({ name: 'tpe', options: { seed: 0 } }, { space, direction: 'maximize', maxTrials: max });
  const history: TrialView[] = [];
  const rng = new Rng('latency-history');
  for (let i = 0; i < max; i++) {
    const p = i < 1000 ? (((await tpe.ask(history, 1)) as Params[])[0] as Params) : sampleSpace(space, rng);
    history.push(trialView(i, p, lrAucTrue(p.lr as number, p.optimizer as string, p.frozen as number)));
  }
  return history;
}

/**
 * Wall time of one suggestion with h trials of history on the lr_auc space: the median of
 * `repeats` asks at histories of h − repeats + 1 … h trials, after one untimed ask at h − repeats. Optuna's side is timed the same way
 * on the same history (ask + the three suggests), in the same run.
 */
async function latency(contenders: Contender[], history: TrialView[], repeats: number): Promise<Record<string, Record<number, number>>> {
  const problem = lrAucSpace();
  const out: Record<string, Record<number, number>> = {};
  for (const c of contenders) {
    const byH: Record<number, number> = {};
    out[c.label] = byH;
    const strategy: SearchStrategy = await createStrategy(c.ref(0), { space: problem, direction: 'maximize', maxTrials: 20_000 });
    const count = c.label === 'gp' ? Math.min(3, repeats) : repeats;
    await strategy.ask(history.slice(0, 50), 1); // warm the JIT
    for (const h of LATENCY_SIZES) {
      if (c.label === 'gp' && h > GP_MAX_SIZE) continue;
      // One untimed ask at this size first, on both sides: a daemon asking again and again is warm.
      await strategy.ask(history.slice(0, h - count), 1);
      const wall: number[] = [];
      for (let r = 0; r < count; r++) {
        const slice = history.slice(0, h - count + r + 1);
        const t0 = performance.now();
        await strategy.ask(slice, 1);
        wall.push(performance.now() - t0);
      }
      byH[h] = quartiles(wall).median;
    }
  }
  return out;
}

function optunaLatency(history: TrialView[], repeats: number): Record<string, Record<string, number>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sweepd-latency-'));
  try {
    const file = path.join(dir, 'history.json');
    writeFileSync(file, JSON.stringify(history.map((t) => ({ params: t.params, value: t.value }))));
    return JSON.parse(runReference('optuna_search.py', ['latency', file, LATENCY_SIZES.join(','), String(repeats)], OPTUNA)) as Record<
      string,
      Record<string, number>
    >;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- report
export interface SearchBenchOptions {
  quick?: boolean;
  /** Take Optuna's regret figures from an earlier run's cache when there is one (the report says so, with its date). */
  cached?: boolean;
  seeds?: number;
  contenders?: string[];
  /** Leave out the suggestion-time part (and Optuna's latency run). */
  skipLatency?: boolean;
  log?: (line: string) => void;
}

export interface SearchBenchResult {
  regret: Record<string, Record<string, Record<number, Quartiles>>>;
  /** Median wall ms per suggestion, by sampler and history size. */
  latencyMs: Record<string, Record<number, number>>;
  optuna: OptunaFigures & { latencyMs: Record<string, Record<string, number>> };
  targets: Target[];
}

const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 0.01 ? v.toPrecision(3) : v.toExponential(2));
const q3 = (q: Quartiles | undefined) => (q ? `${fmt(q.median)} [${fmt(q.p25)}, ${fmt(q.p75)}]` : '—');

export async function runSearchBench(opts: SearchBenchOptions = {}): Promise<SearchBenchResult> {
  const log = opts.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const quickSeeds = opts.seeds ?? (opts.quick ? 5 : undefined);
  const seedsOf = (c: Contender) => Math.min(quickSeeds ?? Number.POSITIVE_INFINITY, c.seeds ?? SEEDS);
  const contenders = CONTENDERS.filter((c) => !opts.contenders || opts.contenders.includes(c.label));
  const t0 = performance.now();
  // Optuna always runs the full seeds; --quick compares fewer of ours against them.
  const optuna = optunaEfficiency(SEEDS, opts.cached ?? false, log);
  const noise = lrAucNoise(SEEDS, 100);
  const regret: SearchBenchResult['regret'] = {};
  for (const problem of problems(noise)) {
    log(`\n${problem.name} (budget ${problem.budget}): median regret [p25, p75] over the seeds given`);
    log(['sampler'.padEnd(24), ...problem.checkpoints.map((cp) => `@${cp}`.padEnd(30))].join(''));
    for (const c of contenders) {
      const traces: number[][] = [];
      let ms = 0;
      const seeds = seedsOf(c);
      for (let seed = 0; seed < seeds; seed++) {
        const r = await runOnce(problem, c, seed);
        traces.push(r.regret);
        ms += r.askMs.reduce((a, b) => a + b, 0);
      }
      const byCp: Record<number, Quartiles> = {};
      for (const cp of problem.checkpoints) byCp[cp] = quartiles(traces.map((t) => t[cp - 1] as number));
      regret[problem.name] ??= {};
      (regret[problem.name] as Record<string, Record<number, Quartiles>>)[c.label] = byCp;
      log(
        [`sweepd ${c.label} (${seeds})`.padEnd(24), ...problem.checkpoints.map((cp) => q3(byCp[cp]).padEnd(30))].join('') +
          `(${(ms / seeds / problem.budget).toFixed(1)} ms/ask)`,
      );
    }
    for (const s of ['random', 'tpe', 'tpe_mv']) {
      const fig = optuna.efficiency[problem.name]?.[s];
      log([`optuna ${s} (${SEEDS})`.padEnd(24), ...problem.checkpoints.map((cp) => q3(fig?.[String(cp)]).padEnd(30))].join(''));
    }
    const first = optuna.efficiencyFirst[problem.name]?.tpe;
    log([`optuna tpe (${GP_SEEDS})`.padEnd(24), ...problem.checkpoints.map((cp) => q3(first?.[String(cp)]).padEnd(30))].join(''));
  }
  log(`\nOptuna figures from ${optuna.source}`);

  const repeats = opts.quick ? 5 : 11;
  const history = opts.skipLatency ? [] : await latencyHistory();
  const latencyMs = opts.skipLatency ? {} : await latency(contenders, history, repeats);
  const optunaLatencyMs = opts.skipLatency ? {} : optunaLatency(history, repeats);
  log(`\nsuggestion time, median wall ms per ask on the lr_auc space (both sides this run, same history), at history size:`);
  log(['sampler'.padEnd(16), ...LATENCY_SIZES.map((h) => `${h}`.padEnd(12))].join(''));
  for (const c of contenders) {
    log([`sweepd ${c.label}`.padEnd(16), ...LATENCY_SIZES.map((h) => fmt(latencyMs[c.label]?.[h] ?? Number.NaN).padEnd(12))].join(''));
  }
  for (const s of ['random', 'tpe', 'tpe_mv']) {
    log([`optuna ${s}`.padEnd(16), ...LATENCY_SIZES.map((h) => fmt(optunaLatencyMs[s]?.[String(h)] ?? Number.NaN).padEnd(12))].join(''));
  }
  log(
    `(load average now ${loadavg()
      .map((v) => v.toFixed(1))
      .join(' ')} on ${cpus().length} cores; Optuna's figures are the wall time of ask + 3 suggests; gp timed up to ${GP_MAX_SIZE})`,
  );

  const targets: SearchBenchResult['targets'] = [];
  const med = (problem: string, sampler: string, cp: number) => regret[problem]?.[sampler]?.[cp]?.median ?? Number.NaN;
  const omed = (problem: string, sampler: string, cp: number) => optuna.efficiency[problem]?.[sampler]?.[String(cp)]?.median ?? Number.NaN;
  const omedFirst = (problem: string, cp: number) => optuna.efficiencyFirst[problem]?.tpe?.[String(cp)]?.median ?? Number.NaN;
  if (regret.branin?.tpe) {
    for (const p of ['branin', 'hartmann6', 'lr_auc']) {
      for (const cp of [25, 50]) {
        const ours = med(p, 'tpe', cp);
        const theirs = omed(p, 'tpe', cp);
        targets.push({
          target: `tpe ≤ Optuna TPE, ${p} @${cp} (${SEEDS} seeds)`,
          pass: ours <= theirs,
          detail: `${fmt(ours)} vs ${fmt(theirs)} (ratio ${(ours / theirs).toFixed(2)})`,
        });
      }
    }
  }
  if (regret.branin?.gp) {
    for (const p of ['branin', 'hartmann6']) {
      const ours = med(p, 'gp', 50);
      const theirs = omedFirst(p, 50);
      targets.push({
        target: `gp ≤ ½ Optuna TPE, ${p} @50 (seeds 0–${GP_SEEDS - 1})`,
        pass: ours <= theirs / 2,
        detail: `${fmt(ours)} vs ${fmt(theirs)} (ratio ${(ours / theirs).toFixed(2)})`,
      });
    }
  }
  if (!opts.skipLatency) {
    const ours = latencyMs.tpe?.[1000] ?? Number.NaN;
    const theirs = optunaLatencyMs.tpe?.['1000'] ?? Number.NaN;
    targets.push({
      target: 'tpe suggest time @1000 ≤ 1/10 Optuna TPE (wall time, both)',
      pass: ours <= theirs / 10,
      detail: `${fmt(ours)} ms vs ${fmt(theirs)} ms (${(theirs / ours).toFixed(0)}× faster)`,
    });
    const at10k = latencyMs.tpe?.[10_000] ?? Number.NaN;
    targets.push({
      target: 'tpe suggest time @10,000 ≤ 5 ms (wall time)',
      pass: at10k <= 5,
      detail: `${fmt(at10k)} ms; Optuna TPE ${fmt(optunaLatencyMs.tpe?.['10000'] ?? Number.NaN)} ms on the same history`,
    });
  }
  // Not targets, for the record: the independent variant against Optuna's default, and ours against Optuna's multivariate.
  const also: string[] = [];
  for (const p of ['branin', 'hartmann6', 'lr_auc']) {
    for (const cp of [25, 50]) {
      if (regret[p]?.tpe_uni) also.push(`tpe_uni vs Optuna tpe, ${p} @${cp}: ${fmt(med(p, 'tpe_uni', cp))} vs ${fmt(omed(p, 'tpe', cp))}`);
      if (regret[p]?.tpe) also.push(`tpe vs Optuna tpe_mv, ${p} @${cp}: ${fmt(med(p, 'tpe', cp))} vs ${fmt(omed(p, 'tpe_mv', cp))}`);
    }
  }
  if (also.length > 0) log(`\nfor comparison (not targets):\n${also.map((line) => `  ${line}`).join('\n')}`);
  log(
    `\nbench took ${((performance.now() - t0) / 1000).toFixed(0)} s${quickSeeds !== undefined ? ` (--quick: ${quickSeeds} seeds of ours vs Optuna's ${SEEDS})` : ''}`,
  );
  const result = { regret, latencyMs, optuna: { ...optuna, latencyMs: optunaLatencyMs }, targets };
  checkTargets(targets, log);
  return result;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const only = argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
  await runSearchBench({
    quick: argv.includes('--quick'),
    cached: argv.includes('--cached'),
    skipLatency: argv.includes('--no-latency'),
    ...(only ? { contenders: only.split(',') } : {}),
  });
}
