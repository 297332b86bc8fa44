/**
 * Splits a byte stream into lines. Works on bytes, not text, so a UTF-8 character cut between two
 * reads is decoded whole; the unfinished last line is held until its newline arrives.
 *
 * The held pieces are kept as they came and joined once, when the newline arrives: joining them on
 * every read cost the square of a long unfinished line (a progress bar's carriage-return updates
 * on stderr for a whole epoch blocked the daemon for minutes). A line longer than `maxLineBytes`
 * keeps only its first `maxLineBytes`; the rest, up to its newline, is dropped.
 */
export class LineBuffer {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  /** The default: far above a report line within its limits (report-line.ts), far below memory trouble. */
  constructor(private readonly maxLineBytes = 4 * 1024 * 1024) {}

  /** The complete lines in `chunk` (with whatever was pending before it), without their newlines. */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      if (this.pendingBytes === 0) {
        // The common case, a whole line inside one read: decoded straight from the chunk.
        const end = nl > start && chunk[nl - 1] === 0x0d ? nl - 1 : nl;
        lines.push(chunk.toString('utf8', start, Math.min(end, start + this.maxLineBytes)));
      } else {
        this.hold(chunk.subarray(start, nl));
        lines.push(this.take());
      }
      start = nl + 1;
    }
    this.hold(chunk.subarray(start));
    return lines;
  }

  /** What is left without a newline (the stream ended mid-line), and forgets it. */
  rest(): string | undefined {
    if (this.pendingBytes === 0) return undefined;
    const data = this.joined();
    return data.toString('utf8');
  }

  private hold(part: Buffer): void {
    const room = this.maxLineBytes - this.pendingBytes;
    if (part.length === 0 || room <= 0) return;
    // Copied: the stream may reuse the chunk's memory once this read returns.
    const kept = Buffer.from(part.length > room ? part.subarray(0, room) : part);
    this.pending.push(kept);
    this.pendingBytes += kept.length;
  }

  /** The held line, ended by a newline now: without a carriage return before it. */
  private take(): string {
    const data = this.joined();
    const end = data.length > 0 && data[data.length - 1] === 0x0d ? data.length - 1 : data.length;
    return data.toString('utf8', 0, end);
  }

  private joined(): Buffer {
    const data = this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    return data;
  }
}

/** The last `size` lines of a stream, kept in memory while the whole stream goes to a file. */
export class TailLines {
  private readonly lines: string[] = [];
  /** A kept line is cut at 2,000 characters: more than 8 kB of one is never needed. */
  private readonly buffer = new LineBuffer(8 * 1024);

  constructor(private readonly size: number) {}

  push(chunk: Buffer): string[] {
    const complete = this.buffer.push(chunk);
    for (const line of complete) this.keep(line);
    return complete;
  }

  /** The kept lines, the unfinished last one included. */
  get(): string[] {
    const rest = this.buffer.rest();
    if (rest !== undefined) this.keep(rest);
    return [...this.lines];
  }

  private keep(line: string): void {
    this.lines.push(line.length > 2000 ? `${line.slice(0, 2000)}…` : line);
    if (this.lines.length > this.size) this.lines.shift();
  }
}
