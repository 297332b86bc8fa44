/**
 * Event records → summary points. TF1 and torch write scalars as `simple_value` and histograms as
 * `HistogramProto`; TF2's tf.summary writes both as tensors — a scalar-shaped float tensor (plugin
 * "scalars") and a k×3 tensor of [left, right, count] rows (plugin "histograms").
 */

import type { Histogram } from './histogram.ts';
import { decodeEventMessage, type HistogramMessage, type TensorMessage, toNumber } from './proto.ts';

export type SummaryPoint =
  | { kind: 'scalar'; tag: string; step: number; value: number }
  | { kind: 'histogram'; tag: string; step: number; histogram: Histogram }
  /** A value the collector does not use (an image, text, audio, a tensor of another shape): kept so it can be named in notes. */
  | { kind: 'other'; tag: string; step: number; what: string };

export class EventDecodeError extends Error {
  constructor(
    readonly file: string,
    readonly offset: number,
    message: string,
  ) {
    super(`${file}: ${message} (record at byte offset ${offset})`);
    this.name = 'EventDecodeError';
  }
}

// tensorboard.DataType values (types.proto).
const DT_FLOAT = 1;
const DT_DOUBLE = 2;
const DT_INT32 = 3;
const DT_UINT8 = 4;
const DT_INT16 = 5;
const DT_INT8 = 6;
const DT_INT64 = 9;
const DT_BFLOAT16 = 14;
const DT_UINT16 = 17;
const DT_HALF = 19;
const DT_UINT32 = 22;
const DT_UINT64 = 23;

/** Decodes the events of one file; one instance per file, because plugin metadata may come only with a tag's first value. */
export class EventDecoder {
  private readonly pluginByTag = new Map<string, string>();

  constructor(readonly file: string) {}

