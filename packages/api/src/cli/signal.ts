/**
 * Resolves on the first SIGINT, SIGTERM or SIGHUP (the terminal or SSH session running it closed:
 * the daemon shuts down as on Ctrl-C, handing its trials back, rather than die at once and leave
 * their processes running). Its own module so `up`, `quickstart` and `worker` can wait for it
 * without importing the command table (which imports them).
 */
export function untilSignal(): Promise<NodeJS.Signals> {
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  return new Promise((resolve) => {
    const done = (signal: NodeJS.Signals) => {
      for (const s of signals) process.off(s, done);
      // A hung-up terminal fails every write to it (EIO): the shutdown must not die of its own log lines.
      if (signal === 'SIGHUP') for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
      resolve(signal);
    };
    for (const s of signals) process.once(s, done);
  });
}
