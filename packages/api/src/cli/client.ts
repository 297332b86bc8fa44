/** A small HTTP client for the CLI. Errors carry the server's message and map to exit codes. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
  }
}

export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly token?: string,
  ) {}

  async json<T>(method: string, path: string, body?: string, contentType = 'application/yaml'): Promise<T> {
    const res = await this.request(method, path, body, contentType);
    return (await res.json()) as T;
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
      );
    }
    if (!res.ok) {
      const payload = await res.json().catch(() => undefined);
      const message = (payload as { error?: string } | undefined)?.error ?? `${res.status} ${res.statusText}`;
      throw new ApiError(res.status, message, payload);
    }
    return res;
  }
}
