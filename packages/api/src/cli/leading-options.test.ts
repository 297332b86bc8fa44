import { describe, expect, it } from 'vitest';
import { commandFirst, leadingOptionError } from './leading-options.ts';

describe('commandFirst', () => {
  it('moves --api and --token written before the command after it', () => {
    expect(commandFirst(['--api', 'http://h:1', 'ls'])).toEqual(['ls', '--api', 'http://h:1']);
    expect(commandFirst(['--token=t', '--api', 'http://h:1', 'trial', 'st_1', '2'])).toEqual([
      'trial',
      '--token=t',
      '--api',
      'http://h:1',
      'st_1',
      '2',
    ]);
  });

  it('leaves everything else as it is', () => {
    expect(commandFirst(['ls', '--api', 'http://h:1'])).toEqual(['ls', '--api', 'http://h:1']);
    expect(commandFirst(['--api'])).toEqual(['--api']);
    expect(commandFirst(['--api', 'http://h:1'])).toEqual(['--api', 'http://h:1']);
    expect(commandFirst(['--port', '1', 'up'])).toEqual(['--port', '1', 'up']);
    expect(commandFirst([])).toEqual([]);
  });
});

describe('leadingOptionError', () => {
  const after = (argv: string[]) => leadingOptionError(commandFirst(argv));

  it('says an option before the command is one sweepd does not take there, naming those it does', () => {
    const unknown = "unknown option '--bogus': before the command, sweepd takes --api URL, --token T, --help";
    expect(after(['--bogus', 'ls'])).toBe(unknown);
    expect(after(['--bogus'])).toBe(unknown);
    expect(after(['--api', 'http://h:1', '--bogus', 'ls'])).toBe(unknown);
    expect(after(['-x', 'ls'])).toBe("unknown option '-x': before the command, sweepd takes --api URL, --token T, --help");
    expect(after(['--port', '1', 'up'])).toMatch(/^unknown option '--port'/);
  });

  it('says a client option with no value, or with no command after it', () => {
    expect(after(['--api'])).toBe('--api needs a value');
    expect(after(['--api', 'http://h:1', '--token'])).toBe('--token needs a value');
    expect(after(['--api', 'http://h:1'])).toBe('no command after --api: it goes with a client command (sweepd --api URL ls)');
    expect(after(['--token=t'])).toBe('no command after --token: it goes with a client command (sweepd --token T ls)');
  });

  it('has nothing to say of a command, or of help asked for', () => {
    expect(after(['ls', '--bogus'])).toBeUndefined();
    expect(after(['--api', 'http://h:1', 'ls'])).toBeUndefined();
    expect(after(['--help'])).toBeUndefined();
    expect(after(['-h', 'ls'])).toBeUndefined();
    expect(after([])).toBeUndefined();
  });
});
