import { describe, expect, it } from 'vitest';
import { buildArgv, flagsFor, formatValue, placeholdersIn } from './argv.ts';

describe('argv', () => {
  it('appends every parameter as a flag, in name order, numbers in full precision', () => {
    expect(
      buildArgv(['python3', 'train.py'], { optimizer: 'adam', learning_rate: 0.00012345678901234567, batch_size: 32 }, 'flags'),
    ).toEqual(['python3', 'train.py', '--batch_size=32', '--learning_rate=0.00012345678901234567', '--optimizer=adam']);
    expect(Number(formatValue(0.1 + 0.2))).toBe(0.1 + 0.2);
    expect(formatValue(1e-8)).toBe('1e-8');
    expect(formatValue(-2.5e21)).toBe('-2.5e+21');
  });

  it('renders booleans as absl does: --name and --noname', () => {
    expect(flagsFor({ use_bf16: true, cache_features: false })).toEqual(['--nocache_features', '--use_bf16']);
  });

  it('replaces placeholders anywhere in an element, and leaves other braces alone', () => {
    expect(
      buildArgv(
        ['train', '--lr={learning_rate}', '{optimizer}', '--json={"a": 1}', '{frozen_layers}x{frozen_layers}'],
        {
          learning_rate: 0.001,
          optimizer: 'sgd',
          frozen_layers: 3,
        },
        'placeholders',
      ),
    ).toEqual(['train', '--lr=0.001', 'sgd', '--json={"a": 1}', '3x3']);
    expect(placeholdersIn('--a={x}/{y.z}')).toEqual(['x', 'y.z']);
  });

  it('refuses a placeholder the trial has no value for', () => {
    expect(() => buildArgv(['train', '{momentum}'], { optimizer: 'adam' }, 'placeholders')).toThrow(
      'placeholder {momentum} in the command names no parameter of this trial',
    );
  });

  it('passes the command unchanged with args: none', () => {
    expect(buildArgv(['train', '{x}'], { x: 1 }, 'none')).toEqual(['train', '{x}']);
  });
});
