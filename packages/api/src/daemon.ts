import { statSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { serve } from '@hono/node-server';
import { type Bus, LocalBus, type Logger, type Store, type Subscription, silentLogger } from '@sweepd/core';
import { StudyEngine } from '@sweepd/search';
import {
  CommandRoutingRunner,
  CommandRunner,
  GpuSlots,
  checkRequestedBackend,
  gpuTrainerDevices,
  listGpus,
  phantomGpuWarning,
  ProcessPoolRunner,
  startWorker,
} from '@sweepd/trainer';
import { createApp } from './http/app.ts';
import { isLoopback } from './http/auth.ts';
import { LeaderboardHub } from './live/hub.ts';
import { connectNats, natsPrefix } from './nats.ts';
import { DaemonMetrics } from './ops/metrics.ts';
import { SettledTrials } from './views/settled-trials.ts';

/** How long a stopping daemon lets its HTTP connections end on their own before it closes them. */
const SHUTDOWN_GRACE_MS = 2_000;
export interface DaemonOptions {
  port?: number;
  host?: string;
  /** PGlite data and caches live here when no database URL is given. */
  dataDir?: string;
  databaseUrl?: string;
  natsUrl?: string;
  /** Local trainer processes. Default: one per core on the embedded bus, none on NATS. */
  workers?: number;
  pool?: string;
  log?: Logger;
  /** When set, /v1 and /metrics need `Authorization: Bearer <token>`. */
  token?: string | undefined;
  /** Allow a non-loopback address without a token (anyone who can reach it can submit and stop). */
  insecureListen?: boolean;
  /** Live leaderboard coalescing window (ms). */
  sseCoalesceMs?: number;
  /** The only directories a spec's plugins may be loaded from (plugins run in the daemon); none: no plugins. */
  pluginDirs?: readonly string[];
}

export interface Daemon {
  url: string;
  port: number;
  store: Store;
  bus: Bus;
  engine: StudyEngine;
  hub: LeaderboardHub;
  /**
   * Resolves when the daemon cannot go on: it lost its PostgreSQL database to another daemon (the
   * hold went with a dropped connection). Whoever runs it should then close it and exit non-zero.
   */
  failed: Promise<Error>;
  /** Graceful: stop accepting, end the live streams, let the engine and workers finish, close the store. */
  close(): Promise<void>;
}

export class InsecureListenError extends Error {}

/** The composition root: store + bus + study engine + local workers + HTTP. */
export async function startDaemon(options: DaemonOptions = {}): Promise<Daemon> {
  const log = options.log ?? silentLogger;
  const host = options.host ?? '127.0.0.1';
  if (options.token === '') throw new Error('the API token is empty: set SWEEPD_API_TOKEN / --token to a secret, or leave it unset');
  if (!options.token && !isLoopback(host) && !options.insecureListen) {
    throw new InsecureListenError(
      `refusing to listen on ${host} without an API token: anyone who can reach it could submit and stop studies. ` +
        'Set SWEEPD_API_TOKEN (or --token), listen on 127.0.0.1, or pass --insecure-listen if the network is trusted.',
    );
  }
  for (const dir of options.pluginDirs ?? [])
    if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new Error(`plugin directory ${dir} is not a directory`);
  // A port in use is found before anything is made: a mistyped data directory would otherwise hold
  // a whole new database by the time the listen fails.
  await portFree(host, options.port ?? 8080);
  const dataDir = path.resolve(options.dataDir ?? '.sweepd');
  const found = statSync(dataDir, { throwIfNoEntry: false });
  if (found && !found.isDirectory()) throw new Error(`data directory ${dataDir} is a file, not a directory: give --data-dir a directory`);
  const { openStore } = await import('@sweepd/core/store');
  let fail!: (err: Error) => void;
  const failed = new Promise<Error>((resolve) => {
    fail = resolve;
  });
  const store = await openStore({
    url: options.databaseUrl,
    dataDir: path.join(dataDir, 'db'),
    exclusive: true,
    onLockLost: (err) => {
      log.error({ err: err.message }, 'this daemon can no longer use its database');
      fail(err);
    },
    log: (msg) => log.info({}, msg),
  });
  const closers: Array<() => Promise<void>> = [() => store.close()];
  try {
    const bus = options.natsUrl ? await connectNats(options.natsUrl, log) : new LocalBus({ log: (message) => log.warn({}, message) });
    closers.unshift(() => bus.close());
    // With the GPU backend, one trainer process per GPU (each sees only its own); else one per core.
    const gpus = gpuTrainerDevices();
    const workers = options.workers ?? (options.natsUrl ? 0 : (gpus?.length ?? Math.max(1, availableParallelism())));
    const engine = new StudyEngine({
      store,
      bus,
      log,
      // Remote NATS workers may not see this host's files: paths in specs are then checked on the workers.
      workersShareFiles: !options.natsUrl,
      ...(options.pluginDirs && options.pluginDirs.length > 0 ? { pluginDirs: options.pluginDirs.map((d) => path.resolve(d)) } : {}),
      // On the in-process bus no other worker can ever join: only the local workers' pool is served.
      // (With --workers 0 the trials are meant to wait, for a restart with workers: nothing is refused.)
      ...(options.natsUrl || workers === 0 ? {} : { servedPools: [options.pool ?? 'default'] }),
    });
    closers.unshift(() => engine.close());
    // The database is another daemon's now: stop writing to it at once (no ingestion, no new
    // trials) and end the runs here rather than wait for them; the graceful close then does the rest.
    void failed.then(async () => {
      await engine.close();
      await bus.close();
    });
    if (workers > 0) {
      checkRequestedBackend();
      const cacheDir = path.join(dataDir, 'cache');
      const pool = new ProcessPoolRunner({
        size: workers,
        ...(gpus ? { gpuDevices: gpus } : {}),
        env: { SWEEPD_CACHE_DIR: cacheDir },
        log: (m) => log.info({}, m),
      });
      // A command trial's work happens in its own process group: the daemon supervises it here (the
      // whole stop sequence runs, not cut short by a trainer process's kill), one per GPU if any.
      const commandGpus = listGpus();
      const phantom = phantomGpuWarning(commandGpus);
      if (phantom) log.warn({}, phantom);
      const commands = new CommandRunner({ cacheDir });
      // A daemon killed with -9 left its command trials running: end them before taking a trial.
      await commands.endOrphans((m) => log.warn({}, m));
      const runner = new CommandRoutingRunner(commands, pool, commandGpus.length > 0 ? new GpuSlots(commandGpus) : undefined);
      const sub: Subscription = await startWorker({
        bus,
        runner,
        pool: options.pool ?? 'default',
        concurrency: workers,
        name: 'local',
        log,
      });
      // Order matters on close: stop taking jobs, then end the trainer processes. Before that, the
      // engine stops dispatching and the bus aborts the running trials ('shutdown': each command
      // trial gets its stop sequence) and hands them back, so a Ctrl-C takes seconds, not the rest of
      // a trial; a restarted daemon runs them again from scratch. The engine goes on storing their
      // reports until the bus has closed (a trial that reports its last epoch meanwhile completes),
      // and closes after it (its close was queued above). With NATS the reports wait in JetStream
      // for the next start, and the engine closes first, as it did (the NATS bus refuses stops and
      // takes its report consumer away as it closes).
      closers.unshift(() => runner.close());
      closers.unshift(() => sub.close());
      closers.unshift(() => bus.close());
      closers.unshift(options.natsUrl ? () => engine.close() : async () => engine.stopDispatching());
    }
    await engine.start();

    const settled = new SettledTrials(store);
    const hub = new LeaderboardHub({ store, events: engine.events, live: engine, log, coalesceMs: options.sseCoalesceMs, settled });
    const metrics = new DaemonMetrics({ store, events: engine.events, workers, sseClients: () => hub.clientCount });
    closers.unshift(async () => metrics.close());
    const loopbackHostsOnly = !options.token && isLoopback(host);
    const app = createApp({ store, engine, hub, metrics, settled, token: options.token, loopbackHostsOnly, log });
    const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, port: options.port ?? 8080, hostname: host }, () => resolve(s));
      s.once('error', reject);
    });
    // First on close: stop accepting and end the live streams (they would hold server.close open).
    // A client that reconnects at once (sweepd watch, a dashboard tab) keeps reusing its keep-alive
    // socket, which is then never idle: after a short grace every connection is closed, or the
    // engine (closed after this) would go on dispatching trials of a daemon told to stop.
    closers.unshift(
      () =>
        new Promise<void>((resolve) => {
          const force = setTimeout(() => {
            if ('closeAllConnections' in server) server.closeAllConnections();
          }, SHUTDOWN_GRACE_MS);
          server.close(() => {
            clearTimeout(force);
            resolve();
          });
          hub.close();
          if ('closeIdleConnections' in server) server.closeIdleConnections();
        }),
    );
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : (options.port ?? 8080);
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    log.info(
      {
        url,
        store: store.kind,
        bus: bus.kind,
        ...(options.natsUrl ? { prefix: natsPrefix() } : {}),
        workers,
        auth: options.token ? 'bearer' : 'none',
      },
      'sweepd is up',
    );
    let closing: Promise<void> | undefined;
    return { url, port, store, bus, engine, hub, failed, close: () => (closing ??= closeAll(closers, log)) };
  } catch (err) {
    await closeAll(closers, log);
    throw err;
  }
}

async function closeAll(closers: Array<() => Promise<void>>, log: Logger): Promise<void> {
  for (const close of closers) {
    try {
      await close();
    } catch (err) {
      // Closing is best effort: one failure must not keep the rest open, but it is said.
      log.warn({ err: err instanceof Error ? err.message : String(err) }, 'error while closing');
    }
  }
}

/** Resolves when `port` on `host` can be listened on now (port 0 always can); rejects with the listen error (EADDRINUSE) otherwise. */
function portFree(host: string, port: number): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}
