import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

/**
 * A reader for IDX files (the MNIST / Fashion-MNIST format): a big-endian header of magic
 * `0x00 0x00 <type> <rank>`, then `rank` uint32 dimensions, then the values, row-major. Only
 * unsigned bytes (type 0x08) occur in (Fashion-)MNIST and only they are read here. Gzipped files
 * (what Debian installs) are recognised by their own magic and inflated first.
 */
export interface IdxTensor {
  dims: number[];
  data: Uint8Array;
}

const IDX_UBYTE = 0x08;
const IDX_TYPE_NAMES: Record<number, string> = { 8: 'ubyte', 9: 'byte', 11: 'short', 12: 'int', 13: 'float', 14: 'double' };

/** Parses an IDX buffer (gzipped or not); `source` names it in errors. */
export function parseIdx(raw: Uint8Array, source: string): IdxTensor {
  let bytes = raw;
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (error) {
      throw new Error(`IDX file ${source}: gzip data is corrupt (${(error as Error).message})`);
    }
  }
  if (bytes.length < 4) throw new Error(`IDX file ${source}: ${bytes.length} bytes, too short for the 4-byte magic number`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const magic = [...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new Error(`IDX file ${source}: bad magic number ${magic} (expected 00 00 <type> <rank>)`);
  }
  const type = bytes[2] as number;
  const rank = bytes[3] as number;
  if (type !== IDX_UBYTE) {
    const name = IDX_TYPE_NAMES[type];
    throw new Error(
      `IDX file ${source}: element type 0x${type.toString(16).padStart(2, '0')}${name ? ` (${name})` : ' (unknown)'} is not supported: only unsigned bytes (0x08)`,
    );
  }
  if (rank < 1) throw new Error(`IDX file ${source}: rank 0 (expected at least one dimension)`);
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes)
    throw new Error(`IDX file ${source}: ${bytes.length} bytes, too short for a header of ${rank} dimensions`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const expected = dims.reduce((a, b) => a * b, 1);
  const actual = bytes.length - headerBytes;
  if (actual !== expected) {
    throw new Error(
      `IDX file ${source}: dimensions [${dims.join(', ')}] need ${expected} data bytes but the file has ${actual}${actual < expected ? ' (truncated?)' : ''}`,
    );
  }
  return { dims, data: bytes.subarray(headerBytes) };
}

/** Reads and parses an IDX file. */
export function readIdxFile(file: string): IdxTensor {
  let raw: Uint8Array;
  try {
    raw = readFileSync(file);
  } catch (error) {
    throw new Error(`cannot read IDX file ${file}: ${(error as Error).message}`);
  }
  return parseIdx(raw, file);
}

/** Builds an IDX ubyte buffer (tests; writing small fixtures). */
export function encodeIdx(dims: readonly number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  out[2] = IDX_UBYTE;
  out[3] = dims.length;
  const view = new DataView(out.buffer);
  dims.forEach((d, i) => {
    view.setUint32(4 + 4 * i, d, false);
  });
  out.set(data, 4 + 4 * dims.length);
  return out;
}
