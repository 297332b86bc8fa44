/**
 * The SSE benchmark's watchers, in their own process as browsers would be, so that parsing 100
 * streams does not take CPU from the daemon being measured. Usage: sse-watchers.ts URL N.
 * Prints "ready" once every stream is open, then on SIGTERM one JSON line of counts.
 */
import { parseSse } from '../../packages/api/src/cli/sse.ts';

const [url, n] = process.argv.slice(2);
if (!url || !n) throw new Error('usage: sse-watchers.ts URL N');
const abort = new AbortController();
const counts = Array.from({ length: Number(n) }, () => ({ events: 0, bytes: 0 }));
let open = 0;
const readers = counts.map(async (count) => {
  const res = await fetch(url, { signal: abort.signal });
  if (++open === counts.length) process.stdout.write('ready\n');
  try {
    for await (const e of parseSse(res.body as ReadableStream<Uint8Array>)) {
      count.events++;
      count.bytes += e.data.length;
      process.stdout.write(`event ${count.events}\n`);
    }
  } catch {
    // aborted at the end
  }
});
process.once('SIGTERM', async () => {
  abort.abort();
  await Promise.all(readers);
  process.stdout.write(`${JSON.stringify(counts)}\n`);
  process.exit(0);
});
