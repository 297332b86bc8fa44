import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ApiClient } from './client.ts';
import { terminalSafe } from './terminal-safe.ts';

describe('terminalSafe', () => {
  it('writes out control characters in strings and keys, keeping tab and newline', () => {
    expect(terminalSafe({ name: 'a\u001b]0;PWNED\u0007b', 'val_auc[\u001b[2J]': 0.5, lines: ['x\ty\nz\r', 1, null, true] })).toEqual({
      name: 'a\\x1b]0;PWNED\\x07b',
      'val_auc[\\x1b[2J]': 0.5,
      lines: ['x\ty\nz\\x0d', 1, null, true],
    });
  });

  it("is what the CLI's client hands on: a daemon's answer and its errors", async () => {
    const server = createServer((req, res) => {
      res.writeHead(req.url === '/bad' ? 400 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(req.url === '/bad' ? { error: 'no \u001b[2J' } : { reason: 'Error: \u001b]0;PWNED-TITLE\u0007' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const api = new ApiClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      expect(await api.json('GET', '/ok')).toEqual({ reason: 'Error: \\x1b]0;PWNED-TITLE\\x07' });
      await expect(api.json('GET', '/bad')).rejects.toThrow('no \\x1b[2J');
    } finally {
      server.close();
    }
  });
});
