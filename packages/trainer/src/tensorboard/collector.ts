/**
 * TensorBoard collector: turns the event files a training script writes into sweepd epoch records.
 * See docs/tensorboard.md for the rules users rely on (tag map, steps → epochs, layers, notes).
 */

import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import type { EpochRecord, LayerStats } from '@sweepd/core';
import { EventDecoder, type SummaryPoint } from './event-decoder.ts';
import { type Histogram, nonFiniteHistogram, sameHistogram } from './histogram.ts';
import { type DistributionStats, histogramStats } from './histogram-stats.ts';
import { kernelLayer, sparsityLayer } from './layer-tags.ts';
import { RecordFileReader } from './record-reader.ts';
import { TagMap, TagMapError } from './tag-map.ts';

export interface TensorBoardCollectorOptions {
  /** The directory the script writes event files into (searched recursively). */
  dir: string;
  /** `<run>/<tag>` (or a pattern with one `*`) → sweepd metric name. */
  tags: Record<string, string>;
  /** Global steps per epoch: a value at step s belongs to epoch max(1, ceil(s / stepsPerEpoch)). */
  stepsPerEpoch?: number;
  /**
   * Without stepsPerEpoch, the metric whose steps are the epochs: each distinct step at which it
   * appears ends the next epoch. Default: the metric of the first entry in `tags`.
   */
  epochMetric?: string;
  log?: (message: string) => void;
  /**
   * What the trial should hear of, besides the log: a file that cannot be read on (a record whose
   * checksum fails, an event that does not decode; told once per file, and the collector stops
   * reading that file at the bad record, never skipping past it, and goes on with the others; without
   * this, such an error is thrown from poll()), the first value dropped because its step's epoch was
   * already reported, and a record left incomplete when the writer stopped. Without it they are logged.
   */
  onProblem?: (problem: string) => void;
}

const EVENT_FILE_PREFIX = 'events.out.tfevents.';
/** At most this many names in one epoch's notes list; the rest are counted. */
const MAX_NOTED_NAMES = 50;

interface FileState {
  reader: RecordFileReader;
  decoder: EventDecoder;
  /** The file's directory relative to `dir`, with '/' separators; '' at the top. */
  run: string;
  /** What each tag of this file means, worked out once per tag. */
  tags: Map<string, TagInfo>;
  /** Why the file is no longer read (set once, by the first bad record). */
  broken?: string;
  /** The latest step of a value the collector reads in this file (a writer has got that far). */
  maxReadableStep: number;
}

interface TagInfo {
  /** `<run>/<tag>`, as the tag map and the notes name it. */
  name: string;
  metric: string | undefined;
  /** For `sparsity/<end point>` scalars. */
  endPoint: string | undefined;
  /** For kernel histograms. */
  kernel: string | undefined;
}

interface Stamped<T> {
  step: number;
  value: T;
}

/** A kernel histogram, summarised when it arrives (so a backlog of histograms is not held in memory). */
interface KernelSummary {
  stats: DistributionStats | undefined;
  /** Identical to the first histogram seen for the layer, at an earlier step. */
  unchanged: boolean;
  /** The weights held NaN or ±Infinity. */
  nonFinite: boolean;
}

/** What arrived for one global step and has not been emitted yet. */
interface StepData {
  metrics: Map<string, number>;
  kernels: Map<string, KernelSummary>;
  sparsity: Map<string, number>;
  /** The epoch metric appeared at this step (no stepsPerEpoch). */
  clock: boolean;
}

export class TensorBoardCollector {
  private readonly dir: string;
  private readonly tagMap: TagMap;
  private readonly stepsPerEpoch: number | undefined;
  private readonly epochMetric: string | undefined;
  private readonly log: (message: string) => void;
  private readonly onProblem: ((problem: string) => void) | undefined;

