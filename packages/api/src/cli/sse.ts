import { EventSourceParserStream } from 'eventsource-parser/stream';

/** One Server-Sent Event as parsed from the stream. */
export interface SseEvent {
  id: string | undefined;
  event: string;
  data: string;
}

/** A single event's data may not exceed this (a 100,000-trial table is about 25 MB). */
const MAX_EVENT_CHARS = 256 * 1024 * 1024;

/**
 * Parses a text/event-stream body with eventsource-parser (the WHATWG rules, incremental, with a
 * buffer limit), naming unnamed events `message` as EventSource does. fetch streaming is used
 * instead of EventSource because EventSource cannot send the Authorization header.
 */
export async function* parseSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const events = body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream({ maxBufferSize: MAX_EVENT_CHARS }));
  for await (const e of events) yield { id: e.id, event: e.event ?? 'message', data: e.data };
}
