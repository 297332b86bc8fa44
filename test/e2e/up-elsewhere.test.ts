import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

// The user's own plugin, in their own directory: no package.json, no node_modules. It imports
// @sweepd/core and zod, the daemon's own (once, Node read it as CommonJS and failed with "Cannot
// require() ES Module … in a cycle", and neither package could be found from there).
const pluginDir = path.join(elsewhere, 'plugins');
mkdirSync(pluginDir);
writeFileSync(
  path.join(pluginDir, 'fixed-draws.ts'),
  `import { type Plugin, Rng } from '@sweepd/core';
import { z } from 'zod';

const options = z.strictObject({ seed: z.number().int() });
const plugin: Plugin<'strategy', z.output<typeof options>> = {
  kind: 'strategy',
  name: 'fixed-draws',
  parseOptions: (raw) => options.parse(raw),
  create: ({ seed }) => {
    const rng = new Rng(seed);
    return { async ask(_history, n) { return Array.from({ length: n }, () => ({ learning_rate: 10 ** (-4 + 2 * rng.next()) })); } };
  },
};
export default plugin;
`,
);

writeFileSync(
  path.join(pluginDir, 'plain-draws.js'),
  `import { Rng } from '@sweepd/core';
const rng = new Rng(5);
export default {
  kind: 'strategy',
  name: 'plain-draws',
  parseOptions: (raw) => raw,
  create: () => ({ async ask(_history, n) { return Array.from({ length: n }, () => ({ learning_rate: 10 ** (-4 + 2 * rng.next()) })); } }),
};
`,
);

const spec = (extra: Record<string, unknown> = {}) => ({
  name: 'elsewhere',
  objective: { metric: 'val_auc_macro', direction: 'maximize' },
  space: { learning_rate: { type: 'float', low: 1e-4, high: 1e-2, log: true } },
  fixed: { optimizer: 'adam' },
  budget: { max_trials: 1, max_epochs: 2 },
  trainer: { runner: 'simulate', options: { curve: 'lr_auc' } },
  ...extra,
});

async function endState(url: string, id: string): Promise<string> {
  return eventually(
    async () => {
      const study = (await (await fetch(`${url}/v1/studies/${id}`)).json()) as { state: string };
      return study.state === 'running' ? undefined : study.state;
    },
    60_000,
    'the study to end',
  );
}

describe('sweepd up started outside the repository', () => {
  it('runs trials in its trainer processes', async () => {
    daemon = await startDaemonProcess({ args: ['--workers', '1', '--plugin-dir', 'plugins'], cwd: elsewhere });
    const d = daemon;
    const id = await submitStudy(d.url, spec());
    expect(await endState(d.url, id), d.logs()).toBe('completed');
  }, 90_000);

  it("runs TypeScript and JavaScript plugins from the user's own directory, importing @sweepd/core and zod", async () => {
    const d = daemon as DaemonProcess;
    const plugin = { plugins: ['plugins/fixed-draws.ts'] };
    // Its options are checked by zod (the daemon's own): a bad one is named at its place in the spec.
    const refused = await fetch(`${d.url}/v1/studies`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(spec({ ...plugin, strategy: { name: 'fixed-draws', options: { seed: 'one' } } })),
    });
    const problems = ((await refused.json()) as { problems?: Array<{ path: string }> }).problems ?? [];
    expect([refused.status, problems.map((p) => p.path)], d.logs()).toEqual([400, ['strategy.options.seed']]);
    const id = await submitStudy(d.url, spec({ ...plugin, strategy: { name: 'fixed-draws', options: { seed: 3 } } }));
    expect(await endState(d.url, id), d.logs()).toBe('completed');
    // Plain JavaScript there is an ES module too.
    const js = await submitStudy(d.url, spec({ plugins: ['plugins/plain-draws.js'], strategy: { name: 'plain-draws' } }));
    expect(await endState(d.url, js), d.logs()).toBe('completed');
  }, 90_000);
});
