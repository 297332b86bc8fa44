import { readFileSync } from 'node:fs';
import type { EpochRecord, StoppingRule, TrialView } from '@sweepd/core';
import { METRIC } from './test-histories.ts';

/** A study recorded by fixtures/optuna-halving.py: Optuna's pruning decision at every report. */
export interface RecordedStudy {
  kind: 'sha' | 'hyperband';
  seed: number;
  direction: 'maximize' | 'minimize';
  max_epochs: number;
  options: { grace: number; eta: number; s?: number };
  brackets: Record<string, number>;
  events: Array<{ trial: number; epoch: number; value: number | null; prune: boolean }>;
}

export function loadRecordedStudies(): RecordedStudy[] {
  const url = new URL('./fixtures/optuna-halving.json', import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { studies: RecordedStudy[] }).studies;
}

/**
 * Replays a recorded study through `rule` in the same order of reports; returns every event where
 * the rule and Optuna disagree (empty when they agree everywhere) and how many prunes there were.
 */
export function replay(study: RecordedStudy, rule: StoppingRule): { mismatches: string[]; prunes: number } {
  const epochs = new Map<number, EpochRecord[]>();
  const states = new Map<number, TrialView['state']>();
  const view = (n: number): TrialView => {
    const bracket = study.brackets[String(n)];
    return {
      id: `t${n}`,
      number: n,
      params: {},
      state: states.get(n) ?? 'running',
      epochs: epochs.get(n) ?? [],
      ...(bracket !== undefined ? { tags: { bracket } } : {}),
    };
  };
  const mismatches: string[] = [];
  let prunes = 0;
  for (const event of study.events) {
    const list = epochs.get(event.trial) ?? [];
    list.push({ epoch: event.epoch, metrics: { [METRIC]: event.value ?? Number.NaN }, layers: [] });
    epochs.set(event.trial, list);
    const peers = [...epochs.keys()].filter((n) => n !== event.trial).map(view);
    const decision = event.epoch < study.max_epochs ? rule.decide(view(event.trial), peers) : { stop: false };
    if (decision.stop !== event.prune) {
      mismatches.push(
        `trial ${event.trial} epoch ${event.epoch}: optuna ${event.prune ? 'prunes' : 'keeps'}, rule says ${JSON.stringify(decision)}`,
      );
    }
    if (event.prune) {
      prunes++;
      states.set(event.trial, 'stopped');
    } else if (event.epoch === study.max_epochs) states.set(event.trial, 'completed');
  }
  return { mismatches, prunes };
}
