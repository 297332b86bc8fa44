import { describe, expect, it } from 'vitest';
import { useTestApp } from './test-app.ts';

const api = useTestApp();

const spec = `
name: diagnosis
objective: { metric: val_auc_macro, direction: maximize }
space: { learning_rate: { type: float, low: 1.0e-6, high: 1.0e-1, log: true } }
fixed: { optimizer: rmsprop }
strategy: { name: random, options: { seed: 5 } }
budget: { max_trials: 2, max_epochs: 3, parallelism: 2 }
trainer: { runner: tfjs, dataset: synthetic }
`;

describe('GET /v1/studies/:id/trials/:n diagnosis', () => {
  it("answers the server's diagnosis: static kernels with a rising AUC are not stalled", async () => {
    const created = (await (
      await api.app.request('/v1/studies', { method: 'POST', body: spec, headers: { 'content-type': 'application/yaml' } })
    ).json()) as { id: string };
    const [a, b] = await api.store.listTrials(created.id);
    if (!a || !b) throw new Error('expected two trials');
    const layers = (k: number, ratio: number) => [
      { layer: 'conv3', trainable: true, kernelMovement: k, updateRatio: ratio, biasMovement: 0.01 },
      { layer: 'logits', trainable: true, kernelMovement: 2 * k, updateRatio: 2 * ratio, biasMovement: 0.02 },
    ];
    await api.store.recordEpochs(
      [
        ...[0.62, 0.81, 0.9].map((auc, i) => ({
          trialId: a.id,
          epoch: i + 1,
          metrics: { val_auc_macro: auc },
          layers: layers(0.002 * (i + 1), 5e-5),
        })),
        ...[0.7, 0.75, 0.78].map((auc, i) => ({
          trialId: b.id,
          epoch: i + 1,
          metrics: { val_auc_macro: auc },
          layers: layers(0.1 * (i + 1), 0.05),
        })),
      ],
      { metric: 'val_auc_macro', direction: 'maximize' },
    );
    const trial = (await (await api.app.request(`/v1/studies/${created.id}/trials/${a.number}`)).json()) as {
      diagnosis: { verdict: string; summary: string; evidence: string[]; advice: string };
    };
    expect(trial.diagnosis.verdict).toBe('static-kernels-but-learning');
    expect(trial.diagnosis.summary).toContain('0.62 → 0.9');
    expect(trial.diagnosis.evidence.join(' ')).toMatch(/ranks 1 of 2 rmsprop trials/);
    const peer = (await (await api.app.request(`/v1/studies/${created.id}/trials/${b.number}`)).json()) as {
      diagnosis: { verdict: string };
    };
    expect(peer.diagnosis.verdict).toBe('healthy');
  });
});
