import { EventEmitter } from 'node:events';
import {
  type Bus,
  type Logger,
  type PluginRegistry,
  type ReportSubscription,
  registry as defaultRegistry,
  type SearchSpec,
  type Store,
  type StudyRecord,
  silentLogger,
  type TrialView,
} from '@sweepd/core';
import type { ActiveStudy } from './active-study.ts';
import { type EngineContext, type EngineEvent, errorText, within } from './context.ts';
import { endStopsAtShutdown, endUnreportedStops, resendStops, takeBackEndedStudies } from './ended-studies.ts';
import { failCompletedWithoutValue, failStudy } from './finishing.ts';
import { ingest } from './ingestion.ts';
import { sendUnfinishedAgain } from './jobs-lost.ts';
import { ORPHAN_CHECK_MS, OrphanWatch } from './orphans.ts';
import { stopStudy, stopTrial } from './stopping.ts';
import { pump } from './dispatch.ts';
import { activate, type Submitted, Submissions } from './submission.ts';

/** How long a starting engine waits for the reports queued while it was down before it dispatches anyway. */
const CATCH_UP_MS = 60_000;
/**
 * How long after a restart the trials a stop had left in flight may still report their end, on a
 * bus whose workers outlive the daemon (NATS): a worker stopping one waits its stop grace (the
 * examples use 30 s) and may take an ack wait (30 s) to be heard from.
 */
const STOPS_AFTER_RESTART_MS = 60_000;

export type { EngineEvent } from './context.ts';

export interface EngineOptions {
  store: Store;
  bus: Bus;
  registry?: PluginRegistry;
  log?: Logger;
  /** Where relative plugin paths in specs are resolved from. */
  baseDir?: string;
  /**
   * The only directories a spec's plugins may be loaded from. A plugin is code run in this process,
   * and a spec comes from whoever can reach the API: without any, a spec naming plugins is refused.
   */
  pluginDirs?: readonly string[];
  /** Whether the workers see this process's files (local workers do, remote NATS ones may not). Default true. */
  workersShareFiles?: boolean;
  /**
   * The only worker pools that can ever take this engine's jobs (a local bus: its in-process
   * workers' pool, or none); a spec naming another is refused at submit instead of waiting
   * forever. Undefined where workers may join any pool later (NATS).
   */
  servedPools?: readonly string[];
  /**
   * How long after the catch-up a start waits for the ends of the trials a stop had left in flight
   * before it ends them itself. Default: none on the in-process bus (its workers went down with
   * the daemon), STOPS_AFTER_RESTART_MS on any other.
   */
  stopsAfterRestartMs?: number;
  /**
   * How often running trials are checked against what the workers say they run, where the bus can
   * tell (NATS): a trial whose worker has gone reads queued again. Default ORPHAN_CHECK_MS.
   */
  orphanCheckMs?: number;
}

/**
 * The study loop: asks strategies for trials, dispatches them, ingests reports, applies the
 * stopping rules, and finishes studies. It keeps only derived state: on start it reloads every
 * running study from the Store and re-dispatches its unfinished trials, so a restarted daemon
 * continues without repeating or losing a trial.
 *
 * Each part has its module: submission.ts (specs become running studies, and come back after a
 * restart), dispatch.ts (trials from the strategy to the bus), ingestion.ts (reports into the
 * Store), stopping.ts (rules and requests stop trials), finishing.ts (a study completes or fails),
 * trial-outcomes.ts (a trial's end stored).
 */
export class StudyEngine {
  readonly events = new EventEmitter<{ change: [EngineEvent] }>();
  private readonly ctx: EngineContext;
  private readonly submissions: Submissions;
  private reports: ReportSubscription | undefined;
  private readonly stopsAfterRestartMs: number;
  private stopsTimer: NodeJS.Timeout | undefined;
  private readonly orphans: OrphanWatch;

  constructor(options: EngineOptions) {
    this.stopsAfterRestartMs = options.stopsAfterRestartMs ?? (options.bus.kind === 'local' ? 0 : STOPS_AFTER_RESTART_MS);
    this.ctx = {
      store: options.store,
      bus: options.bus,
      registry: options.registry ?? defaultRegistry,
      log: options.log ?? silentLogger,
      baseDir: options.baseDir ?? process.cwd(),
      ...(options.pluginDirs ? { pluginDirs: options.pluginDirs } : {}),
      workersShareFiles: options.workersShareFiles ?? true,
      ...(options.servedPools ? { servedPools: options.servedPools } : {}),
      active: new Map(),
      trialToStudy: new Map(),
      endedTrialsStopped: new Set(),
      recentlyEnded: new Map(),
      closing: false,
      closed: false,
      catchingUp: false,
      emit: (event) => this.events.emit('change', event),
    };
    this.submissions = new Submissions(this.ctx);
    this.orphans = new OrphanWatch(this.ctx, options.orphanCheckMs ?? ORPHAN_CHECK_MS);
    this.events.setMaxListeners(0);
  }

