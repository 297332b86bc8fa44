import { availableParallelism } from 'node:os';
import path from 'node:path';
import { serve } from '@hono/node-server';
import { type Bus, LocalBus, type Logger, type Store, type Subscription, silentLogger } from '@sweepd/core';
import { StudyEngine } from '@sweepd/search';
import { ProcessPoolRunner, startWorker } from '@sweepd/trainer';
import { createApp } from './http/app.ts';

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
}

export interface Daemon {
  url: string;
  port: number;
  store: Store;
  bus: Bus;
  engine: StudyEngine;
  close(): Promise<void>;
}

/** The composition root: store + bus + study engine + local workers + HTTP. */
export async function startDaemon(options: DaemonOptions = {}): Promise<Daemon> {
  const log = options.log ?? silentLogger;
  const dataDir = path.resolve(options.dataDir ?? '.sweepd');
  const { openStore } = await import('@sweepd/core/store');
  const store = await openStore({ url: options.databaseUrl, dataDir: path.join(dataDir, 'db'), log: (msg) => log.info({}, msg) });
  const closers: Array<() => Promise<void>> = [() => store.close()];
  try {
    const bus = options.natsUrl ? await connectNats(options.natsUrl, log) : new LocalBus();
    closers.unshift(() => bus.close());
    const engine = new StudyEngine({ store, bus, log });
    closers.unshift(() => engine.close());

    const workers = options.workers ?? (options.natsUrl ? 0 : Math.max(1, availableParallelism()));
    if (workers > 0) {
      const runner = new ProcessPoolRunner({ size: workers, env: { SWEEPD_CACHE_DIR: path.join(dataDir, 'cache') }, log: (m) => log.info({}, m) });
      const sub: Subscription = await startWorker({ bus, runner, pool: options.pool ?? 'default', concurrency: workers, name: 'local', log });
      // Order matters on close: stop taking jobs, then end the trainer processes.
      closers.unshift(() => runner.close());
      closers.unshift(() => sub.close());
    }
    await engine.start();

    const app = createApp({ store, engine });
    const host = options.host ?? '127.0.0.1';
    const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, port: options.port ?? 8080, hostname: host }, () => resolve(s));
      s.once('error', reject);
    });
    closers.unshift(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : (options.port ?? 8080);
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    log.info({ url, store: store.kind, bus: bus.kind, workers }, 'sweepd is up');
    return { url, port, store, bus, engine, close: () => closeAll(closers) };
  } catch (err) {
    await closeAll(closers);
    throw err;
  }
}

async function connectNats(url: string, log: Logger): Promise<Bus> {
  const { connectNatsBus } = await import('@sweepd/core/nats');
  return connectNatsBus({ servers: url, log: (msg: string) => log.info({}, msg) });
}

async function closeAll(closers: Array<() => Promise<void>>): Promise<void> {
  for (const close of closers) {
    try {
      await close();
    } catch {
      // Closing is best effort: one failure must not keep the rest open.
    }
  }
}
