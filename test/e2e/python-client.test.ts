/**
 * The Python client's and the PyTorch example's pytest suites, run for real with python3:
 * protocol files, AUC against scikit-learn, layer statistics against this repository's TypeScript
 * definitions (the fixture is regenerated from packages/core here, so the two cannot drift), the
 * Keras callback, TF1 RMSProp and finetune.py under a fake sweepd environment.
 * Fails when pytest fails, when nothing ran, or when anything was skipped.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const work = mkdtempSync(path.join(tmpdir(), 'sweepd-pyclient-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function pytest(paths: string[], env: Record<string, string> = {}): { passed: number; output: string } {
  const res = spawnSync('python3', ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', '-rs', ...paths], {
    cwd: repo,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 850_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = `${res.stdout}\n${res.stderr}`;
  if (res.error) throw new Error(`python3 -m pytest could not run: ${res.error.message}`);
  expect(res.status, output.slice(-4000)).toBe(0);
  const summary = /(\d+) passed/.exec(output);
  expect(summary, `no "N passed" in pytest's output:\n${output.slice(-2000)}`).not.toBeNull();
  expect(output, 'a Python test was skipped').not.toMatch(/\d+ skipped/);
  return { passed: Number(summary![1]), output };
}

describe('Python client (clients/python) and PyTorch example', () => {
  it('client tests pass, with layer statistics checked against a fixture regenerated from packages/core', { timeout: 900_000 }, () => {
    const fixture = path.join(work, 'weights-fixture.json');
    const gen = spawnSync(process.execPath, ['--import', 'tsx', 'clients/python/tests/fixtures/make_weights_fixture.ts', fixture], {
      cwd: repo,
      encoding: 'utf8',
    });
    expect(gen.status, gen.stderr).toBe(0);
    const { passed } = pytest(['clients/python/tests'], { SWEEPD_WEIGHTS_FIXTURE: fixture });
    expect(passed).toBeGreaterThanOrEqual(40);
  });

  it('finetune.py tests pass (TF1 RMSProp by hand, decay schedule, trials under a fake sweepd: feature cache, head-only, stops)', {
    timeout: 900_000,
  }, () => {
    const { passed } = pytest(['examples/pytorch/test_finetune.py']);
    expect(passed).toBeGreaterThanOrEqual(7);
  });
});
