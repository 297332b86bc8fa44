import { describe, expect, it } from 'vitest';
import { useTestApp } from './test-app.ts';

const api = useTestApp();

const spec = `
name: answer
objective: { metric: val_auc_macro, direction: maximize }
space:
  optimizer: { type: categorical, choices: [rmsprop, adam] }
  learning_rate: { type: float, low: 1.0e-8, high: 1.0e-1, log: true }
baseline: { optimizer: rmsprop, learning_rate: 0.01 }
fixed: { batch_size: 32 }
strategy: { name: random, options: { seed: 3 } }
budget: { max_trials: 2, max_epochs: 3, parallelism: 2 }
trainer: { runner: tfjs, dataset: synthetic }
`;

interface Answer {
  best: { trial: number; value: number } | null;
  baseline?: { trial: number; params: Record<string, unknown>; value: number | null; diagnosis: { verdict: string; summary: string } };
  margin?: number;
  changes: { param: string; from: unknown; to: unknown }[];
  verdict: string;
}

describe('GET /v1/studies/:id answer', () => {
  it('leads with the best against the baseline (trial 0), its margin, the changes and the baseline’s diagnosis', async () => {
    const created = (await (
      await api.app.request('/v1/studies', { method: 'POST', body: spec, headers: { 'content-type': 'application/yaml' } })
    ).json()) as { id: string; answer: Answer };
    expect(created.answer.verdict).toBe('Your config runs first (trial 0); no trial has reported val_auc_macro yet.');
    const [baseline, other] = await api.store.listTrials(created.id);
    if (!baseline || !other) throw new Error('expected two trials');
    expect(baseline.tags).toEqual({ baseline: true });
    expect(baseline.params).toEqual({ optimizer: 'rmsprop', learning_rate: 0.01 });
    const layers = [{ layer: 'conv3', trainable: true, kernelMovement: 0.004, updateRatio: 1e-4, biasMovement: 0.02 }];
    await api.store.recordEpochs(
      [
        ...[0.7, 0.8, 0.85].map((auc, i) => ({ trialId: baseline.id, epoch: i + 1, metrics: { val_auc_macro: auc }, layers })),
        ...[0.72, 0.84, 0.9].map((auc, i) => ({ trialId: other.id, epoch: i + 1, metrics: { val_auc_macro: auc }, layers })),
      ],
      { metric: 'val_auc_macro', direction: 'maximize' },
    );
    const res = await api.app.request(`/v1/studies/${created.id}`);
    expect(res.status).toBe(200);
    const { answer } = (await res.json()) as { answer: Answer };
    expect(answer.best?.trial).toBe(1);
    expect(answer.baseline).toMatchObject({ trial: 0, value: 0.85, params: { optimizer: 'rmsprop', learning_rate: 0.01 } });
    expect(answer.margin).toBeCloseTo(0.05, 12);
    expect(answer.changes.map((c) => c.param)).toContain('learning_rate');
    expect(answer.verdict).toMatch(/^So far: change to .*learning_rate=.*: val_auc_macro 0\.9 against your config's 0\.85 \(\+0\.05\)\.$/);
    // Static kernels with a rising AUC: the baseline's diagnosis does not call it stalled.
    expect(answer.baseline?.diagnosis.verdict).toBe('static-kernels-but-learning');
    // The leaderboard marks the baseline row among the ranked ones.
    const board = (await (await api.app.request(`/v1/studies/${created.id}/leaderboard`)).json()) as {
      rows: { number: number; rank: number; baseline: boolean }[];
    };
    expect(board.rows.map((r) => [r.number, r.rank, r.baseline])).toEqual([
      [1, 1, false],
      [0, 2, true],
    ]);
  });

  it('documents the answer in /openapi.json', async () => {
    const doc = (await (await api.app.request('/openapi.json')).json()) as { components: { schemas: Record<string, unknown> } };
    expect(Object.keys(doc.components.schemas)).toContain('Answer');
  });

  it("export carries the answer's caveat beside a best that diverged: in the JSON, as a comment in env, in a header for every format", async () => {
    const created = (await (
      await api.app.request('/v1/studies', {
        method: 'POST',
        body: spec.replace('name: answer', 'name: caveat'),
        headers: { 'content-type': 'application/yaml' },
      })
    ).json()) as { id: string };
    const [baseline, other] = await api.store.listTrials(created.id);
    if (!baseline || !other) throw new Error('expected two trials');
    await api.store.recordEpochs(
      [
        ...[0.6, 0.68, 0.7].map((auc, i) => ({ trialId: baseline.id, epoch: i + 1, metrics: { val_auc_macro: auc }, layers: [] })),
        ...[0.97, Number.NaN, Number.NaN].map((auc, i) => ({
          trialId: other.id,
          epoch: i + 1,
          metrics: { val_auc_macro: auc },
          layers: [],
        })),
      ],
      { metric: 'val_auc_macro', direction: 'maximize' },
    );
    const json = await api.app.request(`/v1/studies/${created.id}/export?format=json`);
    const body = (await json.json()) as { trial: number; caveat?: string };
    expect(body.trial).toBe(1);
    expect(body.caveat).toMatch(/^But trial 1's own diagnosis: Diverged \(val_auc_macro is NaN at epoch 2\)/);
    expect(decodeURIComponent(json.headers.get('sweepd-caveat') ?? '')).toBe(body.caveat);
    const flags = await api.app.request(`/v1/studies/${created.id}/export?format=flags`);
    expect(decodeURIComponent(flags.headers.get('sweepd-caveat') ?? '')).toBe(body.caveat);
    expect((await (await api.app.request(`/v1/studies/${created.id}/export?format=env`)).text()).split('\n')[0]).toBe(`# ${body.caveat}`);
  });
});
