import { describe, expect, it } from 'vitest';
import { parseSse, type SseEvent } from './sse.ts';

/** A body that delivers the text in the given pieces, split wherever the test likes. */
function body(...pieces: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const p of pieces) controller.enqueue(encoder.encode(p));
      controller.close();
    },
  });
}

async function all(stream: ReadableStream<Uint8Array>): Promise<SseEvent[]> {
  const out: SseEvent[] = [];
  for await (const e of parseSse(stream)) out.push(e);
  return out;
}

describe('parseSse', () => {
  it('reads named and unnamed events, ids, comments, CRLF and multi-line data split anywhere', async () => {
    const text =
      'retry: 2000\n\n: keep-alive\n\nid: 7\r\nevent: leaderboard\r\ndata: {"a":\r\ndata: 1}\r\n\r\ndata: plain\n\n' +
      'id: 8\nevent: leaderboard\ndata: é\n\n';
    const whole = await all(body(text));
    expect(whole).toEqual([
      { id: '7', event: 'leaderboard', data: '{"a":\n1}' },
      { id: undefined, event: 'message', data: 'plain' },
      { id: '8', event: 'leaderboard', data: 'é' },
    ]);
    // Byte by byte (the é is two bytes, split across chunks) gives the same events.
    const bytes = new TextEncoder().encode(text);
    const split = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const b of bytes) controller.enqueue(Uint8Array.of(b));
        controller.close();
      },
    });
    expect(await all(split)).toEqual(whole);
  });

  it('drops an event the stream ends in the middle of', async () => {
    expect(await all(body('event: leaderboard\ndata: {"whole":true}\n\n', 'event: leaderboard\ndata: {"cut'))).toEqual([
      { id: undefined, event: 'leaderboard', data: '{"whole":true}' },
    ]);
  });
});
