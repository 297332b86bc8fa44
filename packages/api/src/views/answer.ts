import type { Direction, ParamValue, SearchSpec, StudyState, TrialRecord, TrialState } from '@sweepd/core';
import {
  type Diagnosis,
  describeFailures,
  diagnoseTrial,
  isBaselineTrial,
  noiseEstimate,
  objectiveUnits,
  type Verdict,
} from '@sweepd/search';
import { leaderboard, withParamsInOrder } from './leaderboard.ts';
import { diagnosisObjective } from './diagnosis-objective.ts';

/** Within this many times the measured epoch-to-epoch noise, the baseline counts as near the best. */
export const NEAR_NOISE_MULTIPLE = 2;
/**
 * For a score (an AUC, an accuracy: a [0, 1] score; ×100 in percent), a gain under this is too
 * small to act on, whatever the noise says: the epoch-to-epoch noise of one run misses how much the same config
 * moves with another seed (on the seed-story testbed the practitioner's config reached 0.967,
 * 0.964 and 0.967 on three seeds, while its curves' noise was about 0.001).
 */
export const NEAR_MIN_GAIN = 0.005;
/** How many of the top trials (with the baseline) the noise is measured on. */
const NOISE_TRIALS = 5;
/**
 * Curves shorter than this hold too few epochs past their rise to measure noise on: the later half
 * of 9 epochs has 5, three second differences; of 5 epochs it has 3, one second difference, which
 * on a curve still rising is its bend, not noise (77.5, 80.8, 82.8, 84.6, 85.4 read as 0.54).
 */
const MIN_NOISE_EPOCHS = 9;

export interface ParamChange {
  param: string;
  /** The baseline's value; null where the parameter does not apply to it (a condition). */
  from: ParamValue | null;
  /** The best trial's value; null where it does not apply to the best. */
  to: ParamValue | null;
}

/**
 * What the user reads first about a study: the best config, and when the spec names a baseline
 * (the config they run today, trial 0), how far the best beats it, what to change, and what the
 * baseline's own curve and weights say (its diagnosis).
 */
export interface StudyAnswer {
  best: { trial: number; params: Record<string, ParamValue>; value: number; diagnosis: Diagnosis } | null;
  baseline?: {
    trial: number;
    params: Record<string, ParamValue>;
    value: number | null;
    state: TrialState;
    reason: string | null;
    diagnosis: Diagnosis;
  };
  /** best − baseline in the objective's direction: positive when the best beats the baseline. */
  margin?: number;
  /**
   * The objective's epoch-to-epoch noise (a standard deviation, see noiseEstimate) measured on the
   * later half of the baseline's and the top 5 trials' curves (see laterHalf); null when none of
   * them has 9 epochs or more.
   */
  noise?: number | null;
  /** With a null noise: how many epochs a curve needs for its noise to be measured (MIN_NOISE_EPOCHS). */
  noise_min_epochs?: number;
  /** margin ≤ NEAR_NOISE_MULTIPLE × noise: the baseline is as good as the best, as far as can be measured. */
  near?: boolean;
  /** The searched parameters whose values differ between the baseline and the best. */
  changes: ParamChange[];
  /** One sentence: what to change and by how much, or that nothing needs changing. */
  verdict: string;
  /**
   * Why the best is not a config to take as it is, when its own diagnosis says it diverged or did
   * not learn well (ends the verdict too): `export` repeats it beside the config it hands out.
   */
  caveat?: string;
  /** When trials failed: how many, and the commonest reason (a failed trial is not ranked, whatever it reported before failing). */
  failures?: string;
}

/** Verdicts that say the best trial itself did not learn well: the answer says so beside the config. */
const CAVEAT_VERDICTS: ReadonlySet<Verdict> = new Set<Verdict>(['too-high', 'dying-units', 'too-low', 'no-learning', 'learning-slowly']);

/**
 * `order`: the parameters' order for what it prints and returns (paramColumns; the Store keeps none).
 * When the best trial diverged or, by its own diagnosis, did not learn well (a network dead at
 * chance is still the best of a study in which nothing learned), the verdict says so.
 */
