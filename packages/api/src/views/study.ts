import type { StudyRecord, StudySummary, TrialRecord, TrialState, TrialView } from '@sweepd/core';
import { type DiagnosisObjective, diagnoseTrial, learningRateParam } from '@sweepd/search';
import { studyAnswer } from './answer.ts';
import { bestConfig } from './export.ts';
import { paramColumns, withParamsInOrder } from './leaderboard.ts';
import type { SettledTrials } from './settled-trials.ts';
import { logsPlace } from './trial-logs.ts';

export type TrialCounts = Record<TrialState, number>;

export function countTrials(trials: readonly Pick<TrialView, 'state'>[]): TrialCounts {
  const counts: TrialCounts = { queued: 0, running: 0, completed: 0, stopped: 0, failed: 0 };
  for (const t of trials) counts[t.state]++;
  return counts;
}

/** A study with its counts and best config, as `GET /v1/studies/:id` answers it. */
export function studyView(study: StudyRecord, trials: readonly TrialRecord[]) {
  const best = bestConfig(study, trials);
  return {
    ...studyHeader(study, countTrials(trials)),
    best: best ? { trial: best.trial, value: best.objective.value, config: best.config } : null,
    answer: studyAnswer(study.spec, study.state, trials, paramColumns(study)),
    // The space's learning rate under whichever name it goes by (lr, base_lr, …), as the diagnoses read it.
    learningRateParam: learningRateParam(Object.keys(study.spec.space)) ?? null,
    // The space and the fixed values as written (the Store keeps the spec's order): a spec sent
    // back as it was echoed searches its parameters in the same order.
    spec: study.spec,
  };
}

/**
 * The trials a study's progress is out of: max_trials, or, once it completed, those it had (a grid
 * that ran out of points first completes with fewer). The list (sweepd ls) and the stream say the same.
 */
export function plannedTrials(state: string, maxTrials: number, trials: number): number {
  return state === 'completed' ? Math.max(1, trials) : maxTrials;
}

/** What every study answer starts with; the live leaderboard sends this part too. */
export function studyHeader(study: StudyRecord, counts: TrialCounts) {
  return {
    id: study.id,
    name: study.name,
    state: study.state,
    reason: study.reason ?? null,
    createdAt: study.createdAt,
    finishedAt: study.finishedAt ?? null,
    objective: study.spec.objective,
    budget: study.spec.budget,
    counts,
  };
}

export function summaryView(s: StudySummary) {
  return { ...studyHeader(s, s.counts), best: s.best ?? null };
}

/**
 * A trial as `GET /v1/studies/:id/trials/:n` answers it; with its study's objective and trials,
 * also its diagnosis (see diagnoseTrial in @sweepd/search), which compares it with those peers.
 */
export function trialView(
  t: TrialRecord,
  study?: { objective: DiagnosisObjective; peers: readonly TrialView[]; order?: readonly string[] },
) {
  // The spec's space as written, as everywhere else (paramColumns); the store keeps no order. The
  // diagnosis reads its peers in that order too, for the "with x=…, y=…" it names.
  const order = study?.order;
  const ordered = <T extends TrialView>(trial: T): T => withParamsInOrder(trial, order ?? []);
  return {
    study: t.studyId,
    number: t.number,
    state: t.state,
    value: t.value ?? null,
    reason: t.reason ?? null,
    params: ordered(t).params,
    tags: t.tags ?? {},
    worker: t.worker ?? null,
    attempt: t.attempt ?? null,
    createdAt: t.createdAt,
    startedAt: t.startedAt ?? null,
    finishedAt: t.finishedAt ?? null,
    notes: t.notes ?? {},
    logs: logsPlace(t),
    epochs: t.epochs,
    diagnosis: study ? diagnoseTrial(ordered(t), study.peers.map(ordered), study.objective) : null,
  };
}

/**
 * Views made from a settled study's kept trials, with the study record they were made with: the
 * same trials and record make the same view (1.4 s at 100,000 trials).
 */
const settledViews = new WeakMap<readonly TrialRecord[], { study: StudyRecord; view: ReturnType<typeof studyView> }>();

/** `study` as read before this call, its trials read through `settled` (kept once the study has settled). */
export async function loadStudyView(settled: SettledTrials, study: StudyRecord) {
  const trials = await settled.of(study);
  const kept = settledViews.get(trials);
  if (kept && sameRecord(kept.study, study)) return kept.view;
  const view = studyView(study, trials);
  // Trials read afresh (a running study) are never asked for again: their entry goes with them.
  settledViews.set(trials, { study, view });
  return view;
}

/** What of a study record its view shows besides the spec, which does not change. */
function sameRecord(a: StudyRecord, b: StudyRecord): boolean {
  return a.state === b.state && a.reason === b.reason && String(a.finishedAt) === String(b.finishedAt) && a.name === b.name;
}
