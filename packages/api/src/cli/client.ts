import { randomUUID } from 'node:crypto';
import { terminalSafe } from './terminal-safe.ts';

/**
 * A small HTTP client for the CLI. Errors carry the server's message and map to exit codes; what
 * it answers is terminal-safe (terminal-safe.ts), since the CLI prints it.
 */

/** Where the client commands look for the daemon unless told (--api, SWEEPD_API_URL). */
export const DEFAULT_API_URL = 'http://127.0.0.1:8080';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Statuses a keyed submission is repeated on; 0 is a request that failed without an answer. */
const RETRYABLE_STATUSES = new Set([0, 500, 502, 503, 504]);

/**
 * Whether a failed request certainly never reached a daemon (nothing listening, no such host):
 * repeating it cannot help, so the user hears at once.
 */
function neverReached(err: ApiError): boolean {
  const code = (err.cause as { cause?: { code?: string } } | undefined)?.cause?.code;
  return err.status === 0 && (code === 'ECONNREFUSED' || code === 'ENOTFOUND');
}

export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly token?: string,
  ) {}

  async json<T>(
    method: string,
    path: string,
    body?: string,
    contentType = 'application/yaml',
    options: { signal?: AbortSignal } = {},
  ): Promise<T> {
    const res = await this.request(method, path, body, contentType, {}, options.signal);
    return terminalSafe((await res.json()) as T);
  }

  /**
   * Submits a spec under a fresh idempotency key, and repeats the request with the same key when
   * the connection fails or is cut (even after the headers), an attempt takes over a minute, or
   * the daemon answers 500/502/503/504 — up to `attempts` times, waiting 0.5 s, 1 s, 2 s, …. The
   * key makes every repeat safe: a reply lost on the way back cannot create a second study.
   */
  async submitStudy<T>(spec: string, options: { attempts?: number; key?: string } = {}): Promise<T> {
    const key = options.key ?? randomUUID();
    const attempts = options.attempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await this.request(
          'POST',
          '/v1/studies',
          spec,
          'application/yaml',
          { 'idempotency-key': key },
          AbortSignal.timeout(60_000),
        );
        try {
          return terminalSafe((await res.json()) as T);
        } catch (err) {
          throw new ApiError(0, `the reply from the daemon at ${this.baseUrl} was cut short (${(err as Error).message})`, undefined, {
            cause: err,
          });
        }
      } catch (err) {
        if (!(err instanceof ApiError) || !RETRYABLE_STATUSES.has(err.status) || neverReached(err) || attempt >= attempts) throw err;
        await new Promise((resolve) => setTimeout(resolve, 500 * 2 ** (attempt - 1)));
      }
    }
  }

  async text(method: string, path: string): Promise<string> {
    return (await this.request(method, path)).text();
  }

  /** Opens an event stream (GET); `lastEventId` resumes it. */
  async stream(
    path: string,
    options: { lastEventId?: string | undefined; signal?: AbortSignal } = {},
  ): Promise<ReadableStream<Uint8Array>> {
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (options.lastEventId) headers['last-event-id'] = options.lastEventId;
    const res = await this.request('GET', path, undefined, undefined, headers, options.signal);
    if (!res.body) throw new ApiError(0, `the daemon at ${this.baseUrl} sent an empty event stream`, undefined);
    return res.body;
  }

  private async request(
    method: string,
    path: string,
    body?: string,
    contentType?: string,
    extra: Record<string, string> = {},
    signal?: AbortSignal,
  ): Promise<Response> {
    const headers: Record<string, string> = { ...extra };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined && contentType) headers['content-type'] = contentType;
    let res: Response;
    try {
      res = await fetch(new URL(path, this.baseUrl), { method, headers, body, ...(signal ? { signal } : {}) });
    } catch (err) {
      throw new ApiError(
        0,
        `cannot reach the sweepd daemon at ${this.baseUrl} (${(err as Error).cause ?? (err as Error).message}); start it with 'sweepd up' or pass --api URL`,
        undefined,
        { cause: err },
      );
    }
    if (!res.ok) {
      const payload = terminalSafe(await res.json().catch(() => undefined));
      const message = (payload as { error?: string } | undefined)?.error ?? `${res.status} ${res.statusText}`;
      // "no study with id …" from the wrong daemon (SWEEPD_API_URL unset) must say which one answered.
      // The daemon's 401 speaks HTTP ('send Authorization: Bearer …'); a CLI user gives the token so.
      const shown =
        res.status === 404
          ? `${message} (at ${this.baseUrl})`
          : res.status === 401
            ? `${message} (with the CLI: --token TOKEN or SWEEPD_API_TOKEN)`
            : message;
      throw new ApiError(res.status, shown, payload);
    }
    return res;
  }
}