export function studyAnswer(
  spec: SearchSpec,
  state: StudyState,
  trials: readonly TrialRecord[],
  order: readonly string[] = [],
): StudyAnswer {
  // Parameters in `order` everywhere, the diagnoses' "with x=…, y=…" included.
  const ordered = trials.map((t) => withParamsInOrder(t, order));
  return withNotes(answerOf(spec, state, ordered, order), ordered);
}

/** The text ended with a full stop, unless it ends a sentence already (a reason quoting a script's own message may). */
function sentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

/** The answer with its failures and its caveat added. */
function withNotes(answer: StudyAnswer, trials: readonly TrialRecord[]): StudyAnswer {
  const failed = trials.filter((t) => t.state === 'failed');
  if (failed.length > 0)
    answer.failures = `${sentence(
      capital(
        describeFailures(
          failed.map((t) => t.reason),
          failed.length === trials.length ? 'all' : { of: trials.length },
        ),
      ),
    )}${
      // Only where one of them had reported something: "whatever they reported" of nothing says nothing.
      failed.some((t) => t.epochs.length > 0)
        ? ` ${failed.length === 1 ? 'It is not ranked, whatever it' : 'They are not ranked, whatever they'} reported before failing.`
        : ''
    }`;
  const d = answer.best?.diagnosis;
  if (!answer.best || !d) return answer;
  // The diagnosis of a diverged trial starts "Diverged (…)": "trial 1 diverged: Diverged" would say it twice.
  const caveat =
    d.verdict === 'diverged' || CAVEAT_VERDICTS.has(d.verdict) ? `But trial ${answer.best.trial}'s own diagnosis: ${d.summary}` : undefined;
  return caveat ? { ...answer, verdict: `${answer.verdict} ${caveat}`, caveat } : answer;
}

