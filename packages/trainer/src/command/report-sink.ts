import { type EpochRecord, noAucClasses } from '@sweepd/core';
import { parseReportLine } from './report-line.ts';

/** Warnings logged per trial for bad lines; the rest are only counted. */
const MAX_WARNINGS = 10;

/**
 * Where a trial's reports converge (metrics file, `@sweepd ` stdout lines, TensorBoard): validates
 * lines, forwards epochs in the order they arrive (one at a time: the worker's report publishing
 * is pipelined but a trial's epochs must not overtake each other), counts bad lines and the
 * problems a reader met (TensorBoard's), and remembers what was reported, for the outcome.
 */
export class ReportSink {
  badLines = 0;
  readonly badExamples: string[] = [];
  /** Problems reading a source that are not bad lines (a damaged event file, values that came too late), as told. */
  readProblems = 0;
  readonly readProblemExamples: string[] = [];
  /** Every metric name any epoch reported. */
  readonly metricsSeen = new Set<string>();
  /** Scalars the TensorBoard reader found but `tensorboard.tags` does not map (from its epochs' notes): where a missing objective may be. */
  readonly unmappedScalars: string[] = [];
  /** The classes the last epoch noted as having no AUC (auc_undefined_classes). */
  noAucClasses: string[] = [];
  epochsReported = 0;
  /** The highest epoch reported. */
  lastEpoch = 0;
  lastReportAt: number | undefined;
  private chain: Promise<void> = Promise.resolve();
  private failure: unknown;

  /** stdout lines that look like reports but lack the `@sweepd ` prefix (not read). */
  unprefixed = 0;
  /** The highest epoch reported beyond the study's budget (not forwarded), 0 when none was. */
  beyondBudget = 0;

  constructor(
    private readonly forward: (epoch: EpochRecord) => Promise<void>,
    private readonly log: (message: string) => void,
    /** budget.max_epochs: later epochs are not the study's (its trials are compared over this many). */
    private readonly maxEpochs = Number.POSITIVE_INFINITY,
    /** Called once, at the first epoch beyond the budget: the trial has trained its budget. */
    private readonly onBudgetTrained: () => void = () => {},
  ) {}

  /** One line of the protocol; `where` names its source in warnings (e.g. `metrics.jsonl line 4`). */
  line(text: string, where: string): void {
    if (text.trim() === '') return;
    const parsed = parseReportLine(text);
    if (parsed.ok) this.epoch(parsed.epoch);
    else this.bad(`${where}: ${parsed.error}`);
  }

  bad(problem: string): void {
    this.badLines++;
    if (this.badExamples.length < 3) this.badExamples.push(problem);
    if (this.badLines <= MAX_WARNINGS) this.log(`skipped a bad report line (${problem})`);
    else if (this.badLines === MAX_WARNINGS + 1) this.log('more bad report lines: counting them without a warning each');
  }

  /** A problem reading a source of reports (`source: what went wrong`); logged as it is, not as a bad line. */
  problem(text: string): void {
    this.readProblems++;
    if (this.readProblemExamples.length < 3) this.readProblemExamples.push(text);
    if (this.readProblems <= MAX_WARNINGS) this.log(text);
    else if (this.readProblems === MAX_WARNINGS + 1) this.log('more problems reading the reports: counting them without a line each');
  }

  epoch(epoch: EpochRecord): void {
    this.lastReportAt = Date.now();
    if (epoch.epoch > this.maxEpochs) {
      if (this.beyondBudget === 0) {
        this.log(
          `epoch ${epoch.epoch} is beyond budget.max_epochs ${this.maxEpochs}: not recorded, and the trial is stopped (it should end at SWEEPD_MAX_EPOCHS)`,
        );
        this.onBudgetTrained();
      }
      this.beyondBudget = Math.max(this.beyondBudget, epoch.epoch);
      return;
    }
    this.epochsReported++;
    this.lastEpoch = Math.max(this.lastEpoch, epoch.epoch);
    for (const name of Object.keys(epoch.metrics)) this.metricsSeen.add(name);
    this.addUnmapped(scalarTags((epoch.notes?.tensorboard as { unmappedTags?: unknown } | undefined)?.unmappedTags));
    if (epoch.epoch >= this.lastEpoch) this.noAucClasses = noAucClasses(epoch.notes);
    this.chain = this.chain.then(() =>
      this.forward(epoch).catch((err: unknown) => {
        this.failure ??= err;
      }),
    );
  }

  /** Unmapped tags no epoch's notes carried (event files read to the end with no epoch ending): kept for the failure. */
  unmappedLeft(tags: readonly string[]): void {
    this.addUnmapped(scalarTags(tags));
  }

  private addUnmapped(tags: readonly string[]): void {
    for (const tag of tags) if (!this.unmappedScalars.includes(tag)) this.unmappedScalars.push(tag);
  }

  /** Waits for every forwarded report; throws the first forwarding failure (the worker hands the trial back). */
  async drain(): Promise<void> {
    await this.chain;
    if (this.failure !== undefined) throw this.failure;
  }
}

/** The scalars among unmapped tags as the collector names them ("<run>/<tag> (scalar)", an epoch's `notes.tensorboard.unmappedTags`). */
function scalarTags(tags: unknown): string[] {
  if (!Array.isArray(tags)) return [];
  return tags.filter((t): t is string => typeof t === 'string' && t.endsWith(' (scalar)')).map((t) => t.slice(0, -' (scalar)'.length));
}
