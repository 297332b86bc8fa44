import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DaemonProcess, REPO_ROOT, startDaemonProcess, waitFor } from '../support/daemon-process.ts';

// Every spec shipped in examples/ is submitted as a user would (the file's text, over HTTP, to a
// real daemon): each must be accepted, and its first trial must get through setup to an epoch.
// A spec that cannot run must be refused at submit, never accepted and then failed trial by trial.

function specFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return specFiles(full);
    return /\.ya?ml$/.test(e.name) ? [full] : [];
  });
}

interface TrialRow {
  number: number;
  state: string;
  reason: string | null;
  epoch?: number | null;
}

const examples = specFiles(path.join(REPO_ROOT, 'examples'));

describe('the shipped examples', () => {
  let daemon: DaemonProcess;
  beforeAll(async () => {
    daemon = await startDaemonProcess({ args: ['--workers', '1'], timeoutMs: 120_000 });
  }, 150_000);
  afterAll(async () => {
    expect(await daemon?.stop()).toBe(0);
  });

  it('include the quickstart, the practitioner’s search and a spec for each runner', () => {
    const names = examples.map((f) => path.relative(REPO_ROOT, f));
    expect(names).toEqual(expect.arrayContaining(['examples/quickstart.yaml', 'examples/inception-finetune.yaml']));
  });

  it.each(examples.map((f) => [path.relative(REPO_ROOT, f), f]))(
    '%s is accepted and its first trial trains',
    async (_name, file) => {
      const res = await fetch(`${daemon.url}/v1/studies`, {
        method: 'POST',
        headers: { 'content-type': 'application/yaml' },
        body: readFileSync(file, 'utf8'),
      });
      const body = (await res.json()) as { id?: string; problems?: unknown };
      expect(res.status, JSON.stringify(body.problems)).toBe(201);
      const id = body.id as string;
      try {
        const first = await waitFor(
          async () => {
            const board = (await (await fetch(`${daemon.url}/v1/studies/${id}/leaderboard`)).json()) as { rows: TrialRow[] };
            const failed = board.rows.find((r) => r.state === 'failed');
            if (failed) return failed;
            for (const row of board.rows) {
              const trial = (await (await fetch(`${daemon.url}/v1/studies/${id}/trials/${row.number}`)).json()) as { epochs: unknown[] };
              if (trial.epochs.length > 0) return row;
            }
            return undefined;
          },
          240_000,
          `a trial of ${file} to report an epoch`,
        );
        expect(first.state, `${first.reason}\n${daemon.logs().slice(-3000)}`).not.toBe('failed');
      } finally {
        await fetch(`${daemon.url}/v1/studies/${id}/stop`, { method: 'POST' });
      }
    },
    300_000,
  );
});
