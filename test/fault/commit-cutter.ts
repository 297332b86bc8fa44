import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP proxy in front of PostgreSQL that can lose the answer to a COMMIT: once armed, the
 * next connection whose traffic matches `trigger` (the last statement of a transaction, recognised
 * by its text or its parameters) has its following message — the COMMIT — forwarded, so the server
 * commits, and is then cut before the server's reply comes back. The client sees a broken connection
 * and cannot tell whether its transaction was stored: the "commit outcome unknown" case every client
 * of a remote database must survive.
 *
 * The COMMIT is taken to be the next thing the client sends after the trigger, not matched by text:
 * postgres-js prepares statements, so after the first use on a connection a statement (COMMIT too)
 * travels as Bind/Execute without its text. Only a parameter value is sure to be visible.
 */
export interface CommitCutter {
  readonly port: number;
  /** Arms the cutter; resolves when a connection was cut after a COMMIT. */
  arm(trigger: RegExp): Promise<void>;
  close(): Promise<void>;
}

export async function startCommitCutter(upstream: { host: string; port: number }): Promise<CommitCutter> {
  const sockets = new Set<Socket>();
  let armed: { trigger: RegExp; cut: () => void } | undefined;

  const server: Server = createServer((client) => {
    const server = connect(upstream);
    sockets.add(client);
    sockets.add(server);
    let sawTrigger = false;
    let cutting = false;
    const destroy = () => {
      client.destroy();
      server.destroy();
      sockets.delete(client);
      sockets.delete(server);
    };
    client.on('data', (chunk: Buffer) => {
      if (cutting) return;
      const text = chunk.toString('latin1');
      const trap = armed;
      if (trap && sawTrigger && !trap.trigger.test(text)) {
        // Forward the COMMIT, let the server carry it out, and never pass its answer back.
        cutting = true;
        armed = undefined;
        server.write(chunk);
        setTimeout(() => {
          destroy();
          trap.cut();
        }, 200);
        return;
      }
      if (trap?.trigger.test(text)) sawTrigger = true;
      server.write(chunk);
    });
    server.on('data', (chunk: Buffer) => {
      if (!cutting) client.write(chunk);
    });
    client.on('error', destroy);
    server.on('error', destroy);
    client.on('close', destroy);
    server.on('close', destroy);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('commit cutter: no address');
  return {
    port: address.port,
    arm(trigger) {
      return new Promise<void>((resolve) => {
        armed = { trigger, cut: resolve };
      });
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
