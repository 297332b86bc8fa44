import { afterEach, describe, expect, it, vi } from 'vitest';
import { runCommand, UsageError } from './commands.ts';

/** The usage error a command line ends with, before any request is made. */
async function usageError(command: string, args: string[]): Promise<string> {
  const fetch = vi.fn();
  vi.stubGlobal('fetch', fetch);
  const api = command === 'worker' ? [] : ['--api', 'http://127.0.0.1:9'];
  const err = await runCommand(command, [...args, ...api]).catch((e: unknown) => e);
  expect(fetch).not.toHaveBeenCalled();
  expect(err).toBeInstanceOf(UsageError);
  return (err as UsageError).message;
}

/** The path and query a command line asks the daemon for (answered 404: nothing is printed). */
async function requested(command: string, args: string[]): Promise<string> {
  const urls: string[] = [];
  vi.stubGlobal('fetch', async (url: URL) => {
    urls.push(`${url.pathname}${url.search}`);
    return Response.json({ error: 'no study' }, { status: 404 });
  });
  await runCommand(command, [...args, '--api', 'http://127.0.0.1:9']).catch(() => undefined);
  return urls.join(' ');
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('numbers on the command line', () => {
  it('out of the range the API takes: bad usage, checked here, quoting what was typed', async () => {
    expect(await usageError('ls', ['--offset', '99999999999'])).toBe("--offset must be an integer from 0 to 999999999 (got '99999999999')");
    expect(await usageError('ls', ['--offset', '1000000000'])).toBe("--offset must be an integer from 0 to 999999999 (got '1000000000')");
    expect(await usageError('ls', ['--limit', '100001'])).toBe("--limit must be an integer from 1 to 100000 (got '100001')");
    expect(await usageError('leaderboard', ['st_a', '--limit', '100001'])).toBe(
      "--limit must be an integer from 1 to 100000 (got '100001')",
    );
    expect(await usageError('leaderboard', ['st_a', '--offset', '100001'])).toBe(
      "--offset must be an integer from 0 to 100000 (got '100001')",
    );
    for (const command of ['trial', 'stop'])
      expect(await usageError(command, ['st_a', '1000000000'])).toBe(
        "TRIAL must be a trial number, an integer from 0 to 999999999 (got '1000000000')",
      );
    // As typed, not as the number it reads as (1e+23).
    expect(await usageError('ls', ['--limit', '99999999999999999999999'])).toBe(
      "--limit must be an integer from 1 to 100000 (got '99999999999999999999999')",
    );
  });

  it('one message for every bad value of an option: 0, -1 and x alike', async () => {
    for (const value of ['0', '-1', 'x', '1.5', '1e3', ''])
      expect(await usageError('ls', ['--limit', value])).toBe(`--limit must be an integer from 1 to 100000 (got '${value}')`);
    expect(await usageError('leaderboard', ['st_a', '--offset', '-1'])).toBe("--offset must be an integer from 0 to 100000 (got '-1')");
    expect(await usageError('leaderboard', ['st_a', '--limit=-5'])).toBe("--limit must be an integer from 1 to 100000 (got '-5')");
    for (const command of ['trial', 'stop'])
      for (const value of ['-1', 'abc'])
        expect(await usageError(command, ['st_a', value])).toBe(
          `TRIAL must be a trial number, an integer from 0 to 999999999 (got '${value}')`,
        );
    // A count with no upper bound says so as truly.
    for (const value of ['0', '-2'])
      expect(await usageError('worker', ['--nats', 'nats://127.0.0.1:4222', '--concurrency', value])).toBe(
        `--concurrency must be a positive integer (got '${value}')`,
      );
    // A value that only starts with a dash is still taken for a forgotten one.
    expect(await usageError('ls', ['--offset', '--bogus'])).toBe(
      "--offset got '--bogus', which starts with a dash: write --offset=--bogus if that is the value meant",
    );
  });

  it('the largest values the API takes are sent, as numbers', async () => {
    expect(await requested('ls', ['--limit', '100000', '--offset', '999999999'])).toBe('/v1/studies?limit=100000&offset=999999999');
    expect(await requested('leaderboard', ['st_a', '--limit', '1', '--offset', '100000'])).toBe(
      '/v1/studies/st_a/leaderboard?limit=1&offset=100000',
    );
    expect(await requested('stop', ['st_a', '999999999'])).toBe('/v1/studies/st_a/trials/999999999/stop');
    // 0000000007 is trial 7 (the API takes at most 9 digits).
    expect(await requested('trial', ['st_a', '0000000007'])).toBe('/v1/studies/st_a');
    expect(await requested('stop', ['st_a', '0000000007'])).toBe('/v1/studies/st_a/trials/7/stop');
  });
});
