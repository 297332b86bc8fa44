/**
 * A trainer process: runs one trial at a time for its parent ProcessPoolRunner, so a trial that
 * crashes or leaks takes down only this process, and the daemon's event loop never trains.
 */
import path from 'node:path';
import { type Runner, registry } from '@sweepd/core';
import '../index.ts';
import type { FromChild, ToChild } from './messages.ts';

const send = (message: FromChild) => process.send?.(message);
const runners = new Map<string, Promise<Runner>>();
const cacheDir = process.env.SWEEPD_CACHE_DIR ?? path.resolve('.sweepd', 'cache');
let current: AbortController | undefined;

function runnerFor(name: string): Promise<Runner> {
  let runner = runners.get(name);
  if (!runner) {
    runner = registry.create(
      'runner',
      { name, options: {} },
      { cacheDir, log: (message) => send({ type: 'log', message }) },
      'trainer.runner',
    );
    runners.set(name, runner);
  }
  return runner;
}

process.on('message', (message: ToChild) => {
  if (message.type === 'abort') {
    current?.abort(new Error(message.reason));
    return;
  }
  const controller = new AbortController();
  current = controller;
  void (async () => {
    try {
      const runner = await runnerFor(message.job.trainer.runner);
      const outcome = await runner.run(message.job, {
        signal: controller.signal,
        report: async (epoch) => void send({ type: 'epoch', epoch }),
        log: (text) => send({ type: 'log', message: text }),
      });
      send({ type: 'done', outcome });
    } catch (err) {
      send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    } finally {
      current = undefined;
    }
  })();
});

process.on('disconnect', () => process.exit(0));
send({ type: 'ready', pid: process.pid });
