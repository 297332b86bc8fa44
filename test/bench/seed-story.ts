/**
 * `npm run bench -- seed-story`: the practitioner's case, reproduced and answered on the CPU
 * testbed (testbed.ts: tiny_wide_resnet, a BatchNorm ResNet whose convolutions are mostly wide,
 * pretrained with Adam on a Fashion-MNIST source task, fine-tuned with a new head on the
 * fashion-mosaic target).
 *
 * Side by side, for each seed, through a real daemon running examples/pytorch/finetune.py with
 * the command runner: the practitioner's config (TF1 RMSProp lr 0.01, momentum 0.9, decay 0.9,
 * epsilon 1.0, exponential decay 0.94 every 2 epochs, batch 32, weight decay 4e-5, all layers
 * trainable, sigmoid cross-entropy); the human answer's suggestions (Adam 1e-4 on all layers, Adam
 * 1e-4 with the convolutions frozen, TF1 RMSProp 1e-4); two references with epsilon 1e-8 (TF1
 * RMSProp 0.01, the issue's, and 0.1, which kills units); and a sweepd study (TPE with stopping
 * rules) over learning rate 1e-8…1e-1, optimizer, epsilon, frozen blocks and momentum. Every trial
 * is diagnosed with diagnoseTrial against all trials of its seed.
 *
 * What the testbed shows (the issue's picture on InceptionV4): the practitioner's kernels move a
 * median of about 1 % over 6 epochs while its macro AUC goes from 0.43–0.52 (the new head, before
 * any step) to about 0.97, the best of the hand-picked configs; Adam 1e-4 moves them about 9 % and
 * reaches about 0.92; TF1 RMSProp 1e-4 moves them about 0.02 % and ends at 0.51–0.61; epsilon 1e-8
 * at 0.01 moves them about 185 % and drives the last block to about 90 % zero activations (under
 * 10 % dead units), and at 0.1 kills most of some layer's units.
 *
 * Targets: sweepd's best ≥ the best of the practitioner's config and every human suggestion
 * (medians over seeds), in fewer epochs than the human grid in full (HUMAN_GRID below); the
 * diagnoses right: the practitioner's trial not called stalled, every trial with a layer ≥ 50 %
 * dead units called dying (or too high, diverged), RMSProp 1e-4 too low, epsilon 1e-8 at 0.01 too
 * high or dying, head-only Adam held back by its frozen layers — each where the evidence of this
 * testbed shows it (the figures are printed so a reader can check); and the answer never tells the
 * practitioner to change for a gain under 0.005.
 */
import { type Diagnosis, diagnoseTrial } from '../../packages/search/src/index.ts';
import type { EpochRecord, TrialView } from '../../packages/core/src/index.ts';
import { startDaemonProcess, type DaemonProcess } from '../support/daemon-process.ts';
import { type Config, HUMAN, type Params, PRACTITIONER, seedStoryConfigs, TF_SLIM } from './seed-story/configs.ts';
import { f, figures, med, pct } from './seed-story/figures.ts';
import { EXCLUDE_SCOPES, FINETUNE, MODEL, prepareTestbed, type Testbed } from './seed-story/testbed.ts';

const SEEDS = [0, 1, 2];
const MAX_EPOCHS = 6;
const STUDY_TRIALS = 20;
/** The human answer as a grid: rates 1e-8 … 1e-3, RMSProp or Adam, all layers or convolutions frozen. */
const HUMAN_GRID = { rates: 6, optimizers: 2, freezing: 2 };
const HUMAN_GRID_EPOCHS = HUMAN_GRID.rates * HUMAN_GRID.optimizers * HUMAN_GRID.freezing * MAX_EPOCHS;
/** The testbed backbone's blocks: frozen_layers = BLOCKS trains the head only (the convolutions frozen). */
const BLOCKS = MODEL.blocks;

const CONFIGS = seedStoryConfigs(BLOCKS);

function command(bed: Testbed, seed: number): string[] {
  return [
    'python3',
    FINETUNE,
    `--model=${MODEL.name}`,
    `--data_dir=${bed.target}`,
    `--checkpoint_path=${bed.checkpoint}`,
    `--checkpoint_exclude_scopes=${EXCLUDE_SCOPES}`,
    '--threads=1',
    '--probe_size=64',
    `--seed=${seed}`,
  ];
}

function trainer(bed: Testbed, seed: number) {
  return { runner: 'command', options: { command: command(bed, seed), args: 'flags', report_timeout_s: 900 } };
}