  /**
   * Resumes running studies, ends the trials an ended study left in flight, and starts ingesting reports. The reports that came in while the
   * daemon was down are read first (up to CATCH_UP_MS): a trial that finished meanwhile is then
   * finished here, not sent out to run again.
   */
  async start(): Promise<void> {
    const { ctx } = this;
    ctx.catchingUp = true;
    try {
      for (const record of await ctx.store.runningStudies()) {
        try {
          await activate(ctx, record, true);
        } catch (err) {
          await failStudy(ctx, record.id, `could not resume: ${errorText(err)}`);
        }
      }
      // One read of the studies for both: a study failed here was completed, so has nothing in flight.
      const summaries = await ctx.store.listStudies();
      await failCompletedWithoutValue(ctx, summaries);
      const stopping = [...(await takeBackEndedStudies(ctx, summaries)), ...ctx.active.values()];
      await resendStops(ctx, stopping);
      this.reports = await ctx.bus.consumeReports((batch) => ingest(ctx, batch), {
        onJobsLost: () => void sendUnfinishedAgain(ctx),
      });
      if (!(await this.reports.caughtUp(CATCH_UP_MS)) && !ctx.closing)
        ctx.log.warn(
          { waitedMs: CATCH_UP_MS },
          'the reports queued while the daemon was down are not all read yet; resuming the studies anyway',
        );
      if (this.stopsAfterRestartMs === 0) {
        if (!ctx.closing) await endUnreportedStops(ctx, stopping);
      } else {
        // Their workers may still be winding them down: their ends come in as reports meanwhile.
        this.stopsTimer = setTimeout(() => void this.endStopsLeft(stopping), this.stopsAfterRestartMs);
      }
    } finally {
      ctx.catchingUp = false;
    }
    // (pump does nothing once close() has begun)
    for (const study of [...ctx.active.values()]) await pump(ctx, study);
    this.orphans.start();
  }

  /** Validates, stores and starts a study. Throws SpecError (nothing stored) when the spec is invalid. */
  async submit(input: string | SearchSpec): Promise<StudyRecord> {
    return (await this.submissions.submit(input)).study;
  }

  /**
   * `submit`, made safe to repeat with an idempotency key: the first call with a key creates the
   * study, a repeat with the same spec returns it (`created: false`), starting it if the first
   * call stored it but failed before starting it; a repeat with another spec throws
   * IdempotencyConflictError. Calls with the same key run one at a time.
   */
  submitStudy(input: string | SearchSpec, idempotencyKey?: string): Promise<Submitted> {
    return this.submissions.submit(input, idempotencyKey);
  }

  /**
   * Where the bus can tell (NATS: a durable consumer per pool a worker ever joined), a warning for
   * a pool no worker has joined: its trials would wait in silence (a typo, no GPU worker started,
   * or workers on another SWEEPD_NATS_PREFIX).
   */
  async poolWarning(pool: string): Promise<string | undefined> {
    const warning = await this.poolProblem(pool);
    if (warning) this.ctx.log.warn({ pool }, warning);
    return warning;
  }

