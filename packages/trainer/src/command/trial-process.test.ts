import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TrialProcess } from './trial-process.ts';

const root = mkdtempSync(path.join(tmpdir(), 'sweepd-trial-process-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('TrialProcess', () => {
  it('a log it cannot write (a full disk) is named with why, and the trial runs on', async () => {
    if (!existsSync('/dev/full')) throw new Error('/dev/full is missing: this test writes to it to play a full disk');
    const trialDir = path.join(root, 'full');
    rmSync(trialDir, { recursive: true, force: true });
    mkdirSync(trialDir);
    symlinkSync('/dev/full', path.join(trialDir, 'stdout.log'));
    const lines: string[] = [];
    const proc = await TrialProcess.start({
      argv: ['python3', '-c', 'print("@sweepd line"); print("x" * 100000)'],
      cwd: trialDir,
      env: process.env,
      trialDir,
      controlFile: path.join(trialDir, 'control.json'),
      stderrTailLines: 5,
      termGraceMs: 1_000,
      onStdoutLine: (l) => lines.push(l),
    });
    expect(await proc.ended).toEqual({ code: 0, signal: null });
    expect(lines[0]).toBe('@sweepd line');
    expect(proc.logErrors['stdout.log']).toMatch(/ENOSPC/);
    expect(proc.logErrors['stderr.log']).toBeUndefined();
  });
});

describe('TrialProcess.stop', () => {
  it('leaves no timer behind once the script has exited within its grace (a daemon told to stop would wait it out)', async () => {
    const trialDir = path.join(root, 'stop');
    mkdirSync(trialDir, { recursive: true });
    const controlFile = path.join(trialDir, 'control.json');
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const proc = await TrialProcess.start({
      // Exits as soon as the stop request is written, as a script that reads its control file does.
      argv: ['python3', '-c', `import os, time\nwhile not os.path.exists(${JSON.stringify(controlFile)}): time.sleep(0.02)`],
      cwd: trialDir,
      env: process.env,
      trialDir,
      controlFile,
      stderrTailLines: 5,
      termGraceMs: 1_000,
      onStdoutLine: () => {},
    });
    const started = Date.now();
    await proc.stop('test', 600_000);
    expect(await proc.ended).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(timers()).toBeLessThanOrEqual(before);
  });
});
