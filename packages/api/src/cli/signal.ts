import { constants } from 'node:os';
import { goOnAfterHangUp } from '@sweepd/core';
import { EXIT } from './exit-codes.ts';

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Resolves on the first SIGINT, SIGTERM or SIGHUP (the terminal or SSH session running it closed:
 * the daemon shuts down as on Ctrl-C, handing its trials back, rather than die at once and leave
 * their processes running). Listening starts at the call, so a command calls it before it says it
 * is ready: a signal sent in between would meet Node's default, which kills the process where it
 * stands. After the first signal, see `exitOnNextSignal`. Its own module so `up`, `quickstart` and
 * `worker` can wait for it without importing the command table (which imports them).
 */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const done = (signal: NodeJS.Signals) => {
      for (const s of SIGNALS) process.off(s, done);
      exitOnNextSignal();
      if (signal === 'SIGHUP') goOnAfterHangUp();
      resolve(signal);
    };
    for (const s of SIGNALS) process.once(s, done);
  });
}

/**
 * Once a shutdown has begun (it can take a command script's whole grace), SIGINT or SIGTERM means
 * "now": exit at once with 1. Node's default would end the process without its exit hooks, and
 * those kill the trial process groups still running. A hang-up does not: bash passes one to its
 * jobs as the terminal closes and the kernel sends another as bash exits; the shutdown goes on.
 */
export function exitOnNextSignal(): void {
  const now = () => process.exit(EXIT.failed);
  process.once('SIGINT', now);
  process.once('SIGTERM', now);
  process.on('SIGHUP', goOnAfterHangUp);
}

/** Said at once (not at a log level) when a signal comes while a daemon starts: acting on it waits for the start. */
export function sayStoppingOnceStarted(signal: NodeJS.Signals): void {
  process.stderr.write(`sweepd: ${signal} while starting: shutting down once started (another Ctrl-C stops it now)\n`);
}

/** What a command ended by `signal` exits with: 128 + its number, as a shell reports it (130 for Ctrl-C). */
export function interruptedExitCode(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}
