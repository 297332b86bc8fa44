import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pinoLogger } from '../ops/log.ts';
import { ApiClient, DEFAULT_API_URL } from './client.ts';
import { EXIT, ExitError } from './exit-codes.ts';
import { shellQuote } from '../views/export.ts';
import { REPO_ROOT } from './repo-root.ts';
import { interruptedExitCode, sayStoppingOnceStarted, untilSignal } from './signal.ts';
import { watchStudy } from './watch.ts';

/**
 * The README's first command: an embedded daemon (PGlite under ./.sweepd, local trainer
 * processes), the quickstart study submitted over HTTP, the leaderboard as it fills, the best config.
 */
export async function runQuickstart(options: { port?: number; exitWhenDone: boolean; dataDir?: string }): Promise<number> {
  const { startDaemon } = await import('../daemon.ts');
  const started = Date.now();
  // Listened for from the start: the daemon runs its trainer processes before it is up, and Ctrl-C
  // meeting Node's default would kill the process where it stands, store open. A signal while it
  // starts is acted on once it has; once shutting down, another one stops at once.
  let interrupted: NodeJS.Signals | undefined;
  let starting = true;
  const signalled = untilSignal().then((signal) => {
    interrupted = signal;
    if (starting) sayStoppingOnceStarted(signal);
    return signal;
  });
  const daemon = await startDaemon({
    port: options.port ?? 8080,
    dataDir: options.dataDir,
    log: pinoLogger({ level: 'warn' }),
  }).catch(async (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EADDRINUSE') throw err;
    if (options.port !== undefined)
      throw new ExitError(`port ${options.port} on 127.0.0.1 is in use — pass another --port or stop the other process`, EXIT.portInUse);
    process.stdout.write('port 8080 is taken; using a free port\n');
    return startDaemon({ port: 0, dataDir: options.dataDir, log: pinoLogger({ level: 'warn' }) });
  });
  starting = false;
  try {
    process.stdout.write(`sweepd is up at ${daemon.url} (store: ${daemon.store.kind}, bus: ${daemon.bus.kind})\n`);
    if (interrupted) {
      process.stdout.write(`${interrupted}: shutting down before submitting the study\n`);
      return interruptedExitCode(interrupted);
    }
    const api = new ApiClient(daemon.url);
    const specFile = path.join(REPO_ROOT, 'examples', 'quickstart.yaml');
    const study = await api.json<{ id: string; name: string; budget: { max_trials: number; max_epochs: number } }>(
      'POST',
      '/v1/studies',
      readFileSync(specFile, 'utf8'),
    );
    process.stdout.write(
      `submitted ${path.relative(process.cwd(), specFile)} as study ${study.id}: ${study.budget.max_trials} trials × ${study.budget.max_epochs} epochs\n\n`,
    );
    const stopWatching = new AbortController();
    const watching = watchStudy(api, study.id, { signal: stopWatching.signal });
    const end = await Promise.race([watching.then((status) => ({ status })), signalled.then((signal) => ({ signal }))]);
    if ('signal' in end) {
      // Its open stream would hold the daemon's close below, and it would reconnect for a minute.
      stopWatching.abort(new Error(end.signal));
      watching.catch(() => {});
      process.stdout.write(`\n${end.signal}: ${await whereItStands(api, study.id, options.dataDir)}\n`);
      return interruptedExitCode(end.signal);
    }
    const { status } = end;
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    process.stdout.write(`\nstudy finished in ${seconds} s. Best config (sweepd export ${study.id} --format yaml):\n\n`);
    process.stdout.write(await api.text('GET', `/v1/studies/${study.id}/export?format=yaml`));
    process.stdout.write(`\nAs TF-slim flags:\n  ${await api.text('GET', `/v1/studies/${study.id}/export?format=flags`)}\n`);
    if (!options.exitWhenDone && !interrupted) {
      process.stdout.write(
        `The daemon keeps running at ${daemon.url}; try '${lsCommandFor(daemon.url)}' in another terminal. Ctrl-C to stop.\n`,
      );
      await signalled;
    }
    return status;
  } finally {
    await daemon.close();
  }
}

/** What an interrupted quickstart leaves: read from the daemon, since the study may have ended just before. */
async function whereItStands(api: ApiClient, studyId: string, dataDir: string | undefined): Promise<string> {
  const upAgain = `npx sweepd up --data-dir ${shellQuote(dataDir ?? '.sweepd')}`;
  let state: string;
  try {
    ({ state } = await api.json<{ state: string }>('GET', `/v1/studies/${encodeURIComponent(studyId)}`, undefined, undefined, {
      signal: AbortSignal.timeout(3_000), // a stuck daemon must not hold the shutdown
    }));
  } catch (err) {
    return `shutting down; the state of study ${studyId} could not be read (${(err as Error).message})`;
  }
  if (state === 'running')
    return (
      `shutting down before study ${studyId} ended; its running trials stop, and run again from scratch ` +
      `the next time a daemon starts on this data directory (${upAgain})`
    );
  return `shutting down; study ${studyId} is ${state}. Its best config: ${upAgain}, then npx sweepd export ${studyId}`;
}

/** The `ls` to suggest: the client commands look for the daemon at the default address, anywhere else they need --api. */
export function lsCommandFor(url: string): string {
  return url === DEFAULT_API_URL ? 'npx sweepd ls' : `npx sweepd ls --api ${url}`;
}
