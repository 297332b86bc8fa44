// Talks to /v1 with the token, if the daemon wants one. The token lives in sessionStorage (this
// tab only) and is sent as a header; it never goes into a URL, so it never reaches a log. A link
// may carry it once in the fragment (#token=…), which browsers do not send to the server: it is
// moved to sessionStorage and removed from the address bar at once.

const KEY = 'sweepd-token';

export class Unauthorized extends Error {}

export function takeTokenFromFragment() {
  const m = /^#token=([^&]+)/.exec(location.hash);
  if (!m) return;
  sessionStorage.setItem(KEY, decodeURIComponent(m[1]));
  document.getElementById('token-form').hidden = true;
  history.replaceState(null, '', `${location.pathname}#/`);
}

export function setToken(token) {
  sessionStorage.setItem(KEY, token);
}

function headers(extra = {}) {
  const token = sessionStorage.getItem(KEY);
  return token ? { ...extra, authorization: `Bearer ${token}` } : extra;
}

async function check(res) {
  if (res.status === 401) throw new Unauthorized((await res.json().catch(() => ({}))).error ?? 'unauthorized');
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    throw new Error(body.error ?? `${res.status} ${res.statusText}`);
  }
  return res;
}

export async function getJson(path, signal) {
  return (await check(await fetch(path, { headers: headers(), signal }))).json();
}

export async function post(path) {
  return (await check(await fetch(path, { method: 'POST', headers: headers() }))).json();
}

/**
 * Follows an SSE stream with fetch (EventSource cannot send headers), calling onEvent(name, data)
 * per event, and reconnects with Last-Event-ID until `signal` aborts. onEvent returns true for the
 * study's final event: the daemon closes the stream after it, and that end is not reconnected.
 * onState('live'|'down'|undefined when done).
 */
export async function follow(path, { signal, onEvent, onState = () => {} }) {
  let lastId;
  let delay = 500;
  while (!signal.aborted) {
    let final = false;
    try {
      const res = await check(await fetch(path, { headers: headers(lastId ? { 'last-event-id': lastId } : {}), signal }));
      onState('live');
      delay = 500;
      for await (const ev of events(res.body)) {
        if (ev.id !== undefined) lastId = ev.id;
        final = (await onEvent(ev.event, ev.data)) === true;
      }
    } catch (err) {
      if (signal.aborted) return;
      if (err instanceof Unauthorized) throw err;
    }
    // However the connection ended, after the study's final table there is nothing to wait for.
    if (final) {
      onState(undefined);
      return;
    }
    onState('down');
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 10_000);
  }
}

async function* events(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let data = [];
  let event = '';
  let id;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buffer += value;
    const lines = buffer.split(/\r\n|\r|\n/);
    buffer = lines.pop();
    for (const line of lines) {
      if (line === '') {
        if (data.length) yield { id, event: event || 'message', data: data.join('\n') };
        data = [];
        event = '';
      } else if (!line.startsWith(':')) {
        const i = line.indexOf(':');
        const field = i < 0 ? line : line.slice(0, i);
        const v = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
        if (field === 'data') data.push(v);
        else if (field === 'event') event = v;
        else if (field === 'id') id = v;
      }
    }
  }
}