/** A one-config study: each parameter a single choice, run for every epoch (no stopping). */
function configSpec(bed: Testbed, seed: number, c: Config) {
  return {
    name: `seed-story-${c.key}-s${seed}`,
    objective: { metric: 'val_auc_macro', direction: 'maximize' },
    space: Object.fromEntries(Object.entries(c.params).map(([k, v]) => [k, { type: 'categorical', choices: [v] }])),
    fixed: TF_SLIM,
    strategy: { name: 'random', options: { seed } },
    budget: { max_trials: 1, max_epochs: MAX_EPOCHS, parallelism: 1 },
    trainer: trainer(bed, seed),
  };
}

/** The search the practitioner should have run. */
function studySpec(bed: Testbed, seed: number) {
  return {
    name: `seed-story-sweepd-s${seed}`,
    objective: { metric: 'val_auc_macro', direction: 'maximize' },
    space: {
      learning_rate: { type: 'float', low: 1e-8, high: 1e-1, log: true },
      optimizer: { type: 'categorical', choices: ['sgd', 'momentum', 'rmsprop', 'adam'] },
      opt_epsilon: { type: 'float', low: 1e-8, high: 1.0, log: true, when: { optimizer: ['rmsprop', 'adam'] } },
      frozen_layers: { type: 'int', low: 0, high: BLOCKS },
      momentum: { type: 'float', low: 0.5, high: 0.99, when: { optimizer: ['momentum'] } },
    },
    fixed: TF_SLIM,
    // The practitioner's config runs first, so the study's answer is stated against it.
    baseline: PRACTITIONER,
    strategy: { name: 'tpe', options: { seed, n_startup_trials: 8 } },
    stopping: [{ name: 'divergence' }, { name: 'learning-curve', options: { initial_value: 0.5, min_epochs: 2 } }],
    budget: { max_trials: STUDY_TRIALS, max_epochs: MAX_EPOCHS, parallelism: 2 },
    trainer: trainer(bed, seed),
  };
}

interface ApiTrial {
  id: string;
  number: number;
  state: TrialView['state'];
  params: Params;
  value: number | null;
  reason: string | null;
  epochs: EpochRecord[];
}

interface Run {
  config: string;
  label: string;
  trial: ApiTrial;
}

async function getJson<T>(daemon: DaemonProcess, path: string): Promise<T> {
  const res = await fetch(`${daemon.url}${path}`);
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function submit(daemon: DaemonProcess, spec: unknown): Promise<string> {
  const res = await fetch(`${daemon.url}/v1/studies`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(spec),
  });
  const body = (await res.json()) as { id?: string; problems?: unknown };
  if (res.status !== 201) throw new Error(`submit refused (${res.status}): ${JSON.stringify(body.problems ?? body)}`);
  return body.id as string;
}

async function finished(daemon: DaemonProcess, id: string): Promise<{ state: string; reason?: string }> {
  for (;;) {
    const s = await getJson<{ state: string; reason?: string }>(daemon, `/v1/studies/${id}`);
    if (s.state !== 'running') return s;
    await new Promise((r) => setTimeout(r, 2000));
  }
}

async function trialsOf(daemon: DaemonProcess, id: string): Promise<ApiTrial[]> {
  const board = await getJson<{ rows: { number: number }[] }>(daemon, `/v1/studies/${id}/leaderboard?limit=1000`);
  const out: ApiTrial[] = [];
  for (const row of board.rows) {
    const trial = await getJson<ApiTrial>(daemon, `/v1/studies/${id}/trials/${row.number}`);
    // The trial API names a trial by study and number; the diagnosis compares trials across studies.
    out.push({ ...trial, id: `${id}/${trial.number}` });
  }
  return out;
}

const view = (t: ApiTrial): TrialView => ({
  id: t.id,
  number: t.number,
  params: t.params,
  state: t.state,
  ...(t.value === null ? {} : { value: t.value }),
  epochs: t.epochs,
  ...(t.reason ? { reason: t.reason } : {}),
});

