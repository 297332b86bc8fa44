import { describe, expect, it } from 'vitest';
import { apiErrorExit, apiErrorText } from './api-error-text.ts';
import { ApiError } from './client.ts';
import { EXIT } from './exit-codes.ts';

describe('apiErrorText', () => {
  it('says a refused query parameter once, not again as its problem', () => {
    // The body the daemon's validation hook sends (http/errors.ts): the first problem is also the message.
    const message = "offset: offset must be an integer from 0 to 1000000000 (got '99999999999')";
    const err = new ApiError(400, message, { error: message, problems: [{ path: 'offset', message: message.slice(8) }] });
    expect(apiErrorText(err)).toBe(`sweepd: ${message}\n`);
    // A problem with no path (an unknown parameter) that is the message: once too.
    const unknown = "unknown query parameter 'limt': this request takes limit, offset";
    expect(apiErrorText(new ApiError(400, unknown, { error: unknown, problems: [{ path: '', message: unknown }] }))).toBe(
      `sweepd: ${unknown}\n`,
    );
  });

  it('compares with the daemon’s words, not what the CLI added to them', () => {
    const refused = "plugin 'x' is not in a --plugin-dir";
    const err = new ApiError(400, `spec.yaml: ${refused}`, { error: refused, problems: [{ path: 'plugins', message: refused }] });
    expect(apiErrorText(err)).toBe(`sweepd: spec.yaml: ${refused}\n`);
  });

  it('lists every problem that adds to the message, by path', () => {
    const spec = new ApiError(400, 'spec.yaml: invalid spec', {
      error: 'invalid spec',
      problems: [
        { path: 'objective.direction', message: "must be 'maximize' or 'minimize'" },
        { path: '', message: 'and 3 more problems' },
      ],
    });
    expect(apiErrorText(spec)).toBe(
      "sweepd: spec.yaml: invalid spec\n  objective.direction: must be 'maximize' or 'minimize'\n  (root): and 3 more problems\n",
    );
    // Two bad parameters: the first is the message, the second is said under it.
    const both = new ApiError(400, 'limit: bad limit', {
      error: 'limit: bad limit',
      problems: [
        { path: 'limit', message: 'bad limit' },
        { path: 'offset', message: 'bad offset' },
      ],
    });
    expect(apiErrorText(both)).toBe('sweepd: limit: bad limit\n  offset: bad offset\n');
    expect(apiErrorText(new ApiError(0, 'cannot reach the sweepd daemon', undefined))).toBe('sweepd: cannot reach the sweepd daemon\n');
  });

  it('tells a daemon that failed (6) from a proxy whose daemon did not answer (4) and from a refusal (3)', () => {
    const failed = new ApiError(500, 'internal error', { error: 'internal error' });
    expect(apiErrorText(failed)).toBe(
      'sweepd: internal error (HTTP 500: the daemon failed to answer; its log says why — its database or message bus may be down)\n',
    );
    expect(apiErrorExit(failed)).toBe(EXIT.daemonFailed);
    expect(EXIT.daemonFailed).toBe(6);
    // A 5xx the daemon never sends itself is its failure all the same.
    expect(apiErrorExit(new ApiError(501, '501 Not Implemented', undefined))).toBe(EXIT.daemonFailed);
    for (const status of [502, 503, 504]) {
      const gateway = new ApiError(status, `${status} Bad Gateway`, undefined);
      expect(apiErrorText(gateway)).toBe(
        `sweepd: ${status} Bad Gateway (HTTP ${status}: the daemon did not answer through the proxy or gateway in front of it — it may be down or restarting)\n`,
      );
      expect(apiErrorExit(gateway), String(status)).toBe(EXIT.unreachable);
    }
    expect(apiErrorExit(new ApiError(0, 'cannot reach the sweepd daemon', undefined))).toBe(EXIT.unreachable);
    for (const status of [400, 401, 404, 409, 413, 415])
      expect(apiErrorExit(new ApiError(status, 'refused', { error: 'refused' })), String(status)).toBe(EXIT.rejected);
  });
});
