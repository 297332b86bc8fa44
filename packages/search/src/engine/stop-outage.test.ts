import { LocalBus, PluginRegistry, type StopScope } from '@sweepd/core';
import { openStore } from '@sweepd/core/store';
import { afterEach, describe, expect, it } from 'vitest';
import { curveRunner, startEngine, until, walkStrategy } from './engine.test-helpers.ts';

/**
 * A bus whose stops fail while `down` (NATS away for longer than a publish waits), or, with `hang`,
 * wait until it is back (a publish still retrying), and are counted when they go out.
 */
class OutageBus extends LocalBus {
  down = true;
  hang = false;
  readonly sent: string[] = [];
  override async stop(trialId: string, reason: string, scope?: StopScope): Promise<void> {
    while (this.down && this.hang) await new Promise((r) => setTimeout(r, 50));
    if (this.down) throw new Error('publish to stops failed after 11 attempt(s): timeout');
    this.sent.push(trialId);
    return super.stop(trialId, reason, scope);
  }
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

/** Two trials of 100 ms epochs, both reporting, on a bus still up; `maxEpochs` of them unless stopped. */
async function twoRunningTrials(maxEpochs: number) {
  const store = await openStore({ dataDir: 'memory://' });
  const bus = new OutageBus();
  bus.down = false;
  const registry = new PluginRegistry().register(walkStrategy());
  const { engine, close } = await startEngine(store, registry, curveRunner(100), bus);
  cleanups.push(async () => {
    await close();
    await store.close();
  });
  const study = await engine.submit(
    JSON.stringify({
      name: 'stop-outage',
      objective: { metric: 'val_auc_macro', direction: 'maximize' },
      space: { learning_rate: { type: 'float', low: 1e-8, high: 1, log: true } },
      strategy: { name: 'walk' },
      budget: { max_trials: 2, max_epochs: maxEpochs, parallelism: 2 },
      trainer: { runner: 'test' },
    }),
  );
  await until(async () => (await store.listTrials(study.id)).filter((t) => t.epochs.length > 0).length === 2);
  return { store, bus, engine, study };
}

describe('a stop while the bus refuses it', () => {
  it('is stored, answered at once, and sent once the bus is back: the trials stop instead of training to the end', async () => {
    // 40 epochs of 100 ms: 4 s a trial, unless stopped.
    const { store, bus, engine, study } = await twoRunningTrials(40);
    bus.down = true;
    const asked = Date.now();
    expect(await engine.stopStudy(study.id, 'stopped by user')).toBe(true);
    // Both trials' stops stored and answered, though neither went out.
    expect(Date.now() - asked).toBeLessThan(4_000);
    expect((await store.getStudy(study.id))?.state).toBe('stopped');
    expect((await store.listTrials(study.id)).map((t) => t.reason)).toEqual(['stopped by user', 'stopped by user']);
    expect(bus.sent).toEqual([]);
    bus.down = false;
    await until(async () => (await store.listTrials(study.id)).every((t) => t.state === 'stopped'), 10_000);
    const trials = await store.listTrials(study.id);
    expect(bus.sent.length).toBe(2);
    for (const t of trials) expect(t.epochs.length).toBeLessThan(40);
  });

  it('waits a few seconds for a publish that hangs, for all its trials at once, then answers; the stops go out once the bus is back', async () => {
    const { store, bus, engine, study } = await twoRunningTrials(200);
    bus.down = true;
    bus.hang = true;
    const asked = Date.now();
    expect(await engine.stopStudy(study.id, 'stopped by user')).toBe(true);
    // One wait of about 5 s for both trials, not one after the other.
    const waited = Date.now() - asked;
    expect(waited).toBeGreaterThanOrEqual(4_500);
    expect(waited).toBeLessThan(9_000);
    bus.down = false;
    await until(async () => (await store.listTrials(study.id)).every((t) => t.state === 'stopped'), 10_000);
    expect(bus.sent.length).toBe(2);
    for (const t of await store.listTrials(study.id)) expect(t.epochs.length).toBeLessThan(200);
  });
});