export async function runSeedStoryBench(): Promise<void> {
  // `--from=DIR`: read the GPU version's results (examples/pytorch/gpu_seed_story.sh's $OUT) instead.
  const from = process.argv.find((a) => a.startsWith('--from='))?.slice('--from='.length);
  if (from) {
    const { runGpuResults } = await import('./seed-story/gpu-results.ts');
    return runGpuResults(from);
  }
  const bed = await prepareTestbed();
  console.log(
    `testbed: ${bed.dir}; pretrained weights ${bed.made ? 'made in this run' : `from the cache, made ${bed.madeAt.toISOString()}`}` +
      (bed.sourceAuc !== undefined ? ` (source-task AUC ${bed.sourceAuc.toFixed(3)})` : ''),
  );
  const daemon = await startDaemonProcess({
    args: ['--workers', '2'],
    env: { SWEEPD_CACHE_DIR: `${bed.dir}/daemon-cache` },
    timeoutMs: 120_000,
  });
  const failures: string[] = [];
  const perSeed: SeedResult[] = [];
  try {
    for (const seed of SEEDS) {
      const ids = new Map<string, string>();
      for (const c of CONFIGS) ids.set(c.key, await submit(daemon, configSpec(bed, seed, c)));
      const studyId = await submit(daemon, studySpec(bed, seed));
      const runs: Run[] = [];
      for (const c of CONFIGS) {
        const id = ids.get(c.key) as string;
        const end = await finished(daemon, id);
        const [trial] = await trialsOf(daemon, id);
        if (!trial || end.state !== 'completed') failures.push(`seed ${seed} ${c.key}: study ${end.state} ${end.reason ?? ''}`);
        if (trial) runs.push({ config: c.key, label: c.label, trial });
      }
      const end = await finished(daemon, studyId);
      if (end.state !== 'completed') failures.push(`seed ${seed} sweepd study: ${end.state} ${end.reason ?? ''}`);
      const { answer } = await getJson<{ answer?: Answer }>(daemon, `/v1/studies/${studyId}`);
      console.log(`\nseed ${seed}, what sweepd tells the practitioner: ${answer?.verdict ?? '(no answer)'}`);
      const study = await trialsOf(daemon, studyId);
      const all = [...runs.map((r) => view(r.trial)), ...study.map(view)];
      const diagnoses = new Map<string, Diagnosis>();
      for (const t of [...runs.map((r) => r.trial), ...study]) {
        diagnoses.set(
          t.id,
          diagnoseTrial(
            view(t),
            all.filter((p) => p.id !== t.id),
            { metric: 'val_auc_macro', direction: 'maximize' },
          ),
        );
      }
      perSeed.push({ seed, runs, study, studyEpochs: study.reduce((n, t) => n + t.epochs.length, 0), diagnoses, answer });
      printSeed(perSeed.at(-1) as SeedResult);
    }
  } finally {
    await daemon.stop();
  }
  checkTargets(perSeed, failures);
}

/** The study's answer as the API gives it: what sweepd tells the practitioner. */
interface Answer {
  verdict?: string;
  margin?: number;
  near?: boolean;
}

interface SeedResult {
  seed: number;
  runs: Run[];
  study: ApiTrial[];
  studyEpochs: number;
  diagnoses: Map<string, Diagnosis>;
  answer: Answer | undefined;
}

function printSeed(s: SeedResult): void {
  const best = [...s.study].sort((a, b) => (b.value ?? -1) - (a.value ?? -1))[0];
  const rows: [string, ApiTrial][] = [...s.runs.map((r): [string, ApiTrial] => [r.label, r.trial])];
  if (best) rows.push([`sweepd best (trial ${best.number} of ${s.study.length}): ${describeParams(best.params)}`, best]);
  console.log(`\n--- seed ${s.seed} (max ${MAX_EPOCHS} epochs; sweepd spent ${s.studyEpochs} epochs on ${s.study.length} trials) ---`);
  console.log(
    'config | macro AUC per epoch | best | final | kernels moved (median) | biases moved | max sparsity first→last | most dead units | negative fraction first→last | diagnosis',
  );
  for (const [label, t] of rows) {
    const g = figures(t);
    const d = s.diagnoses.get(t.id);
    console.log(
      `${label} | ${g.curve} | ${f(g.best)} | ${f(g.final)} | ${pct(g.kernels)} | ${f(g.biases, 4)} | ${pct(g.sparsity[0])}→${pct(g.sparsity[1])} | ${pct(g.dead)} | ${pct(g.negative[0])}→${pct(g.negative[1])} | ${d?.verdict}: ${d?.summary}`,
    );
  }
  for (const [label, t] of rows) console.log(`  per-class AUC, last epoch, ${label}: ${figures(t).perClass}`);
}

function describeParams(p: Params): string {
  return Object.entries(p)
    .filter(([k]) => !(k in TF_SLIM))
    .map(([k, v]) => `${k}=${typeof v === 'number' ? Number(v.toPrecision(3)) : v}`)
    .join(' ');
}

