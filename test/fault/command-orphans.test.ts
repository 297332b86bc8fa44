import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { liveMembers, signalGroup } from '../../packages/trainer/src/command/process-group.ts';
import { type DaemonProcess, startDaemonProcess } from '../support/daemon-process.ts';
import { eventually, submitStudy } from './harness.ts';

// `sweepd up` is killed with -9 while a command trial runs. Nothing stops the trial's script then:
// it goes on training (on a GPU, holding its memory) beside the run the restarted daemon starts.
// The restarted daemon's worker ends it before it takes a trial.
const SCRIPT = [
  'import json, os, time',
  'for epoch in range(1, 61):',
  '    time.sleep(0.5)',
  '    with open(os.environ["SWEEPD_METRICS_FILE"], "a") as f:',
  '        f.write(json.dumps({"sweepd": 1, "epoch": epoch, "metrics": {"val_auc_macro": 0.5 + epoch / 200}}) + "\\n")',
].join('\n');

const spec = {
  name: 'fault-command-orphans',
  objective: { metric: 'val_auc_macro', direction: 'maximize' },
  space: { learning_rate: { type: 'float', low: 1e-4, high: 1e-2, log: true } },
  strategy: { name: 'random', options: { seed: 1 } },
  budget: { max_trials: 1, max_epochs: 60, parallelism: 1 },
  trainer: { runner: 'command', options: { command: ['python3', '-c', SCRIPT], args: 'none', term_grace_s: 0.5 } },
};

let first: DaemonProcess | undefined;
let second: DaemonProcess | undefined;
let orphan: number | undefined;
afterAll(async () => {
  await second?.stop();
  if (orphan !== undefined) signalGroup(orphan, 'SIGKILL');
});

describe('fault: the daemon is killed (-9) while a command trial runs', () => {
  it("the restarted daemon ends the trial's processes the first left running, and says so", async () => {
    first = await startDaemonProcess({ args: ['--workers', '1'] });
    const dataDir = first.dataDir;
    await submitStudy(first.url, spec);
    const trialsDir = path.join(dataDir, 'trials');
    // The trial's script runs: its group is recorded in its directory.
    const record = await eventually(
      async () => {
        const dirs = existsSync(trialsDir) ? readdirSync(trialsDir) : [];
        const file = dirs.map((d) => path.join(trialsDir, d, '.sweepd-group.json')).find((f) => existsSync(f));
        return file ? (JSON.parse(readFileSync(file, 'utf8')) as { pgid: number }) : undefined;
      },
      30_000,
      'the trial to start',
    );
    orphan = record.pgid;
    await first.stop('SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    expect(liveMembers(record.pgid).length, 'the script outlives its killed daemon').toBeGreaterThan(0);

    second = await startDaemonProcess({ args: ['--workers', '1'], dataDir });
    const d = second;
    await eventually(async () => (liveMembers(record.pgid).length === 0 ? true : undefined), 15_000, 'the orphan to end');
    expect(d.logs()).toMatch(
      new RegExp(`ended trial tr_[\\w-]+'s processes \\(group ${record.pgid}, SIGTERM[^)]*\\): its worker \\(pid \\d+\\) is gone`),
    );
  }, 90_000);
});
