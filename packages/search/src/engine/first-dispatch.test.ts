import { LocalBus } from '@sweepd/core';
import { openStore } from '@sweepd/core/store';
import { describe, expect, it } from 'vitest';
import '../index.ts';
import { StudyEngine } from './engine.ts';

describe("a study's first dispatch", () => {
  it('a submit is answered while the bus cannot take the first jobs; they are sent once it can', async () => {
    const store = await openStore({ dataDir: 'memory://' });
    let release!: () => void;
    const away = new Promise<void>((resolve) => {
      release = resolve;
    });
    const bus = new LocalBus();
    const dispatch = bus.dispatch.bind(bus);
    let sent = 0;
    bus.dispatch = async (jobs) => {
      await away; // a broker that is down: the publish waits
      sent += jobs.length;
      return dispatch(jobs);
    };
    const engine = new StudyEngine({ store, bus });
    await engine.start();
    try {
      const started = Date.now();
      const study = await engine.submit(
        JSON.stringify({
          name: 'bus-away',
          objective: { metric: 'val_auc_macro', direction: 'maximize' },
          space: { learning_rate: { type: 'float', low: 1e-4, high: 1e-1, log: true } },
          fixed: { optimizer: 'adam' },
          budget: { max_trials: 2, max_epochs: 2, parallelism: 2 },
          trainer: { runner: 'simulate', options: { curve: 'lr_auc' } },
        }),
      );
      expect(Date.now() - started).toBeLessThan(5_000);
      expect((await store.getStudy(study.id))?.state).toBe('running');
      release();
      const deadline = Date.now() + 5_000;
      while (sent < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(sent).toBe(2);
    } finally {
      release();
      await engine.close();
      await store.close();
    }
  });
});
