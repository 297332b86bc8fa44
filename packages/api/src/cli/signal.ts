/**
 * Resolves on the first SIGINT or SIGTERM. Its own module so `up`, `quickstart` and `worker` can
 * wait for it without importing the command table (which imports them).
 */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const done = (signal: NodeJS.Signals) => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve(signal);
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}