  private readonly files = new Map<string, FileState>();
  private readonly pending = new Map<number, StepData>();
  /** The first kernel histogram seen for each layer: an unchanged kernel is reported as not trainable. */
  private readonly firstKernel = new Map<string, Stamped<Histogram>>();
  private readonly kernelLayers = new Set<string>();
  private readonly seenUnmapped = new Set<string>();
  private unmappedToNote: string[] = [];
  private lateToNote = new Map<string, number>();
  private lateTold = false;
  private maxStep = Number.NEGATIVE_INFINITY;
  /** Values at or below this step belong to epochs already emitted. */
  private emittedThroughStep = Number.NEGATIVE_INFINITY;
  private epochsEmitted = 0;
  /**
   * Epoch-metric clock: what the epochs returned so far held at their clock step (metrics, kernels,
   * sparsity), while every one of them was that one step alone (a writer whose step is the epoch:
   * Keras, a SummaryWriter per epoch). An epoch holding all of it at its clock step is complete
   * without waiting for a later step. Undefined before the first epoch, or once an epoch spanned
   * several steps (TF-slim's training steps before an evaluation, which may still be on their way).
   */
  private clockEpochValues: Set<string> | undefined;
  private clockEpochsSingleStep = true;
  /** What every epoch returned so far held (with stepsPerEpoch): a last epoch short of it is a fragment. */
  private wholeEpoch: { metrics: Set<string>; reach: number } | undefined;
  private finished = false;
  private missingDirLogged = false;
  private stepZeroTold = false;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(opts: TensorBoardCollectorOptions) {
    this.dir = opts.dir;
    this.tagMap = new TagMap(opts.tags);
    this.log = opts.log ?? (() => {});
    this.onProblem = opts.onProblem;
    if (opts.stepsPerEpoch !== undefined) {
      if (!Number.isInteger(opts.stepsPerEpoch) || opts.stepsPerEpoch < 1) {
        throw new TagMapError(`stepsPerEpoch must be a positive integer, got ${opts.stepsPerEpoch}`);
      }
      this.stepsPerEpoch = opts.stepsPerEpoch;
    } else {
      const first = Object.values(opts.tags)[0];
      this.epochMetric = opts.epochMetric ?? first;
      if (this.epochMetric === undefined) {
        throw new TagMapError('tags: map at least one tag to a metric, or give stepsPerEpoch: without either no step can end an epoch');
      }
      if (this.epochMetric.includes('*')) {
        throw new TagMapError(`the epoch metric '${this.epochMetric}' is a pattern: name a metric (epochMetric) or give stepsPerEpoch`);
      }
    }
  }

  /** Reads what was written since the last call; returns the epochs completed since then. */
  poll(): Promise<EpochRecord[]> {
    return this.serialized(async () => {
      if (this.finished) return [];
      await this.ingest();
      return this.emit(false);
    });
  }

  /**
   * Once the writer has exited: reads the rest and returns every epoch not yet returned. `cutShort`:
   * the writer was stopped or failed, so (with stepsPerEpoch) its last epoch may be a fragment; it is
   * returned only when it holds every metric each earlier epoch held and reaches as far into the
   * epoch as each of them did, else dropped and logged.
   */
  finish({ cutShort = false }: { cutShort?: boolean } = {}): Promise<EpochRecord[]> {
    return this.serialized(async () => {
      if (this.finished) return [];
      await this.ingest();
      // The writer has exited: a record left incomplete will never be finished, and what it held is lost.
      for (const [file, state] of this.files) {
        const left = state.reader.unreadBytes;
        if (!state.broken && left > 0)
          this.problem(`${file}: the last ${left} bytes are an incomplete record (cut short when the writer stopped), lost`);
      }
      this.finished = true;
      return this.emit(true, cutShort);
    });
  }

  /** How many event files were found under `dir` so far. */
  filesFound(): number {
    return this.files.size;
  }

