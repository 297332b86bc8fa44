import path from 'node:path';
import {
  CommandRoutingRunner,
  CommandRunner,
  checkRequestedBackend,
  claimGpus,
  GpuSlots,
  listGpus,
  phantomGpuWarning,
  ProcessPoolRunner,
  resolveGpus,
  startWorker,
} from '@sweepd/trainer';
import { connectNats, natsPrefix } from '../nats.ts';
import { redactServers } from '@sweepd/core/nats';
import { type LogLevel, pinoLogger } from '../ops/log.ts';
import { untilSignal } from './signal.ts';

export interface WorkerProcessOptions {
  nats: string;
  pool: string;
  /** Trials at once; default: one per GPU on a GPU worker, else 1. */
  concurrency?: number | undefined;
  /** `--gpus`: `0,1`, `none`, or unset for every GPU nvidia-smi lists. */
  gpus?: string | undefined;
  /** Checked by the caller (SWEEPD_LOG_LEVEL); default info. */
  logLevel?: LogLevel;
}

/** The GPUs and trial concurrency a worker runs with; throws naming what is wrong. */
export function workerSlots(options: Pick<WorkerProcessOptions, 'concurrency' | 'gpus'>, available: () => string[] = listGpus) {
  const gpus = resolveGpus(options.gpus, options.gpus === undefined || options.gpus.trim() !== 'none' ? available() : []);
  if (gpus.length === 0) return { gpus, concurrency: options.concurrency ?? 1 };
  if (options.concurrency !== undefined && options.concurrency > gpus.length)
    throw new Error(`--concurrency ${options.concurrency} is more than the ${gpus.length} GPU(s) this worker uses (one trial per GPU)`);
  return { gpus, concurrency: options.concurrency ?? gpus.length };
}

/**
 * `sweepd worker`: joins a NATS pool and trains until SIGTERM/SIGINT, then hands the trials it is
 * running back to the pool (they are delivered again) and exits. `command` trials run in this
 * process, each with a GPU of its own (CUDA_VISIBLE_DEVICES); other runners in trainer processes.
 */
export async function runWorkerProcess(options: WorkerProcessOptions): Promise<number> {
  const { gpus, concurrency } = workerSlots(options);
  checkRequestedBackend();
  // Before anything else: a worker asking for GPUs another worker of this user on this host holds stops here.
  const claims = await claimGpus(gpus);
  try {
    return await serveTrials(options, gpus, concurrency);
  } finally {
    await claims.release();
  }
}

async function serveTrials(options: WorkerProcessOptions, gpus: string[], concurrency: number): Promise<number> {
  const log = pinoLogger({
    level: options.logLevel ?? 'info',
    base: { service: 'sweepd-worker', pool: options.pool },
  });
  const cacheDir = process.env.SWEEPD_CACHE_DIR ?? path.resolve('.sweepd', 'cache');
  // A worker rides out a NATS outage of minutes: its trial trains on while its reports wait (up to
  // 32 epochs), where giving up after the daemon's 60 s would hand the trial back to start over.
  const bus = await connectNats(options.nats, log, { publishTimeoutMs: WORKER_PUBLISH_TIMEOUT_MS });
  // A worker told --gpus none trains on the CPU: its trainer processes and command trials are shown no GPU.
  const cpuOnly = options.gpus?.trim() === 'none';
  const pool = new ProcessPoolRunner({
    size: concurrency,
    env: { SWEEPD_CACHE_DIR: cacheDir, ...(cpuOnly ? { CUDA_VISIBLE_DEVICES: '' } : {}) },
    log: (m) => log.info({}, m),
  });
  const commands = new CommandRunner({ cacheDir, hideGpus: cpuOnly });
  // A worker killed with -9 on this directory left its command trials running: end them first.
  await commands.endOrphans((m) => log.warn({}, m));
  const runner = new CommandRoutingRunner(commands, pool, gpus.length > 0 ? new GpuSlots(gpus) : undefined);
  // Listened for before the worker takes jobs and says it is ready: a SIGTERM sent the moment it
  // said so (a supervisor, a test) would otherwise meet Node's default and kill it, trials and all.
  const signalled = untilSignal();
  const sub = await startWorker({ bus, runner, pool: options.pool, concurrency, log });
  if (options.gpus === undefined && gpus.length === 0 && /gpu/i.test(options.pool))
    log.warn({}, 'no GPU found (nvidia-smi lists none): this worker trains its GPU pool on the CPU');
  // Without --gpus, gpus is what nvidia-smi lists.
  const phantom = options.gpus === undefined ? phantomGpuWarning(gpus) : undefined;
  if (phantom) log.warn({}, phantom);
  log.info({ nats: redactServers(options.nats), prefix: natsPrefix(), concurrency, gpus, trialsDir: commands.trialsDir }, 'worker ready');
  const signal = await signalled;
  // Said up front: the drain can take the scripts' whole grace, and a silent worker looks hung.
  log.info(
    { signal },
    'draining: stopping the running trials and handing them back; a command script gets its stop_grace_s ' +
      '(5 s unless its spec says otherwise) to exit, then SIGTERM and term_grace_s',
  );
  await bus.close();
  await sub.close();
  await runner.close();
  return 0;
}

/** How long a worker's publishes (reports, hand-backs) keep retrying while NATS is away. */
export const WORKER_PUBLISH_TIMEOUT_MS = 10 * 60_000;
