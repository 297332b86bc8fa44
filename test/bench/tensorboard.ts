/**
 * TensorBoard collector benchmark, on one set of event files written in the same run:
 *
 *   - 20,000 global steps (`--steps N` to change) of a TF-slim-style run: per step, one train event
 *     with three simple_value scalars and two HistogramProto kernels (30 buckets), one train event
 *     with a TF2 histogram tensor (30×3 doubles), and one validation event with a TF2 float scalar
 *     tensor; written by TensorFlow's own tf.io.TFRecordWriter (about 40 MB in two files).
 *   - (a) collector ingestion: TensorBoardCollector poll() then finish() over the whole set, to
 *     EpochRecords with metrics and per-layer statistics; target ≥ 10,000 epoch records per second
 *     of CPU time (wall time printed beside it), with stepsPerEpoch 1 and with the epoch-metric
 *     clock (no stepsPerEpoch).
 *   - (b) parsing speed against TensorBoard's own Python reader on the same files:
 *     LegacyEventFileLoader (TensorFlow's PyRecordReader underneath when TensorFlow is installed, as
 *     here), timed inside the Python process after its imports, once reading the events and once
 *     also unpacking every value (simple_value, the HistogramProto lists, tensor_util.make_ndarray);
 *     against sweepd's RecordFileReader + EventDecoder timed inside Node (CRC checks included on
 *     both sides). Both sides must count the same events and values and the same checksum (sum of
 *     scalars and histogram counts). Best of three repeats each, wall time (performance.now /
 *     time.perf_counter) and CPU time (process.cpuUsage / time.process_time). No speed target for
 *     (b): the figures and the ratios are printed.
 *
 * Fails when no Python (references.ts: $SWEEPD_BENCH_PYTHON, /usr/bin/python3, python3) has
 * tensorboard, numpy and tensorflow, when the two readers disagree, or when (a) misses its target.
 *
 * Run: node --import tsx test/bench/tensorboard.ts [--steps 20000]   (or: npm run bench -- tensorboard)
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { EventDecoder } from '../../packages/trainer/src/tensorboard/event-decoder.ts';
import { TensorBoardCollector } from '../../packages/trainer/src/tensorboard/index.ts';
import { RecordFileReader } from '../../packages/trainer/src/tensorboard/record-reader.ts';
import { referencePython } from './references.ts';

const REPEATS = 3;
const TARGET_RECORDS_PER_SECOND = 10_000;

// Writes the event files, then times TensorBoard's reader on them (imports excluded: TensorFlow is
// loaded before the clock starts). Prints one JSON line.
const PYTHON_SCRIPT = `
import glob, json, os, socket, sys, time
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
import tensorflow as tf
import tensorboard
from tensorboard.compat.proto import event_pb2, histogram_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2
from tensorboard.backend.event_processing import event_file_loader
from tensorboard.util import tensor_util

root, steps, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(0)
pool = [rng.normal(0, 0.1, 512) for _ in range(64)]
def histo(v):
    counts, edges = np.histogram(v, bins=30)
    return histogram_pb2.HistogramProto(min=float(v.min()), max=float(v.max()), num=float(v.size), sum=float(v.sum()),
        sum_squares=float((v * v).sum()), bucket_limit=edges[1:].tolist(), bucket=counts.astype(float).tolist())
def hist_tensor(v):
    counts, edges = np.histogram(v, bins=30)
    rows = np.stack([edges[:-1], edges[1:], counts.astype(np.float64)], axis=1)
    shape = tensor_shape_pb2.TensorShapeProto(dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=30), tensor_shape_pb2.TensorShapeProto.Dim(size=3)])
    return tensor_pb2.TensorProto(dtype=types_pb2.DT_DOUBLE, tensor_shape=shape, tensor_content=rows.tobytes())
histos = [histo(v) for v in pool]
tensors = [hist_tensor(v) for v in pool]
scalars_meta = summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars"))
hist_meta = summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="histograms"))

def writer(run):
    os.makedirs(os.path.join(root, run), exist_ok=True)
    w = tf.io.TFRecordWriter(os.path.join(root, run, f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}"))
    w.write(event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2").SerializeToString())
    return w

t = time.perf_counter()
train, validation = writer("train"), writer("validation")
V = summary_pb2.Summary.Value
for step in range(1, steps + 1):
    now = time.time()
    train.write(event_pb2.Event(wall_time=now, step=step, summary=summary_pb2.Summary(value=[
        V(tag="losses/total_loss", simple_value=1.0 / step),
        V(tag="learning_rate", simple_value=0.01),
        V(tag="sparsity/Conv2d_1a_3x3", simple_value=(step % 100) / 100),
        V(tag="InceptionV4/Conv2d_1a_3x3/weights", histo=histos[step % 64]),
        V(tag="InceptionV4/Logits/Logits/weights", histo=histos[(step * 7) % 64]),
    ])).SerializeToString())
    train.write(event_pb2.Event(wall_time=now, step=step, summary=summary_pb2.Summary(value=[
        V(tag="dense/kernel", metadata=hist_meta, tensor=tensors[(step * 13) % 64])])).SerializeToString())
    scalar = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, tensor_shape=tensor_shape_pb2.TensorShapeProto(), float_val=[0.5 + 0.4 * step / steps])
    validation.write(event_pb2.Event(wall_time=now, step=step, summary=summary_pb2.Summary(value=[
        V(tag="epoch_auc", metadata=scalars_meta, tensor=scalar)])).SerializeToString())
train.close(); validation.close()
write_seconds = time.perf_counter() - t

files = sorted(glob.glob(os.path.join(root, "**", "events.out.tfevents.*"), recursive=True))
iterator = type(event_file_loader._make_tf_record_iterator(files[0])).__name__

def load(unpack):
    events = values = 0
    checksum = 0.0
    for path in files:
        for event in event_file_loader.LegacyEventFileLoader(path).Load():
            events += 1
            if not unpack or not event.HasField("summary"):
                continue
            for v in event.summary.value:
                values += 1
                kind = v.WhichOneof("value")
                if kind == "simple_value":
                    checksum += v.simple_value
                elif kind == "histo":
                    limits, counts = list(v.histo.bucket_limit), list(v.histo.bucket)
                    checksum += sum(counts)
                elif kind == "tensor":
                    a = tensor_util.make_ndarray(v.tensor)
                    checksum += float(a) if a.ndim == 0 else float(a[:, 2].sum())
    return events, values, checksum

def best(unpack):
    seconds = cpu = float("inf")
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        result = load(unpack)
        seconds, cpu = min(seconds, time.perf_counter() - t), min(cpu, time.process_time() - c)
    return seconds, cpu, result

load_seconds, load_cpu, (events, _, _) = best(False)
unpack_seconds, unpack_cpu, (_, values, checksum) = best(True)
print(json.dumps({"tensorboard": tensorboard.__version__, "tensorflow": tf.__version__, "iterator": iterator,
    "writeSeconds": write_seconds, "loadSeconds": load_seconds, "unpackSeconds": unpack_seconds, "loadCpu": load_cpu, "unpackCpu": unpack_cpu,
    "events": events, "values": values, "checksum": checksum}))
`;

interface PythonResult {
  tensorboard: string;
  tensorflow: string;
  iterator: string;
  writeSeconds: number;
  loadSeconds: number;
  unpackSeconds: number;
  /** CPU time (time.process_time) of the best repeat. */
  loadCpu: number;
  unpackCpu: number;
  events: number;
  values: number;
  checksum: number;
}

