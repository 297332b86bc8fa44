import { describe, expect, it } from 'vitest';
import { commandFirst } from './leading-options.ts';

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
