/**
 * TFRecord framing, read incrementally from a file that a training script is still writing:
 *
 *   uint64 length (little-endian) · uint32 masked CRC-32C of those 8 bytes · data · uint32 masked CRC-32C of the data
 *
 * A record cut short at the end of the file has not been written yet: the reader stops before it,
 * keeps its byte offset, and reads it again on the next call. A checksum that does not match is
 * corruption, reported with the file and the record's offset, never skipped.
 */

import { open } from 'node:fs/promises';
import { maskedCrc32c } from './crc.ts';

export class TfRecordError extends Error {
  constructor(
    readonly file: string,
    readonly offset: number,
    message: string,
  ) {
    super(`${file}: ${message} (record at byte offset ${offset})`);
    this.name = 'TfRecordError';
  }
}

export interface TfRecord {
  /** Byte offset of the record's header in the file. */
  offset: number;
  data: Uint8Array;
}

const HEADER_BYTES = 12;
const FOOTER_BYTES = 4;
/** Event records are small; a length above this is a corrupt header that happens to pass its CRC. */
const MAX_RECORD_BYTES = 1 << 30;
/** Bytes read per step: a large backlog is read and handed over in pieces, so little of it is held at once. */
const CHUNK_BYTES = 1 << 20;

export class RecordFileReader {
  /** Where the next unread record starts. */
  private position = 0;
  /** The file's size at the last read. */
  private sizeSeen = 0;
  private buffer: Buffer = Buffer.allocUnsafe(CHUNK_BYTES);

  constructor(readonly file: string) {}

  get offset(): number {
    return this.position;
  }

  /** Bytes after the last whole record, as of the last read: a record still being written, or one cut short. */
  get unreadBytes(): number {
    return this.sizeSeen - this.position;
  }

  /** Every complete record written since the last call, in file order (copies; see forEachNew for the streaming form). */
  async readNew(): Promise<TfRecord[]> {
    const records: TfRecord[] = [];
    await this.forEachNew((data, offset) => records.push({ offset, data: Uint8Array.from(data) }));
    return records;
  }

  /**
   * Hands every complete record written since the last call to `visit`, in file order. `data` is a
   * view of a buffer that the next records reuse: use it before `visit` returns. Returns the count.
   */
  async forEachNew(visit: (data: Uint8Array, offset: number) => void): Promise<number> {
    const handle = await open(this.file, 'r');
    let count = 0;
    try {
      for (;;) {
        const { size } = await handle.stat();
        if (size < this.position) {
          throw new TfRecordError(this.file, this.position, `the file shrank to ${size} bytes after ${this.position} bytes were read`);
        }
        this.sizeSeen = size;
        const remaining = size - this.position;
        if (remaining < HEADER_BYTES) return count;
        const want = Math.min(remaining, this.buffer.length);
        const { bytesRead } = await handle.read(this.buffer, 0, want, this.position);
        const { consumed, records, needed } = this.parse(this.buffer, bytesRead, visit);
        count += records;
        this.position += consumed;
        if (consumed === 0) {
          // The next record does not fit the buffer: grow it when the file already holds all of it.
          if (needed > this.buffer.length && needed <= remaining) this.buffer = Buffer.allocUnsafe(needed);
          else return count;
        }
      }
    } finally {
      await handle.close();
    }
  }

  /** Visits the whole records in buffer[0, length) (which starts at this.position); `needed` is the size of the first one that did not fit. */
  private parse(
    buffer: Buffer,
    length: number,
    visit: (data: Uint8Array, offset: number) => void,
  ): { consumed: number; records: number; needed: number } {
    let pos = 0;
    let records = 0;
    while (pos + HEADER_BYTES <= length) {
      const at = this.position + pos;
      if (buffer.readUInt32LE(pos + 8) !== maskedCrc32c(buffer, pos, pos + 8)) {
        throw new TfRecordError(this.file, at, 'length checksum mismatch: the file is corrupt or not a TFRecord/event file');
      }
      const dataLength = buffer.readUInt32LE(pos + 4) * 0x1_0000_0000 + buffer.readUInt32LE(pos);
      if (dataLength > MAX_RECORD_BYTES)
        throw new TfRecordError(this.file, at, `record length ${dataLength} exceeds ${MAX_RECORD_BYTES} bytes`);
      const end = pos + HEADER_BYTES + dataLength + FOOTER_BYTES;
      // Not written yet, or past this chunk: read again from here.
      if (end > length) return { consumed: pos, records, needed: end - pos };
      const dataStart = pos + HEADER_BYTES;
      if (buffer.readUInt32LE(dataStart + dataLength) !== maskedCrc32c(buffer, dataStart, dataStart + dataLength)) {
        throw new TfRecordError(this.file, at, 'data checksum mismatch: the record is corrupt');
      }
      // A plain view: Buffer.subarray costs several times more per record.
      visit(new Uint8Array(buffer.buffer, buffer.byteOffset + dataStart, dataLength), at);
      records++;
      pos = end;
    }
    return { consumed: pos, records, needed: HEADER_BYTES };
  }
}
