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
/** Read at most this much per call, so a huge file is consumed in pieces. */
const READ_CHUNK_BYTES = 64 << 20;

export class RecordFileReader {
  /** Where the next unread record starts. */
  private position = 0;

  constructor(readonly file: string) {}

  get offset(): number {
    return this.position;
  }

  /** Every complete record written since the last call, in file order. */
  async readNew(): Promise<TfRecord[]> {
    const handle = await open(this.file, 'r');
    try {
      const records: TfRecord[] = [];
      for (;;) {
        const { size } = await handle.stat();
        if (size < this.position) {
          throw new TfRecordError(this.file, this.position, `the file shrank to ${size} bytes after ${this.position} bytes were read`);
        }
        const want = Math.min(size - this.position, READ_CHUNK_BYTES);
        if (want < HEADER_BYTES) return records;
        const buffer = Buffer.allocUnsafe(want);
        const { bytesRead } = await handle.read(buffer, 0, want, this.position);
        const consumed = this.parse(buffer.subarray(0, bytesRead), records);
        this.position += consumed;
        // Stop unless a full chunk was read and parsed: more may follow it in the file.
        if (bytesRead < READ_CHUNK_BYTES || consumed === 0) return records;
      }
    } finally {
      await handle.close();
    }
  }

  /** Parses whole records from `buffer` (which starts at this.position); returns the bytes they span. */
  private parse(buffer: Buffer, into: TfRecord[]): number {
    let pos = 0;
    while (pos + HEADER_BYTES <= buffer.length) {
      const at = this.position + pos;
      if (buffer.readUInt32LE(pos + 8) !== maskedCrc32c(buffer, pos, pos + 8)) {
        throw new TfRecordError(this.file, at, 'length checksum mismatch: the file is corrupt or not a TFRecord/event file');
      }
      const length = Number(buffer.readBigUInt64LE(pos));
      if (length > MAX_RECORD_BYTES) throw new TfRecordError(this.file, at, `record length ${length} exceeds ${MAX_RECORD_BYTES} bytes`);
      const end = pos + HEADER_BYTES + length + FOOTER_BYTES;
      if (end > buffer.length) {
        if (length + HEADER_BYTES + FOOTER_BYTES > READ_CHUNK_BYTES && pos === 0) {
          throw new TfRecordError(this.file, at, `record of ${length} bytes is larger than the ${READ_CHUNK_BYTES}-byte read window`);
        }
        break; // not written yet (or beyond this chunk): read again from here next time
      }
      const dataStart = pos + HEADER_BYTES;
      if (buffer.readUInt32LE(dataStart + length) !== maskedCrc32c(buffer, dataStart, dataStart + length)) {
        throw new TfRecordError(this.file, at, 'data checksum mismatch: the record is corrupt');
      }
      into.push({ offset: at, data: buffer.subarray(dataStart, dataStart + length) });
      pos = end;
    }
    return pos;
  }
}