  /** Unmapped tags ("<run>/<tag> (scalar)") seen since the last epoch returned: none of its notes name them. */
  unmappedLeft(): readonly string[] {
    return this.unmappedToNote;
  }

  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => {});
    return next;
  }

  private async ingest(): Promise<void> {
    for (const file of await this.discover()) {
      if (!this.files.has(file)) {
        const run = relative(this.dir, dirname(file)).split(sep).join('/');
        this.files.set(file, {
          reader: new RecordFileReader(file),
          decoder: new EventDecoder(file),
          run,
          tags: new Map(),
          maxReadableStep: Number.NEGATIVE_INFINITY,
        });
        this.log(`tensorboard: reading ${file}`);
      }
    }
    for (const state of this.files.values()) {
      if (state.broken) continue;
      try {
        await state.reader.forEachNew((data, offset) => {
          for (const point of state.decoder.decode(data, offset)) this.accept(point, state);
        });
      } catch (err) {
        // One damaged file (an old run's, say) must not hide the others, nor be reported at every poll.
        if (!this.onProblem) throw err;
        state.broken = err instanceof Error ? err.message : String(err);
        this.problem(state.broken);
      }
    }
  }

  /** Event files under `dir`, in a stable order. */
  private async discover(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.dir, { recursive: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        if (!this.missingDirLogged) this.log(`tensorboard: ${this.dir} does not exist yet`);
        this.missingDirLogged = true;
        return [];
      }
      throw err;
    }
    const files: string[] = [];
    for (const name of names) {
      if (!basename(name).startsWith(EVENT_FILE_PREFIX)) continue;
      const path = join(this.dir, name);
      if (this.files.has(path) || (await stat(path)).isFile()) files.push(path);
    }
    return files.sort();
  }

  private stepData(step: number): StepData {
    let data = this.pending.get(step);
    if (!data) {
      data = { metrics: new Map(), kernels: new Map(), sparsity: new Map(), clock: false };
      this.pending.set(step, data);
    }
    return data;
  }

  private tagInfo(state: FileState, tag: string): TagInfo {
    let info = state.tags.get(tag);
    if (!info) {
      const name = state.run === '' ? tag : `${state.run}/${tag}`;
      info = { name, metric: this.tagMap.metricFor(name), endPoint: sparsityLayer(tag), kernel: kernelLayer(tag) };
      state.tags.set(tag, info);
    }
    return info;
  }

  private accept(point: SummaryPoint, state: FileState): void {
    const { name, metric, endPoint, kernel } = this.tagInfo(state, point.tag);
    const { step } = point;
    // Only values the collector reads move the clock: Keras 3 also writes evaluation_*_vs_iterations
    // at optimizer-iteration steps (24, 48, …) beside the epoch-indexed ones, and those would make
    // every epoch look complete before its histograms were read.
    const readable =
      point.kind === 'scalar' ? metric !== undefined || endPoint !== undefined : point.kind === 'histogram' && kernel !== undefined;
    if (readable && step > this.maxStep) this.maxStep = step;
    if (readable && step > state.maxReadableStep) state.maxReadableStep = step;
    if (point.kind === 'scalar') {
      if (metric === undefined && endPoint === undefined) {
        this.unmapped(name, 'scalar');
        return;
      }
      if (step <= this.emittedThroughStep) {
        this.late(name);
        return;
      }
      const data = this.stepData(step);
      if (metric !== undefined) {
        if (step === 0 && this.stepsPerEpoch === 1 && !this.stepZeroTold) {
          // Keras counts epochs from step 0: with one step per epoch, steps 0 and 1 both land in epoch 1.
          this.stepZeroTold = true;
          this.problem(
            `'${name}' has a value at step 0, which steps_per_epoch 1 puts in epoch 1 with step 1's (the later wins, the first epoch is lost): ` +
              'for a writer whose step is the 0-based epoch (Keras), leave steps_per_epoch out and each step is an epoch',
          );
        }
        data.metrics.set(metric, point.value);
        if (metric === this.epochMetric) data.clock = true;
      }
      if (endPoint !== undefined) data.sparsity.set(endPoint, point.value);
    } else if (point.kind === 'histogram') {
      const layer = kernel;
      if (layer === undefined) {
        this.unmapped(name, 'histogram');
        return;
      }
      if (step <= this.emittedThroughStep) {
        this.late(name);
        return;
      }
      this.kernelLayers.add(layer);
      const first = this.firstKernel.get(layer);
      if (!first || step < first.step) this.firstKernel.set(layer, { step, value: point.histogram });
      const unchanged = first !== undefined && first.step < step && sameHistogram(first.value, point.histogram);
      const nonFinite = nonFiniteHistogram(point.histogram);
      this.stepData(step).kernels.set(layer, { stats: nonFinite ? undefined : histogramStats(point.histogram), unchanged, nonFinite });
    } else {
      this.unmapped(name, point.what);
    }
  }

  private unmapped(name: string, what: string): void {
    const key = `${name} (${what})`;
    if (this.seenUnmapped.has(key)) return;
    this.seenUnmapped.add(key);
    this.unmappedToNote.push(key);
  }

  /** Told to the trial where there is a listener (which logs it), else logged. */
  private problem(message: string): void {
    if (this.onProblem) this.onProblem(message);
    else this.log(`tensorboard: ${message}`);
  }

  private late(name: string): void {
    if (!this.lateTold) {
      // They may be a whole second training stage: tell the trial once, not only the log and the
      // next epoch's notes (there may be no next epoch).
      this.lateTold = true;
      this.problem(
        `a value of '${name}' arrived for a step already read and was dropped (later ones are counted in the notes): ` +
          'a writer that starts its steps again (a second Keras fit() without initial_epoch, say) is not read as new epochs, ' +
          'and a value flushed after a later epoch of the other files had been read comes too late',
      );
    }
    this.lateToNote.set(name, (this.lateToNote.get(name) ?? 0) + 1);
  }

  private epochOf(step: number): number {
    return Math.max(1, Math.ceil(step / this.stepsPerEpoch!));
  }

  private emit(final: boolean, cutShort = false): EpochRecord[] {
    const steps = [...this.pending.keys()].sort((a, b) => a - b);
    const out: EpochRecord[] = [];
    if (this.stepsPerEpoch !== undefined) {
      const completeThrough = final ? Number.POSITIVE_INFINITY : this.epochOf(this.maxStep) - 1;
      let group: number[] = [];
      let groupEpoch = 0;
      for (const step of steps) {
        const epoch = this.epochOf(step);
        if (epoch > completeThrough) break;
        if (epoch !== groupEpoch && group.length > 0) {
          out.push(this.record(groupEpoch, group));
          group = [];
        }
        groupEpoch = epoch;
        group.push(step);
      }
      if (group.length > 0) {
        const short = cutShort ? this.shortOfWhole(groupEpoch, group) : undefined;
        if (short === undefined) out.push(this.record(groupEpoch, group));
        else this.dropFragment(groupEpoch, group, short);
      }
      if (Number.isFinite(completeThrough) && completeThrough > 0) {
        this.emittedThroughStep = Math.max(this.emittedThroughStep, completeThrough * this.stepsPerEpoch);
      }
    } else {
      let group: number[] = [];
      for (const step of steps) {
        group.push(step);
        const data = this.pending.get(step)!;
        if (!data.clock) continue;
        if (!final && !(this.maxStep > step) && !this.holdsWholeClockEpoch(group, data)) break;
        this.noteClockEpoch(group, data);
        out.push(this.record(this.epochsEmitted + 1, group));
        this.emittedThroughStep = step;
        group = [];
      }
      if (final && this.pending.size > 0) {
        const rest = [...this.pending.keys()].sort((a, b) => a - b);
        this.log(
          `tensorboard: ${rest.length} step(s) after the last '${this.epochMetric}' value (steps ${rest[0]}–${rest[rest.length - 1]}) end no epoch and were dropped`,
        );
        this.pending.clear();
      }
    }
    if (final && (this.unmappedToNote.length > 0 || this.lateToNote.size > 0) && out.length === 0) {
      this.log(`tensorboard: left unreported at the end: ${this.describeLeftovers()}`);
    }
    return out;
  }

  /** The values a step holds, named by kind (a metric, a layer's kernel, an end point's sparsity). */
  private static valuesAt(data: StepData): string[] {
    return [
      ...[...data.metrics.keys()].map((m) => `metric ${m}`),
      ...[...data.kernels.keys()].map((l) => `kernel ${l}`),
      ...[...data.sparsity.keys()].map((e) => `sparsity ${e}`),
    ];
  }

  /**
   * Whether the epoch ending at the clock step of `data` (its steps `group`) is complete before any
   * later step was seen: it is that step alone, as every epoch before it was; it holds every value
   * that they held at theirs (a kernel histogram written only every other epoch makes the epochs
   * without it wait for a later step, as the first epoch always does); every metric an exact entry
   * of the tag map names was among those (a training loss written between evaluations, not at
   * them, may still be on its way); and every event file has a value at this step or later (each
   * writer has got this far).
   */
  private holdsWholeClockEpoch(group: number[], data: StepData): boolean {
    if (!this.clockEpochValues || !this.clockEpochsSingleStep || group.length > 1) return false;
    const step = group[0]!;
    for (const file of this.files.values()) if (!(file.maxReadableStep >= step)) return false;
    for (const metric of this.tagMap.exactMetrics()) if (!this.clockEpochValues.has(`metric ${metric}`)) return false;
    const present = new Set(TensorBoardCollector.valuesAt(data));
    for (const value of this.clockEpochValues) if (!present.has(value)) return false;
    return true;
  }

  private noteClockEpoch(group: number[], data: StepData): void {
    if (group.length > 1) this.clockEpochsSingleStep = false;
    this.clockEpochValues ??= new Set();
    for (const value of TensorBoardCollector.valuesAt(data)) this.clockEpochValues.add(value);
  }

  /** How far into its epoch the last of `steps` lies (1 … stepsPerEpoch; step 0 counts as 0). */
  private reachOf(epoch: number, steps: number[]): number {
    return steps[steps.length - 1]! - (epoch - 1) * this.stepsPerEpoch!;
  }

  /**
   * Why epoch `epoch` of `steps` is short of every whole epoch returned before it, or undefined:
   * it lacks a metric each of them held, or its steps stop earlier in the epoch than any of theirs.
   * A first epoch has nothing to be measured against and is kept.
   */
  private shortOfWhole(epoch: number, steps: number[]): string | undefined {
    if (!this.wholeEpoch) return undefined;
    const present = new Set(steps.flatMap((step) => [...this.pending.get(step)!.metrics.keys()]));
    const missing = [...this.wholeEpoch.metrics].filter((metric) => !present.has(metric));
    if (missing.length > 0) return `it lacks ${missing.map((m) => `'${m}'`).join(', ')}, which every earlier epoch held`;
    const reach = this.reachOf(epoch, steps);
    if (reach < this.wholeEpoch.reach)
      return `its last step is ${reach} of ${this.stepsPerEpoch} into the epoch, where every earlier epoch reached ${this.wholeEpoch.reach}`;
    return undefined;
  }

  /** A stopped or failed writer's last epoch, short of a whole one: reported, it would read as trained. */
  private dropFragment(epoch: number, steps: number[], why: string): void {
    for (const step of steps) this.pending.delete(step);
    this.log(
      `tensorboard: epoch ${epoch} (steps ${steps[0]}–${steps[steps.length - 1]}) was cut short ` +
        `(the script was stopped or failed) and is not reported: ${why}`,
    );
  }

  /** One epoch from the pending steps in `steps` (ascending): the latest value of each metric and layer wins. */
  private record(epoch: number, steps: number[]): EpochRecord {
    const metrics: Record<string, number> = {};
    const kernels = new Map<string, KernelSummary>();
    const sparsity = new Map<string, number>();
    for (const step of steps) {
      const data = this.pending.get(step)!;
      this.pending.delete(step);
      for (const [metric, value] of data.metrics) metrics[metric] = value;
      for (const [layer, k] of data.kernels) kernels.set(layer, k);
      for (const [endPoint, value] of data.sparsity) sparsity.set(endPoint, value);
    }
    const layers = new Map<string, LayerStats>();
    for (const [layer, { stats, unchanged }] of kernels) {
      layers.set(layer, stats ? { layer, trainable: !unchanged, ...stats } : { layer, trainable: !unchanged });
    }
    for (const [endPoint, value] of sparsity) {
      const layer = this.layerOfEndPoint(endPoint);
      const stats = layers.get(layer) ?? { layer, trainable: true };
      stats.sparsity = value;
      layers.set(layer, stats);
    }
    const tensorboard: Record<string, unknown> = { steps: [steps[0], steps[steps.length - 1]] };
    // `trainable` read off histograms: false says the histogram did not change, which a rate too
    // low to move a weight past a bucket edge does as well as freezing (the diagnosis reads this).
    if (kernels.size > 0) tensorboard.trainableInferred = true;
    if (this.unmappedToNote.length > 0) {
      tensorboard.unmappedTags = this.unmappedToNote.slice(0, MAX_NOTED_NAMES);
      if (this.unmappedToNote.length > MAX_NOTED_NAMES) tensorboard.unmappedTagsNotListed = this.unmappedToNote.length - MAX_NOTED_NAMES;
      this.unmappedToNote = [];
    }
    if (this.lateToNote.size > 0) {
      tensorboard.lateValues = Object.fromEntries(this.lateToNote);
      this.log(`tensorboard: values for epochs already reported were dropped: ${JSON.stringify(tensorboard.lateValues)}`);
      this.lateToNote = new Map();
    }
    this.epochsEmitted++;
    // As a report line's non-finite layer statistics are: the epoch diverged, naming the layers,
    // so that the divergence rule stops it and the diagnosis says why.
    const nonFinite = [...kernels].filter(([, k]) => k.nonFinite).map(([layer]) => layer);
    const notes: Record<string, unknown> =
      nonFinite.length > 0 ? { tensorboard, diverged: true, non_finite_layers: nonFinite } : { tensorboard };
    if (this.stepsPerEpoch !== undefined) {
      const reach = this.reachOf(epoch, steps);
      this.wholeEpoch = this.wholeEpoch
        ? {
            metrics: new Set([...this.wholeEpoch.metrics].filter((m) => m in metrics)),
            reach: Math.min(this.wholeEpoch.reach, reach),
          }
        : { metrics: new Set(Object.keys(metrics)), reach };
    }
    return { epoch, metrics, layers: [...layers.values()], notes };
  }

  /** The kernel layer a `sparsity/<end point>` belongs to: the only one named `<end point>` or `…/<end point>`; else the end point itself. */
  private layerOfEndPoint(endPoint: string): string {
    let found: string | undefined;
    for (const layer of this.kernelLayers) {
      if (layer === endPoint || layer.endsWith(`/${endPoint}`)) {
        if (found !== undefined) return endPoint;
        found = layer;
      }
    }
    return found ?? endPoint;
  }

  private describeLeftovers(): string {
    const parts: string[] = [];
    if (this.unmappedToNote.length > 0) parts.push(`unmapped tags ${this.unmappedToNote.join(', ')}`);
    if (this.lateToNote.size > 0) parts.push(`late values ${JSON.stringify(Object.fromEntries(this.lateToNote))}`);
    return parts.join('; ');
  }
}