  /** poolWarning's text, not logged: for a study read while its trials wait (asked again at every read). */
  async poolProblem(pool: string): Promise<string | undefined> {
    const { bus } = this.ctx;
    let pools: { known: readonly string[]; live: readonly string[] | undefined } | undefined;
    try {
      // Bounded: a submit is answered even while the broker is away (the study is stored already).
      pools = await within(
        (async () => {
          const known = (await bus.knownPools?.()) ?? [];
          let live = await bus.livePools?.();
          // A worker between two pull requests looks absent for a moment: look once more.
          if (live && known.includes(pool) && !live.includes(pool)) {
            await new Promise((r) => setTimeout(r, 300));
            live = await bus.livePools?.();
          }
          return { known, live };
        })(),
        POOL_CHECK_MS,
      );
      if (!pools) this.ctx.log.warn({ waitedMs: POOL_CHECK_MS }, 'could not list the pools workers have joined: no answer from the bus');
    } catch (err) {
      this.ctx.log.warn({ err: errorText(err) }, 'could not list the pools workers have joined');
    }
    if (!bus.knownPools) return undefined;
    // The broker away (NATS down, say): the study is stored and its trials wait, said rather than a silent queue.
    if (!pools)
      return `the message bus did not answer (is NATS down?): the trials of pool '${pool}' wait until it is back and a worker takes them`;
    const { known, live } = pools;
    const how = `(sweepd worker --pool ${pool}, on the same NATS server and SWEEPD_NATS_PREFIX as the daemon)`;
    const others =
      live !== undefined
        ? live.length > 0
          ? `pools with workers now: ${live.map((p) => `'${p}'`).join(', ')}`
          : 'no pool has a worker now'
        : known.length > 0
          ? `pools workers have joined: ${known.map((p) => `'${p}'`).join(', ')}`
          : 'no worker has joined any pool';
    let warning: string | undefined;
    if (!known.includes(pool)) {
      warning = `no worker has joined pool '${pool}' on this bus yet (${others}): its trials wait until one does ${how}`;
    } else if (live !== undefined && !live.includes(pool)) {
      warning = `no worker serves pool '${pool}' now (the workers it had have gone; ${others}): its trials wait until one joins ${how}`;
    }
    return warning;
  }

  stopStudy(studyId: string, reason = 'stopped by user'): Promise<boolean> {
    return stopStudy(this.ctx, studyId, reason);
  }

  /** Stops one trial in flight, of a running study or of one that ended while it winds down. Returns false when it is not running or queued. */
  async stopTrial(studyId: string, number: number, reason = 'stopped by user'): Promise<boolean> {
    const stopped = await stopTrial(this.ctx, studyId, number, reason);
    // A queued trial ends at once: its slot is free, and it may have been the study's last.
    const study = this.ctx.active.get(studyId);
    if (stopped && study) await pump(this.ctx, study);
    return stopped;
  }

  isActive(studyId: string): boolean {
    return this.ctx.active.has(studyId);
  }

  /**
   * A running study as the engine holds it (everything already stored): lets live views skip
   * reading every epoch back from the Store. Undefined once the study has ended.
   */
  view(studyId: string): { record: StudyRecord; trials: readonly TrialView[] } | undefined {
    const study = this.ctx.active.get(studyId);
    return study && { record: study.record, trials: study.history() };
  }

  /** Ends what a stop left in flight at the restart and is still unreported, then fills the slots it held. */
  private async endStopsLeft(studies: readonly ActiveStudy[]): Promise<void> {
    const { ctx } = this;
    if (ctx.closing) return;
    try {
      await endUnreportedStops(ctx, studies);
      for (const study of studies) await pump(ctx, study);
    } catch (err) {
      // The store is away: a later start ends them.
      ctx.log.warn({ err: errorText(err) }, 'could not end the trials a stop had left in flight at the restart');
    }
  }

  /**
   * The first half of close(): nothing more is dispatched, retried or checked, while reports are
   * still ingested. The embedded daemon calls it before it closes its bus, whose trials, stopped at
   * shutdown, report until they have ended (a script that finishes its last epoch in its stop grace
   * completes, instead of training again after the restart).
   */
  stopDispatching(): void {
    if (this.ctx.closing) return;
    this.ctx.closing = true;
    clearTimeout(this.stopsTimer);
    this.orphans.stop();
    for (const study of this.ctx.active.values()) clearTimeout(study.retry);
  }

  async close(): Promise<void> {
    if (this.ctx.closed) return;
    this.ctx.closed = true;
    this.stopDispatching();
    await this.reports?.close();
    // A retry a pump scheduled before it saw the shutdown.
    for (const study of this.ctx.active.values()) clearTimeout(study.retry);
    if (this.ctx.bus.kind !== 'local') return; // remote workers report those ends to the next start
    try {
      await endStopsAtShutdown(this.ctx);
    } catch (err) {
      // The store is away: the next start ends them, as it ends those of a daemon that crashed.
      this.ctx.log.warn({ err: errorText(err) }, 'could not end the trials being stopped at shutdown');
    }
  }
}

/** How long a submit waits to learn which pools have workers before it answers without a warning. */
const POOL_CHECK_MS = 2_000;
