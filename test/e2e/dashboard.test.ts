import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DaemonProcess, REPO_ROOT, startDaemonProcess, waitFor } from '../support/daemon-process.ts';

// The dashboard in a real browser against `sweepd up` with a token: the token arrives once in the
// fragment, the study page fills from the live stream, the trial page draws a real tfjs run's
// layer statistics. Screenshots go to test/artifacts/ (not committed) for a person to look at.
const ARTIFACTS = path.join(REPO_ROOT, 'test/artifacts');
const TOKEN = 'dashboard-e2e-token';
const XSS = '<img src=x onerror="window.__xss=1">';
const auth = { authorization: `Bearer ${TOKEN}` };

const simulated = {
  name: 'dash-sim',
  objective: { metric: 'val_auc_macro', direction: 'maximize' },
  space: {
    learning_rate: { type: 'float', low: 1e-5, high: 1e-1, log: true },
    optimizer: { type: 'categorical', choices: ['sgd', 'adam', 'rmsprop'] },
    frozen_layers: { type: 'int', low: 0, high: 8 },
    note: { type: 'categorical', choices: [XSS] },
  },
  strategy: { name: 'random', options: { seed: 5 } },
  stopping: [{ name: 'median', options: { warmup_epochs: 2 } }],
  budget: { max_trials: 12, max_epochs: 6, parallelism: 3 },
  trainer: { runner: 'simulate', options: { curve: 'lr_auc', epoch_delay_ms: 20 } },
};

const trained = {
  name: 'dash-tfjs',
  objective: { metric: 'val_auc_macro', direction: 'maximize' },
  space: { learning_rate: { type: 'float', low: 1e-3, high: 3e-2, log: true }, optimizer: { type: 'categorical', choices: ['adam'] } },
  fixed: { batch_size: 32, frozen_layers: 2 },
  strategy: { name: 'random', options: { seed: 2 } },
  budget: { max_trials: 2, max_epochs: 2, parallelism: 1 },
  trainer: { runner: 'tfjs', dataset: 'synthetic', options: { dataset_options: { classes: 4, train_size: 128, val_size: 64 } } },
};

let daemon: DaemonProcess;
let browser: Browser;
let page: Page;
const ids: Record<string, string> = {};
/** Uncaught errors and console errors in the page; the 401s before the token is given are expected. */
const pageErrors: string[] = [];

async function submit(spec: object): Promise<string> {
  const res = await fetch(`${daemon.url}/v1/studies`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify(spec),
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

async function finished(id: string): Promise<string> {
  return waitFor(
    async () => {
      const s = (await (await fetch(`${daemon.url}/v1/studies/${id}`, { headers: auth })).json()) as { state: string };
      return s.state === 'running' ? undefined : s.state;
    },
    180_000,
    `study ${id} to finish`,
  );
}

// This package's TypeScript has no DOM types: in-page code is either JavaScript text (evaluate)
// or a function over globalThis typed as PageGlobals, the few page globals it touches (waitForFunction: a string there
// would need eval, which the dashboard's Content-Security-Policy rightly forbids).
interface PageGlobals {
  document: { querySelector(s: string): { textContent: string | null } | null };
  Chart: { instances: object };
}
interface ChartSeen {
  id: string;
  points: number;
  inked: number;
  xType: string | undefined;
  labels: string[];
}

/** Every Chart instance on the page: its point count, x-axis type, labels, and how many canvas pixels it drew. */
function chartsOnPage(p: Page): Promise<ChartSeen[]> {
  return p.evaluate(`Object.values(window.Chart.instances).map((c) => {
    const pixels = c.canvas.getContext('2d').getImageData(0, 0, c.canvas.width, c.canvas.height).data;
    let inked = 0;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) inked++;
    const points = c.data.datasets.reduce((n, d) => n + d.data.filter((v) => v !== null).length, 0);
    return { id: c.canvas.id, points, inked, xType: c.scales.x && c.scales.x.type, labels: (c.data.labels || []).map(String) };
  })`);
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  daemon = await startDaemonProcess({ args: ['--workers', '2'], env: { SWEEPD_API_TOKEN: TOKEN } });
  ids.sim = await submit(simulated);
  ids.tfjs = await submit(trained);
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') pageErrors.push(msg.text());
  });
}, 120_000);

