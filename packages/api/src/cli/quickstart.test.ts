import { describe, expect, it } from 'vitest';
import { lsCommandFor } from './quickstart.ts';

describe('the quickstart hint', () => {
  it('needs no --api for a daemon at the default address', () => {
    expect(lsCommandFor('http://127.0.0.1:8080')).toBe('npx sweepd ls');
  });

  it('names the address of a daemon elsewhere (SWEEPD_PORT, or 8080 was taken)', () => {
    expect(lsCommandFor('http://127.0.0.1:43117')).toBe('npx sweepd ls --api http://127.0.0.1:43117');
  });
});