export interface TensorBoardBenchResult {
  steps: number;
  bytes: number;
  python: PythonResult;
  /** Best wall time of RecordFileReader + EventDecoder over every file. */
  sweepdParseSeconds: number;
  /** Best CPU time (user + system, all threads) of the same. */
  sweepdParseCpu: number;
  /** Epoch records per second through TensorBoardCollector, per mode, by wall and by CPU time. */
  ingestion: { mode: string; seconds: number; cpu: number; recordsPerSecond: number; recordsPerCpuSecond: number }[];
}

function eventFiles(root: string): string[] {
  return (readdirSync(root, { recursive: true }) as string[])
    .filter((f) => f.split('/').pop()!.startsWith('events.out.tfevents.'))
    .map((f) => join(root, f))
    .sort();
}

function runPython(root: string, steps: number): PythonResult {
  // Found like every bench reference (references.ts); tensorflow is imported by the script itself,
  // not probed, because importing it takes seconds.
  const PYTHON = referencePython(['tensorboard', 'numpy']);
  const run = spawnSync(PYTHON, ['-c', PYTHON_SCRIPT, root, String(steps), String(REPEATS)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (run.error) throw new Error(`the reference needs ${PYTHON} with tensorflow and tensorboard: ${run.error.message}`);
  if (run.status !== 0) {
    throw new Error(
      `the reference (${PYTHON} with tensorflow and tensorboard) failed (exit ${run.status}): ${run.stderr.trim().split('\n').slice(-5).join('\n')}`,
    );
  }
  const line = run.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as PythonResult;
}

/** RecordFileReader + EventDecoder over every file: the events, the values and their checksum. */
async function parseAll(files: string[]): Promise<{ events: number; values: number; checksum: number }> {
  let events = 0;
  let values = 0;
  let checksum = 0;
  for (const file of files) {
    const decoder = new EventDecoder(file);
    // forEachNew, as the collector reads: records are decoded straight from the read buffer.
    events += await new RecordFileReader(file).forEachNew((data, offset) => {
      for (const point of decoder.decode(data, offset)) {
        values++;
        if (point.kind === 'scalar') checksum += point.value;
        else if (point.kind === 'histogram') checksum += point.histogram.num;
      }
    });
  }
  return { events, values, checksum };
}

const cpuSeconds = (since: NodeJS.CpuUsage) => {
  const c = process.cpuUsage(since);
  return (c.user + c.system) / 1e6;
};

async function ingest(root: string, steps: number, stepsPerEpoch: number | undefined): Promise<{ seconds: number; cpu: number }> {
  const collector = new TensorBoardCollector({
    dir: root,
    tags: { 'validation/epoch_auc': 'val_auc', 'train/losses/total_loss': 'loss' },
    ...(stepsPerEpoch === undefined ? {} : { stepsPerEpoch }),
  });
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  const records = [...(await collector.poll()), ...(await collector.finish())];
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuSeconds(cpu0);
  if (records.length !== steps) throw new Error(`collector: ${records.length} epoch records for ${steps} steps`);
  const last = records[records.length - 1]!;
  const layers = last.layers.map((l) => l.layer).sort();
  if (last.epoch !== steps || last.metrics.loss !== Math.fround(1 / steps) || last.metrics.val_auc !== Math.fround(0.9)) {
    throw new Error(`collector: the last record is wrong: ${JSON.stringify({ epoch: last.epoch, metrics: last.metrics })}`);
  }
  if (JSON.stringify(layers) !== JSON.stringify(['InceptionV4/Conv2d_1a_3x3', 'InceptionV4/Logits/Logits', 'dense'])) {
    throw new Error(`collector: the last record's layers are ${layers.join(', ')}`);
  }
  if (last.layers.some((l) => l.quantiles?.length !== 7)) throw new Error('collector: a layer without quantiles');
  return { seconds, cpu };
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

export async function runTensorBoardBench(opts: { steps?: number } = {}): Promise<TensorBoardBenchResult> {
  const steps = opts.steps ?? 20_000;
  const root = mkdtempSync(join(tmpdir(), 'sweepd-tb-bench-'));
  try {
    const python = runPython(root, steps);
    const files = eventFiles(root);
    const bytes = files.reduce((a, f) => a + statSync(f).size, 0);

    let sweepdParseSeconds = Number.POSITIVE_INFINITY;
    let sweepdParseCpu = Number.POSITIVE_INFINITY;
    let parsed = { events: 0, values: 0, checksum: 0 };
    for (let i = 0; i < REPEATS; i++) {
      const started = performance.now();
      const cpu0 = process.cpuUsage();
      parsed = await parseAll(files);
      sweepdParseSeconds = Math.min(sweepdParseSeconds, (performance.now() - started) / 1000);
      sweepdParseCpu = Math.min(sweepdParseCpu, cpuSeconds(cpu0));
    }
    if (parsed.events !== python.events || parsed.values !== python.values) {
      throw new Error(
        `the readers disagree: sweepd ${parsed.events} events / ${parsed.values} values, TensorBoard ${python.events} / ${python.values}`,
      );
    }
    if (Math.abs(parsed.checksum - python.checksum) > 1e-9 * Math.abs(python.checksum)) {
      throw new Error(`the readers disagree on the values: checksum ${parsed.checksum} (sweepd) vs ${python.checksum} (TensorBoard)`);
    }

    const ingestion: TensorBoardBenchResult['ingestion'] = [];
    for (const [mode, spe] of [
      ['stepsPerEpoch 1', 1],
      ['epoch-metric clock (val_auc)', undefined],
    ] as const) {
      let seconds = Number.POSITIVE_INFINITY;
      let cpu = Number.POSITIVE_INFINITY;
      for (let i = 0; i < 2; i++) {
        const run = await ingest(root, steps, spe);
        seconds = Math.min(seconds, run.seconds);
        cpu = Math.min(cpu, run.cpu);
      }
      ingestion.push({ mode, seconds, cpu, recordsPerSecond: steps / seconds, recordsPerCpuSecond: steps / cpu });
    }

    const result: TensorBoardBenchResult = {
      steps,
      bytes,
      python,
      sweepdParseSeconds,
      sweepdParseCpu,
      ingestion,
    };
    printTensorBoardBench(result);
    const missed = ingestion.filter((i) => i.recordsPerCpuSecond < TARGET_RECORDS_PER_SECOND);
    if (missed.length > 0) {
      throw new Error(
        `collector ingestion below ${fmt(TARGET_RECORDS_PER_SECOND)} epoch records per CPU second: ${missed.map((m) => `${m.mode} ${fmt(m.recordsPerCpuSecond)}`).join(', ')}`,
      );
    }
    return result;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

export function printTensorBoardBench(r: TensorBoardBenchResult): void {
  const mb = r.bytes / 1e6;
  const p = r.python;
  const row = (label: string, wall: number, cpu: number) =>
    console.log(
      `  ${label.padEnd(66)} ${fmt(wall, 3)} s wall (${fmt(mb / wall, 1)} MB/s)  ${fmt(cpu, 3)} s CPU (${fmt(mb / cpu, 1)} MB/s)`,
    );
  console.log(
    `event files: ${fmt(r.steps)} steps, ${fmt(p.events)} events, ${fmt(p.values)} values, ${fmt(mb, 1)} MB in 2 files ` +
      `(written by tf.io.TFRecordWriter, TensorFlow ${p.tensorflow}, in ${fmt(p.writeSeconds, 1)} s)`,
  );
  console.log(`(b) parsing, best of ${REPEATS}, timed inside each process (imports excluded); CPU time is user + system of all threads:`);
  row('sweepd RecordFileReader + EventDecoder, values unpacked', r.sweepdParseSeconds, r.sweepdParseCpu);
  row(`TensorBoard ${p.tensorboard} LegacyEventFileLoader (${p.iterator}), events only`, p.loadSeconds, p.loadCpu);
  row(`TensorBoard ${p.tensorboard} LegacyEventFileLoader, values unpacked`, p.unpackSeconds, p.unpackCpu);
  console.log(
    `  ratio sweepd / TensorBoard with values unpacked: ${fmt(r.sweepdParseSeconds / p.unpackSeconds, 2)}× wall, ${fmt(r.sweepdParseCpu / p.unpackCpu, 2)}× CPU; ` +
      `against its events-only read: ${fmt(r.sweepdParseSeconds / p.loadSeconds, 2)}× wall, ${fmt(r.sweepdParseCpu / p.loadCpu, 2)}× CPU (below 1: sweepd is faster). ` +
      'Both counted the same events, values and checksum.',
  );
  console.log(
    `(a) collector ingestion, poll() + finish() to EpochRecords (best of 2); target ≥ ${fmt(TARGET_RECORDS_PER_SECOND)} records per CPU second ` +
      '(checked on CPU time: on a shared machine wall time also measures the queue for the cores):',
  );
  for (const i of r.ingestion) {
    const ok = i.recordsPerCpuSecond >= TARGET_RECORDS_PER_SECOND ? 'OK' : 'MISSED';
    console.log(
      `  ${i.mode.padEnd(30)} ${fmt(r.steps)} records: ${fmt(i.cpu, 2)} s CPU = ${fmt(i.recordsPerCpuSecond)} records/s ${ok}; ` +
        `${fmt(i.seconds, 2)} s wall = ${fmt(i.recordsPerSecond)} records/s`,
    );
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const at = process.argv.indexOf('--steps');
  await runTensorBoardBench(at > 0 ? { steps: Number(process.argv[at + 1]) } : {});
}