function checkTargets(perSeed: SeedResult[], failures: string[]): void {
  const bestOf = (key: string) => med(perSeed.map((s) => s.runs.find((r) => r.config === key)?.trial.value ?? undefined));
  const sweepdBest = med(perSeed.map((s) => Math.max(...s.study.map((t) => t.value ?? Number.NEGATIVE_INFINITY))));
  const practitioner = bestOf('practitioner');
  const humans = HUMAN.map(bestOf);
  const reference = Math.max(practitioner, ...humans);
  const epochs = med(perSeed.map((s) => s.studyEpochs));
  console.log('\n--- medians over seeds ---');
  console.log(`practitioner best ${f(practitioner)}; human suggestions ${HUMAN.map((h, i) => `${h} ${f(humans[i])}`).join(', ')}`);
  console.log(
    `sweepd best ${f(sweepdBest)} (target ≥ ${f(reference)}), epochs ${epochs} (target < ${HUMAN_GRID_EPOCHS}, the human grid in full)`,
  );
  const verdict = (key: string) => perSeed.map((s) => s.diagnoses.get(s.runs.find((r) => r.config === key)?.trial.id ?? '')?.verdict);
  const practitionerVerdicts = verdict('practitioner');
  // Dying is judged where the evidence is: every trial with a layer at or above the dead-units
  // threshold (50 % of its units dead on the whole probe) must be called dying (or too high, diverged).
  const deadTrials = perSeed.flatMap((s) =>
    [...s.runs.map((r) => r.trial), ...s.study].filter((t) => figures(t).dead >= 0.5).map((t) => s.diagnoses.get(t.id)?.verdict),
  );
  const smallEps = verdict('eps-small');
  const smallEpsHigh = verdict('eps-small-high');
  const lowRate = verdict('rmsprop-low');
  const frozenSummaries = perSeed.map(
    (s) => s.diagnoses.get(s.runs.find((r) => r.config === 'adam-frozen')?.trial.id ?? '')?.summary ?? '',
  );
  console.log(
    `diagnoses: practitioner ${practitionerVerdicts.join(', ')}; eps 1e-8 at 0.01 ${smallEps.join(', ')}; eps 1e-8 at 0.1 ${smallEpsHigh.join(', ')}; RMSProp 1e-4 ${lowRate.join(', ')}`,
  );
  console.log(
    deadTrials.length > 0
      ? `trials with a layer ≥ 50 % dead units: ${deadTrials.length}, called ${deadTrials.join(', ')}`
      : 'no trial on this testbed had a layer with ≥ 50 % dead units: the dying-units diagnosis is not exercised here',
  );
  const checks: [string, boolean][] = [
    ['every run completed', failures.length === 0],
    ['sweepd best ≥ the practitioner and every human suggestion', sweepdBest >= reference],
    ['fewer epochs than the human grid in full', epochs < HUMAN_GRID_EPOCHS],
    ['the practitioner is never called stalled or too low', practitionerVerdicts.every((v) => v !== 'too-low' && v !== 'no-learning')],
    [
      'every trial with dead units is called dying (or too high, diverged), and some trial has them',
      deadTrials.length > 0 && deadTrials.every((v) => v === 'dying-units' || v === 'too-high' || v === 'diverged'),
    ],
    // With seed 2's head (0.53 at epoch 1) RMSProp 1e-4 rises to 0.61: it learned a little, but every
    // better peer (up to 0.97) used a higher rate and is ahead by more than "learned" asks: too low.
    ['TF1 RMSProp 1e-4 is called too low', lowRate.every((v) => v === 'too-low')],
    // Epsilon 1e-8 at 0.01 rewrites the kernels (about 185 %) and falls back from its best: never healthy.
    ['TF1 RMSProp 0.01 with epsilon 1e-8 is called too high or dying', smallEps.every((v) => v === 'too-high' || v === 'dying-units')],
    // Head only learns, but far less than training the backbone: the words must say the freezing holds it back.
    [
      'Adam 1e-4 with the convolutions frozen is called held back by its frozen layers',
      frozenSummaries.every((t) => t.includes('held back by its frozen layers')),
    ],
    // A gain smaller than the same config moves between seeds is no reason to change.
    [
      'the answer never tells the practitioner to change for a gain under 0.005 AUC',
      perSeed.every((s) => s.answer?.margin !== undefined && (s.answer.margin >= 0.005 || s.answer.near === true)),
    ],
  ];
  for (const f of failures) console.log(`  run problem: ${f}`);
  for (const [what, ok] of checks) console.log(`${ok ? 'PASS' : 'FAIL'} ${what}`);
  const missed = checks.filter(([, ok]) => !ok).map(([what]) => what);
  if (missed.length > 0) throw new Error(`seed-story targets missed: ${missed.join('; ')}`);
}