function answerOf(spec: SearchSpec, state: StudyState, trials: readonly TrialRecord[], order: readonly string[]): StudyAnswer {
  const { metric, direction } = spec.objective;
  const objective = diagnosisObjective(spec);
  const ranked = leaderboard(trials, spec).filter((r) => r.rank !== null);
  const byNumber = new Map(trials.map((t) => [t.number, t]));
  const top = ranked[0] && byNumber.get(ranked[0].number);
  const best =
    top && top.value !== undefined
      ? { trial: top.number, params: top.params, value: top.value, diagnosis: diagnoseTrial(top, trials, objective) }
      : null;
  // A stopped or failed study's running trials still report until they have stopped: not final yet.
  const stopping = state === 'running' ? 0 : trials.filter((t) => t.state === 'queued' || t.state === 'running').length;
  // A study stopped before its budget ran out: its best is of the trials it got to, and the answer
  // says how few. Against the budget, not a planned total: a grid may have had fewer points to run.
  const cut =
    state === 'stopped' && trials.length < spec.budget.max_trials
      ? `stopped after ${trials.length} trial${trials.length === 1 ? '' : 's'} (budget: ${spec.budget.max_trials}); `
      : '';
  const so =
    state === 'running' ? 'so far: ' : stopping > 0 ? `so far (${stopping} trial${stopping === 1 ? '' : 's'} still stopping): ` : cut;
  const baselineTrial = trials.filter(isBaselineTrial).sort((a, b) => a.number - b.number)[0];
  if (!baselineTrial) {
    const verdict = best
      ? capital(`${so}the best found is ${paramsText(best.params)} (trial ${best.trial}): ${metric} ${num(best.value)}.`)
      : noValue(metric, state, trials);
    return { best, changes: [], verdict };
  }
  // A baseline that failed is not measured against, whatever it reported before it failed.
  const baseValue =
    baselineTrial.state !== 'failed' && baselineTrial.value !== undefined && Number.isFinite(baselineTrial.value)
      ? baselineTrial.value
      : null;
  const baseline = {
    trial: baselineTrial.number,
    params: baselineTrial.params,
    value: baseValue,
    state: baselineTrial.state,
    reason: baselineTrial.reason ?? null,
    diagnosis: diagnoseTrial(baselineTrial, trials, objective),
  };
  if (!best)
    return {
      best,
      baseline,
      changes: [],
      verdict:
        state === 'running'
          ? capital(`Your config runs first (trial ${baseline.trial}); no trial has reported ${metric} yet.`)
          : noValue(metric, state, trials),
    };
  const changes = paramChanges(spec, baseline.params, best.params, order);
  if (baseValue === null) {
    const why =
      baseline.state === 'queued' || baseline.state === 'running'
        ? 'has not reported it yet'
        : baseline.state === 'failed'
          ? `failed${baseline.reason ? ` (${baseline.reason})` : ''}`
          : `${baseline.state} without it`;
    return {
      best,
      baseline,
      changes,
      verdict: capital(`${so}${change(changes)}: ${metric} ${num(best.value)}; your config (trial ${baseline.trial}) ${why}.`),
    };
  }
  const margin = direction === 'maximize' ? best.value - baseValue : baseValue - best.value;
  // The baseline once, even when it is among the top trials.
  const measured = [
    baselineTrial,
    ...ranked
      .slice(0, NOISE_TRIALS)
      .map((r) => byNumber.get(r.number) as TrialRecord)
      .filter((t) => t !== baselineTrial),
  ];
  const sd = noiseEstimate(measured.flatMap(laterHalf), metric);
  const noise = Number.isFinite(sd) ? sd : null;
  const withinNoise = noise !== null && margin <= NEAR_NOISE_MULTIPLE * noise;
  // A score (AUC, accuracy, … in [0, 1] or in percent) has a gain too small to act on; a loss or
  // a reward has no such size, and only its measured noise can make a margin small.
  const units = objectiveUnits(trials, metric, direction);
  const minGain = units.bound === undefined ? undefined : NEAR_MIN_GAIN * units.scale;
  const tooSmall = minGain !== undefined && margin < minGain;
  const near = best.trial === baseline.trial || withinNoise || tooSmall;
  const answer = { best, baseline, margin, noise, ...(noise === null ? { noise_min_epochs: MIN_NOISE_EPOCHS } : {}), near, changes };
  if (best.trial !== baseline.trial && changes.length === 0)
    return {
      ...answer,
      near: true,
      verdict: capital(
        `${so}your config is the best found: trial ${best.trial} ran the same parameters as trial ${baseline.trial} and reached ${metric} ${num(best.value)} (${num(baseValue)} on trial ${baseline.trial}, the difference is noise).`,
      ),
    };
  if (best.trial === baseline.trial)
    return {
      ...answer,
      verdict: capital(
        `${so}your config is the best found: ${metric} ${num(baseValue)} (trial ${baseline.trial}); no other trial beat it.`,
      ),
    };
  if (near) {
    const set = changes.filter((c) => c.to !== null);
    const why = withinNoise
      ? `, a difference within ${NEAR_NOISE_MULTIPLE}× the measured epoch-to-epoch noise of ${num(noise as number)}`
      : ` with ${changedText(set)}: a difference under ${num(minGain as number)}, too small to act on`;
    return {
      ...answer,
      verdict: capital(`${so}your config is already near the best found (${num(baseValue)} vs ${num(best.value)}${why}).`),
    };
  }
  return {
    ...answer,
    verdict: capital(
      `${so}${change(changes)}: ${metric} ${num(best.value)} against your config's ${num(baseValue)} (${delta(best.value - baseValue, direction)}).`,
    ),
  };
}

/**
 * The later half of a curve of at least MIN_NOISE_EPOCHS epochs, where noise is measured: early
 * epochs bend (a fast rise), and a bend reads as noise to second differences. On 3 rising epochs
 * (0.70, 0.80, 0.85) it would claim a noise of 0.03 and call a 0.05 gain "near"; shorter curves are
 * left out, and with none left the noise is unknown and only a baseline at least as good is near.
 */
function laterHalf(t: TrialRecord): TrialRecord[] {
  const epochs = [...t.epochs].sort((a, b) => a.epoch - b.epoch);
  if (epochs.length < MIN_NOISE_EPOCHS) return [];
  return [{ ...t, epochs: epochs.slice(Math.floor(epochs.length / 2)) }];
}

