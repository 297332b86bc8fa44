import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { commandUsage, USAGE } from './usage.ts';

describe('commandUsage', () => {
  it('gives a command its own lines of the table, continuation lines included, and the footer', () => {
    const up = commandUsage('up') as string;
    expect(up).toMatch(/^usage: sweepd up \[options\]\n\n {2}up {10}start the daemon/);
    expect(up).toContain('--database-url postgres://');
    expect(up).toContain('--log-level debug|info|warn|error');
    expect(up).not.toContain('join a NATS worker pool');
    expect(up).toContain('Exit codes:');
    const worker = commandUsage('worker') as string;
    expect(worker).toContain('--nats URL (or --nats-url) [--pool NAME] [--concurrency N]');
    expect(worker).not.toContain('start the daemon');
    expect(commandUsage('export')).toMatch(/^usage: sweepd export ID \[--format json\|yaml\|flags\|env\]\n/);
    expect(commandUsage('stop')).toMatch(/^usage: sweepd stop ID \[TRIAL\]\n/);
    expect(commandUsage('submit')).toMatch(/^usage: sweepd submit FILE \[--watch\]\n/);
  });

  it("names pretrain's --image-size and what the worker reads from the environment", () => {
    expect(commandUsage('pretrain')).toContain('--image-size N');
    const footer = USAGE.slice(USAGE.indexOf('Exit codes:'));
    const forUpAndWorker = footer.slice(footer.indexOf('For up and worker:'), footer.indexOf('For worker:'));
    for (const name of ['SWEEPD_NATS_URL', 'SWEEPD_NATS_TOKEN', 'SWEEPD_LOG_LEVEL', 'SWEEPD_NATS_PREFIX'])
      expect(forUpAndWorker, name).toContain(name);
  });

  it('knows no command the table does not name, nor a part of a name', () => {
    expect(commandUsage('nope')).toBeUndefined();
    expect(commandUsage('u')).toBeUndefined();
    expect(commandUsage(' ')).toBeUndefined();
    expect(commandUsage('')).toBeUndefined();
    expect(USAGE.startsWith('usage: sweepd <command> [options]')).toBe(true);
  });

  it('names every command the CLI runs', () => {
    const source = readFileSync(new URL('./commands.ts', import.meta.url), 'utf8');
    const commands = [...source.matchAll(/^ {4}case '([a-z]+)':/gm)].map((m) => m[1] as string);
    expect(commands).toContain('leaderboard');
    for (const command of commands) expect(commandUsage(command), command).toBeDefined();
  });
});
