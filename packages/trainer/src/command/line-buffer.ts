/**
 * Splits a byte stream into lines. Works on bytes, not text, so a UTF-8 character cut between two
 * reads is decoded whole; the unfinished last line is held until its newline arrives.
 */
export class LineBuffer {
  private pending: Buffer = Buffer.alloc(0);

  /** The complete lines in `chunk` (with whatever was pending before it), without their newlines. */
  push(chunk: Buffer): string[] {
    const data = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const lines: string[] = [];
    let start = 0;
    for (let nl = data.indexOf(0x0a, start); nl !== -1; nl = data.indexOf(0x0a, start)) {
      const end = nl > start && data[nl - 1] === 0x0d ? nl - 1 : nl;
      lines.push(data.toString('utf8', start, end));
      start = nl + 1;
    }
    this.pending = Buffer.from(data.subarray(start));
    return lines;
  }

  /** What is left without a newline (the stream ended mid-line), and forgets it. */
  rest(): string | undefined {
    if (this.pending.length === 0) return undefined;
    const rest = this.pending.toString('utf8');
    this.pending = Buffer.alloc(0);
    return rest;
  }
}

/** The last `size` lines of a stream, kept in memory while the whole stream goes to a file. */
export class TailLines {
  private readonly lines: string[] = [];
  private readonly buffer = new LineBuffer();

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
