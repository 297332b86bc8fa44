import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DaemonProcess, startDaemonProcess, waitFor } from '../support/daemon-process.ts';

// The embedded default end to end: `sweepd up` as its own process (PGlite, local bus, trainer
// processes), a small real fine-tuning study submitted over HTTP, then leaderboard and export.
const spec = {
  name: 'e2e-small',
  objective: { metric: 'val_auc_macro', direction: 'maximize' },
  space: {
    learning_rate: { type: 'float', low: 1e-4, high: 3e-2, log: true },
    optimizer: { type: 'categorical', choices: ['sgd', 'adam'] },
    frozen_layers: { type: 'int', low: 2, high: 4 },
  },
  fixed: { batch_size: 32 },
  strategy: { name: 'random', options: { seed: 11 } },
  budget: { max_trials: 4, max_epochs: 2, parallelism: 2 },
  trainer: { runner: 'tfjs', dataset: 'synthetic', options: { dataset_options: { classes: 5, train_size: 192, val_size: 96 } } },
};

interface Row {
  rank: number | null;
  number: number;
  state: string;
  value: number | null;
  reason: string | null;
  params: Record<string, unknown>;
}

describe('embedded daemon, end to end', () => {
  let daemon: DaemonProcess;
  beforeAll(async () => {
    daemon = await startDaemonProcess({ args: ['--workers', '2'] });
  }, 60_000);
  afterAll(async () => {
    expect(await daemon?.stop()).toBe(0);
  });

  it('runs a submitted study to completion and exports the best trial', async () => {
    const res = await fetch(`${daemon.url}/v1/studies`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(spec),
    });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };

    const state = await waitFor(
      async () => {
        const s = (await (await fetch(`${daemon.url}/v1/studies/${id}`)).json()) as { state: string };
        return s.state === 'running' ? undefined : s.state;
      },
      240_000,
      'the study to finish',
    );
    expect(state, daemon.logs()).toBe('completed');

    const board = (await (await fetch(`${daemon.url}/v1/studies/${id}/leaderboard`)).json()) as { rows: Row[] };
    expect(board.rows).toHaveLength(spec.budget.max_trials);
    for (const row of board.rows) {
      expect(row.state, row.reason ?? '').toBe('completed');
      expect(Number.isFinite(row.value)).toBe(true);
      expect(row.value).toBeGreaterThan(0);
      expect(row.value).toBeLessThanOrEqual(1);
    }
    const trial = (await (await fetch(`${daemon.url}/v1/studies/${id}/trials/${board.rows[0]?.number}`)).json()) as {
      epochs: { metrics: Record<string, number>; layers: { layer: string }[] }[];
    };
    expect(trial.epochs).toHaveLength(spec.budget.max_epochs);
    expect(Object.keys(trial.epochs[0]?.metrics ?? {})).toEqual(
      expect.arrayContaining(['val_auc_macro', 'val_auc_micro', 'train_loss', 'val_loss']),
    );
    expect(trial.epochs[0]?.layers.length).toBeGreaterThan(0);

    const exported = (await (await fetch(`${daemon.url}/v1/studies/${id}/export?format=json`)).json()) as {
      trial: number;
      config: Record<string, unknown>;
    };
    expect(exported.trial).toBe(board.rows[0]?.number);
    expect(exported.config).toEqual({ ...spec.fixed, ...board.rows[0]?.params });
  }, 300_000);
});