afterAll(async () => {
  expect(pageErrors.filter((e) => !e.includes('401'))).toEqual([]);
  await browser?.close();
  expect(await daemon?.stop()).toBe(0);
});

describe('dashboard', () => {
  it('asks for the token, then lists the studies', async () => {
    await page.goto(`${daemon.url}/`);
    await page.waitForSelector('#token-form:not([hidden])');
    expect(await page.textContent('#app')).toContain('API token');
    await page.goto(`${daemon.url}/#token=${TOKEN}`);
    await page.waitForSelector('#studies');
    expect(page.url()).not.toContain(TOKEN);
    const names = await page.$$eval('#studies tbody tr td:first-child', (tds) => tds.map((td) => td.textContent));
    expect(names).toEqual(expect.arrayContaining(['dash-sim', 'dash-tfjs']));
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-studies.png'), fullPage: true });
  });

  it('shows the study live: leaderboard rows and the three search charts', async () => {
    await page.goto(`${daemon.url}/#/studies/${ids.sim}`);
    await page.waitForSelector('#leaderboard tbody tr');
    expect(await page.textContent('#live')).toContain('live');
    expect(await finished(ids.sim as string)).toBe('completed');
    await page.waitForFunction(
      () => (globalThis as unknown as PageGlobals).document.querySelector('.study-head .state')?.textContent === 'completed',
      undefined,
      { timeout: 10_000 },
    );
    const rows = await page.$$eval('#leaderboard tbody tr', (trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')),
    );
    expect(rows).toHaveLength(simulated.budget.max_trials);
    expect(rows[0]?.[0]).toBe('1');
    // User-controlled text is shown as text, never run as markup.
    expect(rows.every((r) => r.includes(XSS))).toBe(true);
    expect(await page.evaluate('window.__xss')).toBeUndefined();
    expect(await page.$$('#leaderboard img')).toHaveLength(0);

    const charts = await chartsOnPage(page);
    expect(charts.map((c) => c.id).sort()).toEqual(['chart-frozen', 'chart-history', 'chart-lr']);
    for (const c of charts) {
      expect(c.points, c.id).toBeGreaterThanOrEqual(simulated.budget.max_trials);
      expect(c.inked, c.id).toBeGreaterThan(1000);
    }
    expect(charts.find((c) => c.id === 'chart-lr')?.xType).toBe('logarithmic');
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-study.png'), fullPage: true });
  }, 200_000);

  it('shows a trained trial: curves, per-class AUC, weight movement, quantile bands, sparsity and the diagnosis', async () => {
    expect(await finished(ids.tfjs as string)).toBe('completed');
    await page.goto(`${daemon.url}/#/studies/${ids.tfjs}/trials/0`);
    await page.waitForSelector('#diagnostics li');
    await page.waitForFunction(() => Object.keys((globalThis as unknown as PageGlobals).Chart.instances).length === 6);
    const charts = await chartsOnPage(page);
    expect(charts.map((c) => c.id).sort()).toEqual([
      'chart-bias',
      'chart-classes',
      'chart-curves',
      'chart-histogram',
      'chart-kernel',
      'chart-sparsity',
    ]);
    for (const c of charts) {
      expect(c.points, c.id).toBeGreaterThan(0);
      expect(c.inked, c.id).toBeGreaterThan(1000);
    }
    const classes = charts.find((c) => c.id === 'chart-classes')?.labels;
    const undefinedClasses = (await page.textContent('#auc-undefined')) ?? '';
    // Every class is either a bar or named as having no AUC.
    const missing = undefinedClasses.startsWith('No AUC') ? (undefinedClasses.split(':')[1]?.split(',').length ?? 0) : 0;
    expect((classes?.length ?? 0) + missing).toBe(4);
    expect(await page.$$eval('#layer-select option', (o) => o.length)).toBeGreaterThan(0);
    const flags = await page.$$eval('#diagnostics li', (lis) => lis.map((li) => li.getAttribute('data-flag')));
    expect(flags.length).toBeGreaterThan(0);
    expect(await page.textContent('#params')).toContain('learning_rate');
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-trial.png'), fullPage: true });
  }, 200_000);
});