  decode(bytes: Uint8Array, offset: number): SummaryPoint[] {
    let event: ReturnType<typeof decodeEventMessage>;
    try {
      event = decodeEventMessage(bytes);
    } catch (err) {
      throw new EventDecodeError(this.file, offset, `not a tensorboard.Event: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (event.what !== 'summary' || event.summary === null) return [];
    const step = toNumber(event.step);
    const points: SummaryPoint[] = [];
    for (const v of event.summary.value) {
      const tag = v.tag;
      const plugin = v.metadata?.plugin_data?.plugin_name;
      if (plugin) this.pluginByTag.set(tag, plugin);
      switch (v.value) {
        case 'simple_value':
          points.push({ kind: 'scalar', tag, step, value: v.simple_value });
          break;
        case 'histo':
          points.push(this.fromHistogramProto(v.histo!, tag, step, offset));
          break;
        case 'tensor':
          points.push(this.fromTensor(v.tensor!, tag, step, offset));
          break;
        default:
          points.push({ kind: 'other', tag, step, what: v.value ?? 'empty value' });
      }
    }
    return points;
  }

  private fromHistogramProto(h: HistogramMessage, tag: string, step: number, offset: number): SummaryPoint {
    const k = h.bucket.length;
    const limits = h.bucket_limit;
    const counts = h.bucket;
    if (limits.length !== k) {
      throw new EventDecodeError(
        this.file,
        offset,
        `histogram '${tag}' at step ${step} has ${limits.length} bucket limits for ${k} buckets`,
      );
    }
    const { min, max } = h;
    const rows: number[] = [];
    // bucket_limit[i] is bucket i's right edge; its left edge is the previous limit. The outermost
    // limits are ±DBL_MAX in TF1's layout, so the edges are clamped to the exact min and max.
    let previous = min;
    for (let i = 0; i < k; i++) {
      const limit = limits[i]!;
      let l = Math.max(previous, min);
      if (l > max) l = max;
      let r = Math.min(limit, max);
      if (r < l) r = l;
      rows.push(l, r, counts[i]!);
      previous = limit;
    }
    return { kind: 'histogram', tag, step, histogram: { rows, min, max, num: h.num, sum: h.sum, sumSquares: h.sum_squares } };
  }

  private fromTensor(t: TensorMessage, tag: string, step: number, offset: number): SummaryPoint {
    const plugin = this.pluginByTag.get(tag);
    const dims = (t.tensor_shape?.dim ?? []).map((d) => toNumber(d.size));
    const isScalarShape = dims.length === 0 || (dims.length === 1 && dims[0] === 1);
    const isHistogramShape = dims.length === 2 && dims[1] === 3;
    if ((plugin === 'scalars' || plugin === undefined) && isScalarShape) {
      const values = this.tensorValues(t, 1, tag, step, offset);
      if (values) return { kind: 'scalar', tag, step, value: values[0]! };
    }
    if ((plugin === 'histograms' || plugin === undefined) && isHistogramShape) {
      const rows = dims[0]!;
      const values = this.tensorValues(t, rows * 3, tag, step, offset);
      if (values) return { kind: 'histogram', tag, step, histogram: fromHistogramTensor(values) };
    }
    return { kind: 'other', tag, step, what: `${plugin ?? 'unlabelled'} tensor of shape [${dims.join(', ')}]` };
  }

  /** The tensor's elements as doubles, or undefined for a dtype that is not a real number. */
  private tensorValues(t: TensorMessage, n: number, tag: string, step: number, offset: number): number[] | undefined {
    const out: number[] = [];
    const content = t.tensor_content;
    if (content && content.length > 0) {
      const view = new DataView(content.buffer, content.byteOffset, content.byteLength);
      const size = ELEMENT_BYTES[t.dtype];
      if (size === undefined) return undefined;
      if (content.length !== n * size) {
        throw new EventDecodeError(
          this.file,
          offset,
          `tensor '${tag}' at step ${step}: ${content.length} content bytes for ${n} elements of ${size} bytes`,
        );
      }
      for (let i = 0; i < n; i++) out.push(readElement(view, t.dtype, i * size));
      return out;
    }
    let source: ArrayLike<number>;
    switch (t.dtype) {
      case DT_FLOAT:
        source = t.float_val;
        break;
      case DT_DOUBLE:
        source = t.double_val;
        break;
      case DT_HALF:
        source = t.half_val.map(halfToNumber);
        break;
      case DT_BFLOAT16:
        source = t.half_val.map(bfloat16ToNumber);
        break;
      case DT_INT32:
      case DT_INT16:
      case DT_INT8:
      case DT_UINT8:
      case DT_UINT16:
        source = t.int_val;
        break;
      case DT_INT64:
        source = t.int64_val.map(toNumber);
        break;
      default:
        return undefined;
    }
    if (source.length === 0) {
      if (n === 0) return out;
      throw new EventDecodeError(this.file, offset, `tensor '${tag}' at step ${step} has no values`);
    }
    // TensorProto semantics: fewer values than elements repeat the last one.
    for (let i = 0; i < n; i++) out.push(source[Math.min(i, source.length - 1)]!);
    return out;
  }
}

const ELEMENT_BYTES: Record<number, number> = {
  [DT_FLOAT]: 4,
  [DT_DOUBLE]: 8,
  [DT_INT32]: 4,
  [DT_UINT8]: 1,
  [DT_INT16]: 2,
  [DT_INT8]: 1,
  [DT_INT64]: 8,
  [DT_BFLOAT16]: 2,
  [DT_UINT16]: 2,
  [DT_HALF]: 2,
  [DT_UINT32]: 4,
  [DT_UINT64]: 8,
};

function readElement(view: DataView, dtype: number, at: number): number {
  switch (dtype) {
    case DT_FLOAT:
      return view.getFloat32(at, true);
    case DT_DOUBLE:
      return view.getFloat64(at, true);
    case DT_INT32:
      return view.getInt32(at, true);
    case DT_UINT8:
      return view.getUint8(at);
    case DT_INT16:
      return view.getInt16(at, true);
    case DT_INT8:
      return view.getInt8(at);
    case DT_INT64:
      return Number(view.getBigInt64(at, true));
    case DT_BFLOAT16:
      return bfloat16ToNumber(view.getUint16(at, true));
    case DT_UINT16:
      return view.getUint16(at, true);
    case DT_HALF:
      return halfToNumber(view.getUint16(at, true));
    case DT_UINT32:
      return view.getUint32(at, true);
    default:
      return Number(view.getBigUint64(at, true));
  }
}

/** IEEE 754 binary16 bits → number. */
function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

const BF16 = new DataView(new ArrayBuffer(4));
/** bfloat16 bits (the top half of a float32) → number. */
function bfloat16ToNumber(bits: number): number {
  BF16.setUint32(0, (bits & 0xffff) << 16);
  return BF16.getFloat32(0);
}

/** TF2's histogram tensor: rows of [left, right, count], kept as they are. */
function fromHistogramTensor(rows: number[]): Histogram {
  let num = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < rows.length; i += 3) {
    const c = rows[i + 2]!;
    num += c;
    if (c > 0) {
      if (rows[i]! < min) min = rows[i]!;
      if (rows[i + 1]! > max) max = rows[i + 1]!;
    }
  }
  if (num === 0) {
    min = Number.NaN;
    max = Number.NaN;
  }
  return { rows, min, max, num };
}
