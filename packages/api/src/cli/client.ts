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

  private async request(method: string, path: string, body?: string, contentType?: string): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined && contentType) headers['content-type'] = contentType;
    let res: Response;
    try {
      res = await fetch(new URL(path, this.baseUrl), { method, headers, body });
    } catch (err) {
      throw new ApiError(0, `cannot reach the sweepd daemon at ${this.baseUrl} (${(err as Error).cause ?? (err as Error).message}); start it with 'sweepd up' or pass --api URL`, undefined);
    }
    if (!res.ok) {
      const payload = await res.json().catch(() => undefined);
      const message = (payload as { error?: string } | undefined)?.error ?? `${res.status} ${res.statusText}`;
      throw new ApiError(res.status, message, payload);
    }
    return res;
  }
}
