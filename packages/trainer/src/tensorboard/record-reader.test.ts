import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXPECTED, FIXTURE_SETS, FIXTURES_DIR, fixtureFiles, tfRecord } from './fixtures.ts';
import { RecordFileReader, TfRecordError } from './record-reader.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sweepd-tfrecord-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Byte offsets where each record of a TFRecord file starts, from the length fields. */
function recordStarts(bytes: Buffer): number[] {
  const starts: number[] = [];
  for (let pos = 0; pos < bytes.length; pos += 16 + Number(bytes.readBigUInt64LE(pos))) starts.push(pos);
  return starts;
}

describe('RecordFileReader', () => {
  it('reads every record of the committed event files and stops at the end', async () => {
    for (const set of FIXTURE_SETS) {
      for (const file of fixtureFiles(set)) {
        const path = join(FIXTURES_DIR, set, file);
        const bytes = readFileSync(path);
        const reader = new RecordFileReader(path);
        const records = await reader.readNew();
        expect(records.map((r) => r.offset)).toEqual(recordStarts(bytes));
        expect(reader.offset).toBe(bytes.length);
        expect(await reader.readNew()).toEqual([]);
      }
    }
    // Sanity: the fixture sets hold the values the script wrote.
    expect(EXPECTED.tf1.decoded.length).toBeGreaterThan(50);
  });

  it('waits for a record cut short at the end of the file, keeps its offset, and returns it once written', async () => {
    const source = readFileSync(join(FIXTURES_DIR, 'tf1', fixtureFiles('tf1').find((f) => f.startsWith('train'))!));
    const starts = recordStarts(source);
    const path = join(dir, 'events.out.tfevents.1.test');
    // Two whole records and 5 bytes of the third (not even its full header).
    writeFileSync(path, source.subarray(0, starts[2]! + 5));
    const reader = new RecordFileReader(path);
    expect((await reader.readNew()).map((r) => r.offset)).toEqual([starts[0], starts[1]]);
    expect(reader.offset).toBe(starts[2]);
    // Its header and half its data.
    const half = starts[2]! + 12 + Math.floor((starts[3]! - starts[2]! - 16) / 2);
    appendFileSync(path, source.subarray(starts[2]! + 5, half));
    expect(await reader.readNew()).toEqual([]);
    expect(reader.offset).toBe(starts[2]);
    // The rest of it, and a whole fourth record.
    appendFileSync(path, source.subarray(half, starts[4]));
    const more = await reader.readNew();
    expect(more.map((r) => r.offset)).toEqual([starts[2], starts[3]]);
    expect(Buffer.from(more[0]!.data)).toEqual(source.subarray(starts[2]! + 12, starts[3]! - 4));
  });

  it('reports a corrupt data byte with the file and the record offset', async () => {
    const source = Buffer.from(readFileSync(join(FIXTURES_DIR, 'torch', fixtureFiles('torch')[0]!)));
    const starts = recordStarts(source);
    source[starts[3]! + 12 + 2]! ^= 0x01;
    const path = join(dir, 'events.out.tfevents.2.test');
    writeFileSync(path, source);
    const error = await new RecordFileReader(path).readNew().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TfRecordError);
    expect((error as TfRecordError).offset).toBe(starts[3]);
    expect((error as TfRecordError).message).toContain(path);
    expect((error as TfRecordError).message).toContain('data checksum mismatch');
  });

  it('reports a corrupt length with its CRC, even when the record looks unfinished', async () => {
    const source = Buffer.from(readFileSync(join(FIXTURES_DIR, 'torch', fixtureFiles('torch')[0]!)));
    const starts = recordStarts(source);
    source[starts[1]! + 1]! ^= 0x40; // length grows by 16 KiB: past the end of the file
    const path = join(dir, 'events.out.tfevents.3.test');
    writeFileSync(path, source);
    const error = await new RecordFileReader(path).readNew().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TfRecordError);
    expect((error as TfRecordError).offset).toBe(starts[1]);
    expect((error as TfRecordError).message).toContain('length checksum mismatch');
  });

  it('reports a file that shrank under it', async () => {
    const source = readFileSync(join(FIXTURES_DIR, 'torch', fixtureFiles('torch')[0]!));
    const path = join(dir, 'events.out.tfevents.4.test');
    writeFileSync(path, source);
    const reader = new RecordFileReader(path);
    await reader.readNew();
    writeFileSync(path, source.subarray(0, 100));
    await expect(reader.readNew()).rejects.toThrow(/shrank to 100 bytes/);
  });

  it('reads a backlog of many 1 MiB chunks, records split across chunk boundaries, and a record larger than a chunk', async () => {
    const torch = readFileSync(join(FIXTURES_DIR, 'torch', fixtureFiles('torch')[0]!));
    const perCopy = recordStarts(torch).length;
    const big = Uint8Array.from({ length: 1_500_000 }, (_, i) => (i * 31) & 0xff);
    const bytes = Buffer.concat([...Array.from({ length: 120 }, () => torch), tfRecord(big), torch]);
    const path = join(dir, 'events.out.tfevents.5.test');
    // All but the last 100 bytes: the last record is unfinished.
    writeFileSync(path, bytes.subarray(0, bytes.length - 100));
    const reader = new RecordFileReader(path);
    const first = await reader.readNew();
    expect(first).toHaveLength(120 * perCopy + 1 + perCopy - 1);
    expect(first.map((r) => r.offset)).toEqual(recordStarts(bytes).slice(0, -1));
    expect(Buffer.from(first[120 * perCopy]!.data).equals(Buffer.from(big))).toBe(true);
    expect(Buffer.from(first[5]!.data)).toEqual(torch.subarray(recordStarts(torch)[5]! + 12, recordStarts(torch)[6]! - 4));
    writeFileSync(path, bytes);
    expect((await reader.readNew()).map((r) => r.offset)).toEqual(recordStarts(bytes).slice(-1));
    expect(reader.offset).toBe(bytes.length);
  });

  it('waits for a record larger than a chunk until all of it is written', async () => {
    const big = tfRecord(Uint8Array.from({ length: 3_000_000 }, (_, i) => i % 251));
    const path = join(dir, 'events.out.tfevents.6.test');
    writeFileSync(path, big.subarray(0, 2_000_000));
    const reader = new RecordFileReader(path);
    expect(await reader.readNew()).toEqual([]);
    expect(reader.offset).toBe(0);
    appendFileSync(path, big.subarray(2_000_000));
    const [record] = await reader.readNew();
    expect(record!.data.length).toBe(3_000_000);
    expect(record!.data[2_999_999]).toBe(2_999_999 % 251);
  });
});
