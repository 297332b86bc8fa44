import { connect, createServer, type Socket } from 'node:net';

export interface PausableProxy {
  /** nats://127.0.0.1:<port>, forwarding to the target. */
  url: string;
  /** Holds every byte in both directions, as a network that went quiet would: nothing is lost. */
  pause(): void;
  /** Lets what was held through, and what comes after. */
  resume(): void;
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of a NATS server that can go quiet: a client behind it looks to the server
 * like a worker that stalled or was cut off, and then comes back and carries on where it was.
 */
export async function pausableProxy(targetUrl: string): Promise<PausableProxy> {
  const target = new URL(targetUrl);
  const sockets = new Set<Socket>();
  let paused = false;
  const server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
      if (paused) s.pause();
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address !== 'object') throw new Error('the proxy has no port');
  return {
    url: `nats://127.0.0.1:${address.port}`,
    pause: () => {
      paused = true;
      for (const s of sockets) s.pause();
    },
    resume: () => {
      paused = false;
      for (const s of sockets) s.resume();
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
