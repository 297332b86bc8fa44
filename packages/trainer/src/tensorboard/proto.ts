/**
 * TensorBoard's Event message, decoded by protobufjs from the .proto files in ./proto (regenerated
 * from the descriptors of the tensorboard Python package by proto/make_protos.py).
 */

import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const PROTO_DIR = fileURLToPath(new URL('./proto/', import.meta.url));

function loadEventType(): protobuf.Type {
  const root = new protobuf.Root();
  // The files import each other as "tensorboard/compat/proto/<name>.proto"; they all live in PROTO_DIR.
  root.resolvePath = (_origin, target) => join(PROTO_DIR, basename(target));
  root.loadSync('event.proto', { keepCase: true });
  root.resolveAll();
  return root.lookupType('tensorboard.Event');
}

export const EVENT_TYPE = loadEventType();

/** A 64-bit integer as protobufjs hands it over: a number, or a Long when the `long` package is present. */
export type Int64 = number | { toNumber(): number };

export interface TensorShapeMessage {
  dim: { size: Int64 }[];
  unknown_rank: boolean;
}

export interface TensorMessage {
  dtype: number;
  tensor_shape: TensorShapeMessage | null;
  tensor_content: Uint8Array;
  half_val: number[];
  float_val: number[];
  double_val: number[];
  int_val: number[];
  int64_val: Int64[];
}

export interface HistogramMessage {
  min: number;
  max: number;
  num: number;
  sum: number;
  sum_squares: number;
  bucket_limit: number[];
  bucket: number[];
}

export interface SummaryValueMessage {
  tag: string;
  metadata: { plugin_data: { plugin_name: string } | null } | null;
  /** Which member of the `value` oneof is set. */
  value?: 'simple_value' | 'obsolete_old_style_histogram' | 'image' | 'histo' | 'audio' | 'tensor';
  simple_value: number;
  histo: HistogramMessage | null;
  tensor: TensorMessage | null;
}

export interface EventMessage {
  wall_time: number;
  step: Int64;
  what?: 'file_version' | 'graph_def' | 'summary' | 'log_message' | 'session_log' | 'tagged_run_metadata' | 'meta_graph_def';
  summary: { value: SummaryValueMessage[] } | null;
}

export function toNumber(value: Int64): number {
  return typeof value === 'number' ? value : value.toNumber();
}

export function decodeEventMessage(bytes: Uint8Array): EventMessage {
  return EVENT_TYPE.decode(bytes) as unknown as EventMessage;
}
