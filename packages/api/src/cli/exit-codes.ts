/** Exit codes scripts can rely on (the README and the usage text list them). */
export const EXIT = { ok: 0, failed: 1, usage: 2, rejected: 3, unreachable: 4, portInUse: 5, daemonFailed: 6 } as const;

/** An error that ends the command with a given exit code and a one-line message. */
export class ExitError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}
