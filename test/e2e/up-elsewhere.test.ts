import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, submitStudy } from '../fault/harness.ts';
import { type DaemonProcess, startDaemonProcess } from '../support/daemon-process.ts';

// A user starts `sweepd up` in their own project, not in sweepd's checkout: the trainer processes
// it forks must still find their TypeScript loader (they once looked for it from the cwd, and every
// trial failed with "trainer process died while starting").
const elsewhere = mkdtempSync(path.join(tmpdir(), 'sweepd-elsewhere-'));
let daemon: DaemonProcess | undefined;
afterAll(async () => {
  await daemon?.stop();
  rmSync(elsewhere, { recursive: true, force: true });
});

describe('sweepd up started outside the repository', () => {
  it('runs trials in its trainer processes', async () => {
    daemon = await startDaemonProcess({ args: ['--workers', '1'], cwd: elsewhere });
    const d = daemon;
    const id = await submitStudy(d.url, {
      name: 'elsewhere',
      objective: { metric: 'val_auc_macro', direction: 'maximize' },
      space: { learning_rate: { type: 'float', low: 1e-4, high: 1e-2, log: true }, optimizer: { type: 'categorical', choices: ['adam'] } },
      budget: { max_trials: 1, max_epochs: 2 },
      trainer: { runner: 'simulate', options: { curve: 'lr_auc' } },
    });
    const state = await eventually(
      async () => {
        const study = (await (await fetch(`${d.url}/v1/studies/${id}`)).json()) as { state: string };
        return study.state === 'running' ? undefined : study.state;
      },
      60_000,
      'the study to end',
    );
    expect(state, d.logs()).toBe('completed');
  }, 90_000);
});