/** Every searched parameter whose value differs, in `order` (the spec's, as written; a stored spec's keys may be reordered). */
function paramChanges(
  spec: SearchSpec,
  from: Record<string, ParamValue>,
  to: Record<string, ParamValue>,
  order: readonly string[],
): ParamChange[] {
  const names = [...new Set([...order, ...Object.keys(spec.space), ...Object.keys(from), ...Object.keys(to)])];
  return names.filter((n) => from[n] !== to[n]).map((param) => ({ param, from: from[param] ?? null, to: to[param] ?? null }));
}

function change(changes: readonly ParamChange[]): string {
  const set = changes.filter((c) => c.to !== null);
  const dropped = changes.filter((c) => c.to === null).map((c) => c.param);
  const parts = [set.length > 0 ? `change to ${changedText(set)}` : ''];
  if (dropped.length > 0) parts.push(`drop ${dropped.join(', ')}`);
  return parts.filter(Boolean).join(' and ');
}

/** The raw difference best − baseline: "+0.038" for a maximised metric, "0.14 lower" for a minimised one. */
function delta(d: number, direction: Direction): string {
  if (direction === 'maximize') return `${d >= 0 ? '+' : '−'}${num(Math.abs(d))}`;
  return `${num(Math.abs(d))} ${d <= 0 ? 'lower' : 'higher'}`;
}

/** The new values of changed parameters: "optimizer=adam, learning_rate=3.1e-4", each told apart from the value it replaces. */
function changedText(changes: readonly ParamChange[]): string {
  return changes.map((c) => `${c.param}=${changeTexts(c).to}`).join(', ');
}

export function paramsText(params: Record<string, ParamValue>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${paramText(v)}`)
    .join(', ');
}

/** A value to `digits` significant digits (two in exponent form: 3.1e-4). */
function paramText(v: ParamValue, digits = 3): string {
  if (typeof v !== 'number' || Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) {
    const [mantissa, exponent] = v.toExponential(digits - 2).split('e');
    return `${Number(mantissa)}e${Number(exponent)}`;
  }
  return String(Number(v.toPrecision(digits)));
}

/**
 * A change's two values as text, with as many digits as it takes for them to differ: 0.8 → 0.80004,
 * not 0.8 → 0.8. '(unset)' where the parameter does not apply.
 */
export function changeTexts(c: ParamChange): { from: string; to: string } {
  let texts = { from: '', to: '' };
  for (let digits = 3; digits <= 17; digits++) {
    texts = {
      from: c.from === null ? '(unset)' : paramText(c.from, digits),
      to: c.to === null ? '(unset)' : paramText(c.to, digits),
    };
    if (texts.from !== texts.to) break;
  }
  return texts;
}

/** A metric value to three significant digits. */
function num(v: number): string {
  return String(Number(v.toPrecision(3)));
}

function capital(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The verdict when no trial can be ranked: none has reported yet, or, in a finished study, none did without failing. */
export function noValue(
  metric: string,
  state: StudyState,
  trials: readonly TrialRecord[],
  to: 'recommend' | 'export' = 'recommend',
): string {
  if (state === 'running') return `No trial has reported ${metric} yet.`;
  // Stopped or failed, but trials still in flight may report yet: not final.
  const stopping = trials.filter((t) => t.state === 'queued' || t.state === 'running').length;
  if (stopping > 0)
    return `No trial has reported ${metric} yet (${stopping} trial${stopping === 1 ? '' : 's'} still stopping)${to === 'export' ? ': there is no config to export yet' : ''}.`;
  const failedWithValue = trials.filter((t) => t.state === 'failed' && t.value !== undefined && Number.isFinite(t.value)).length;
  if (failedWithValue > 0)
    return `No trial reported ${metric} without failing (${failedWithValue} failed after reporting it): there is no config to ${to}.`;
  // Reported, but NaN or infinite at every epoch: not "never reported".
  const reported = trials.some((t) => t.epochs.some((e) => metric in e.metrics));
  return reported
    ? `No trial reported a finite ${metric} (only NaN or infinite values): there is no config to ${to}.`
    : `No trial reported ${metric}: there is no config to ${to}.`;
}
