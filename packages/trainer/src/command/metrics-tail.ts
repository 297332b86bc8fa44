import { type FSWatcher, watch } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { LineBuffer } from './line-buffer.ts';

/**
 * Follows a file another process appends lines to (the trial's metrics file): reads from a byte
 * offset whenever fs.watch says the directory changed, and every `pollMs` anyway (fs.watch misses
 * events on some file systems, e.g. network mounts and some container overlays). A line is
 * handed on only once its newline was written.
 */
export class FileTail {
  private offset = 0;
  private readonly lines = new LineBuffer();
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reading: Promise<void> = Promise.resolve();

  constructor(
    private readonly file: string,
    private readonly onLine: (line: string) => void,
    private readonly options: { pollMs?: number; log?: (message: string) => void } = {},
  ) {}

  start(): void {
    try {
      // The directory, not the file: the file may not exist yet, and a watch on it would not see it appear.
      this.watcher = watch(path.dirname(this.file), () => void this.read());
      this.watcher.on('error', () => this.watcher?.close());
    } catch {
      // polling alone
    }
    this.timer = setInterval(() => void this.read(), this.options.pollMs ?? 250);
  }

  /** Reads whatever was appended since the last read. Reads never overlap. */
  read(): Promise<void> {
    this.reading = this.reading.then(() => this.readOnce()).catch((err: unknown) => this.options.log?.(`metrics file: ${String(err)}`));
    return this.reading;
  }

  /** Stops following, reads to the end, and returns an unfinished last line if the writer left one. */
  async finish(): Promise<string | undefined> {
    this.watcher?.close();
    if (this.timer) clearInterval(this.timer);
    await this.read();
    return this.lines.rest();
  }

  private async readOnce(): Promise<void> {
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(this.file, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    try {
      const { size } = await handle.stat();
      if (size < this.offset) {
        this.options.log?.(`metrics file shrank from ${this.offset} to ${size} bytes; reading it again from the start`);
        this.offset = 0;
        this.lines.rest();
      }
      const chunk = Buffer.alloc(64 * 1024);
      while (this.offset < size) {
        const { bytesRead } = await handle.read(chunk, 0, Math.min(chunk.length, size - this.offset), this.offset);
        if (bytesRead === 0) break;
        this.offset += bytesRead;
        for (const line of this.lines.push(chunk.subarray(0, bytesRead))) this.onLine(line);
      }
    } finally {
      await handle.close();
    }
  }
}
