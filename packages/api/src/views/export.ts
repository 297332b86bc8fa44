import { stringify as toYaml } from 'yaml';
import type { ParamValue, SearchSpec, TrialRecord } from '@sweepd/core';
import { configOrder, inOrder, leaderboard } from './leaderboard.ts';

export const EXPORT_FORMATS = ['json', 'yaml', 'flags', 'env'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface BestConfig {
  study: string;
  trial: number;
  objective: { metric: string; direction: string; value: number };
  /** The spec's fixed values with the trial's searched ones over them: the full training config. */
  config: Record<string, ParamValue>;
}

/** The best trial's full config (searched parameters in the spec's order, then the fixed ones), or undefined while no trial has a value. */
export function bestConfig(
  study: { id: string; spec: SearchSpec; specText?: string },
  trials: readonly TrialRecord[],
): BestConfig | undefined {
  const { spec } = study;
  const top = leaderboard(trials, spec)[0];
  if (!top || top.rank === null || top.value === null) return undefined;
  return {
    study: study.id,
    trial: top.number,
    objective: { ...spec.objective, value: top.value },
    config: inOrder({ ...spec.fixed, ...top.params }, configOrder(study)),
  };
}

/** Renders a best config; `flags` are TF-slim command-line flags, `env` shell assignments. */
export function renderBestConfig(best: BestConfig, format: ExportFormat): { body: string; contentType: string } {
  switch (format) {
    case 'json':
      return { body: `${JSON.stringify(best, null, 2)}\n`, contentType: 'application/json' };
    case 'yaml':
      return { body: toYaml(best), contentType: 'application/yaml' };
    case 'flags':
      return {
        // Booleans as the command runner passes them (`--name` / `--noname`): argparse's store_true
        // refuses `--name=true`, and absl takes both forms.
        body: `${Object.entries(best.config)
          .map(([k, v]) => (typeof v === 'boolean' ? (v ? `--${k}` : `--no${k}`) : `--${k}=${shellQuote(String(v))}`))
          .join(' ')}\n`,
        contentType: 'text/plain',
      };
    case 'env':
      return {
        body: Object.entries(best.config)
          .map(([k, v]) => `${k.toUpperCase()}=${shellQuote(String(v))}\n`)
          .join(''),
        contentType: 'text/plain',
      };
  }
}

function shellQuote(text: string): string {
  return /^[A-Za-z0-9_.,:+\-/=]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}
