import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeLoopbackPort } from './ports.ts';

const NATS_SERVER_BINARY = process.env.SWEEPD_NATS_SERVER_BIN ?? '/usr/sbin/nats-server';
const HOST = '127.0.0.1';

/** A nats-server owned by one test: loopback only, on a free port, with its own JetStream store. */
export interface TestNatsServer {
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  /** Process id of the running server (changes on restart). */
  readonly pid: number | undefined;
  /** Kills the server (SIGKILL unless told otherwise) and waits for it to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port with the same store, and waits until it accepts connections. */
  start(): Promise<void>;
  /** kill() then start(). */
  restart(): Promise<void>;
  /** Kills the server and deletes its store. */
  stop(): Promise<void>;
}

export interface TestNatsServerOptions {
  /** Extra nats-server arguments, e.g. ['--auth', 'secret']. */
  args?: readonly string[];
}

export async function startTestNatsServer(options: TestNatsServerOptions = {}): Promise<TestNatsServer> {
  const port = await freeLoopbackPort();
  const storeDir = await mkdtemp(join(tmpdir(), 'sweepd-nats-'));
  let child: ChildProcess | undefined;
  let output = '';

  const start = async (): Promise<void> => {
    if (child) throw new Error('test nats-server is already running');
    const proc = spawn(NATS_SERVER_BINARY, ['-a', HOST, '-p', String(port), '-js', '-sd', storeDir, ...(options.args ?? [])], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    output = '';
    proc.stdout?.on('data', (d: Buffer) => {
      output += d.toString();
    });
    proc.stderr?.on('data', (d: Buffer) => {
      output += d.toString();
    });
    const exited = new Promise<never>((_, reject) => {
      proc.once('error', (err) => reject(new Error(`cannot start ${NATS_SERVER_BINARY}: ${err.message}`)));
      proc.once('exit', (code) => reject(new Error(`${NATS_SERVER_BINARY} exited with code ${code} before it was ready:\n${output}`)));
    });
    exited.catch(() => {});
    await Promise.race([waitForPort(port, 10_000), exited]);
    // JetStream is enabled a moment after the port opens; its readiness line tells us when.
    await Promise.race([waitFor(() => output.includes('Server is ready'), 10_000, 'nats-server readiness line'), exited]);
  };

  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    const proc = child;
    if (!proc) return;
    child = undefined;
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    if (proc.pid !== undefined) process.kill(proc.pid, signal);
    await gone;
  };

  await start();
  return {
    url: `nats://${HOST}:${port}`,
    port,
    storeDir,
    get pid() {
      return child?.pid;
    },
    kill,
    start,
    async restart() {
      await kill();
      await start();
    },
    async stop() {
      await kill();
      await rm(storeDir, { recursive: true, force: true });
    },
  };
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const canConnect = () =>
    new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: HOST, port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
  const deadline = Date.now() + timeoutMs;
  while (!(await canConnect())) {
    if (Date.now() > deadline) throw new Error(`nats-server did not listen on ${HOST}:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
