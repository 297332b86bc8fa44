import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pinoLogger } from '../ops/log.ts';
import { ApiClient, DEFAULT_API_URL } from './client.ts';
import { EXIT, ExitError } from './exit-codes.ts';
import { REPO_ROOT } from './repo-root.ts';
import { untilSignal } from './signal.ts';
import { watchStudy } from './watch.ts';

/**
 * The README's first command: an embedded daemon (PGlite under ./.sweepd, local trainer
 * processes), the quickstart study submitted over HTTP, the leaderboard as it fills, the best config.
 */
export async function runQuickstart(options: { port?: number; exitWhenDone: boolean; dataDir?: string }): Promise<number> {
  const { startDaemon } = await import('../daemon.ts');
  const started = Date.now();
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
  try {
    process.stdout.write(`sweepd is up at ${daemon.url} (store: ${daemon.store.kind}, bus: ${daemon.bus.kind})\n`);
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
    const status = await watchStudy(api, study.id);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    process.stdout.write(`\nstudy finished in ${seconds} s. Best config (sweepd export ${study.id} --format yaml):\n\n`);
    process.stdout.write(await api.text('GET', `/v1/studies/${study.id}/export?format=yaml`));
    process.stdout.write(`\nAs TF-slim flags:\n  ${await api.text('GET', `/v1/studies/${study.id}/export?format=flags`)}\n`);
    if (!options.exitWhenDone) {
      process.stdout.write(
        `The daemon keeps running at ${daemon.url}; try '${lsCommandFor(daemon.url)}' in another terminal. Ctrl-C to stop.\n`,
      );
      await untilSignal();
    }
    return status;
  } finally {
    await daemon.close();
  }
}

/** The `ls` to suggest: the client commands look for the daemon at the default address, anywhere else they need --api. */
export function lsCommandFor(url: string): string {
  return url === DEFAULT_API_URL ? 'npx sweepd ls' : `npx sweepd ls --api ${url}`;
}
