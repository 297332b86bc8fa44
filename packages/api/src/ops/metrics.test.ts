import { EventEmitter } from 'node:events';
import { parseSpecText } from '@sweepd/core';
import { openStore } from '@sweepd/core/store';
import type { EngineEvent } from '@sweepd/search';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonMetrics } from './metrics.ts';

const text = JSON.stringify({
  name: 'metrics-test',
  objective: { metric: 'val_auc_macro', direction: 'maximize' },
  space: { learning_rate: { type: 'float', low: 1e-5, high: 1e-1, log: true } },
  budget: { max_trials: 2, max_epochs: 1 },
  trainer: { runner: 'simulate' },
});

describe('DaemonMetrics', () => {
  let store: Awaited<ReturnType<typeof openStore>>;
  beforeAll(async () => {
    store = await openStore({ dataDir: 'memory://' });
  });
  afterAll(() => store.close());

  it('counts studies in every state, failed ones included, and 0 for a state no study is in', async () => {
    const events = new EventEmitter<{ change: [EngineEvent] }>();
    const metrics = new DaemonMetrics({ store, events, workers: 2, sseClients: () => 1 });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await store.createStudy({ spec: parseSpecText(text), specText: text })).id);
    await store.setStudyState(ids[0] as string, 'failed', 'all 2 trials failed: dataset imagenet not found');
    await store.setStudyState(ids[1] as string, 'completed');
    await store.createTrials(ids[2] as string, [{ params: { learning_rate: 0.01 } }]);
    events.emit('change', { studyId: ids[2] as string, type: 'trial-created', trialNumber: 0 });
    events.emit('change', { studyId: ids[2] as string, type: 'trial-started', trialNumber: 0 });
    const out = await metrics.render();
    metrics.close();
    expect(out).toMatch(/^sweepd_studies\{state="failed"\} 1$/m);
    expect(out).toMatch(/^sweepd_studies\{state="completed"\} 1$/m);
    expect(out).toMatch(/^sweepd_studies\{state="running"\} 1$/m);
    expect(out).toMatch(/^sweepd_studies\{state="stopped"\} 0$/m);
    expect(out).toMatch(/^sweepd_trials\{state="queued"\} 1$/m);
    expect(out).toMatch(/^sweepd_queue_depth 1$/m);
    expect(out).toMatch(/^sweepd_workers 2$/m);
    expect(out).toMatch(/^sweepd_sse_clients 1$/m);
    expect(out).toMatch(/^sweepd_dispatch_latency_seconds_count 1$/m);
    expect(out).toMatch(/^sweepd_dispatch_latency_seconds_bucket\{le="\+Inf"\} 1$/m);
  });
});
