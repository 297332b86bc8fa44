import type { StudyState, Store, TrialState } from '@sweepd/core';
import type { EngineEvent } from '@sweepd/search';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ChangeSource } from '../live/hub.ts';

/** Upper bounds (seconds) of the dispatch latency histogram: from a trial's creation to its first report. */
const DISPATCH_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const TRIAL_STATES: readonly TrialState[] = ['queued', 'running', 'completed', 'stopped', 'failed'];
/** Every state is exported, at 0 too, so an alert on `sweepd_studies{state="failed"} > 0` has a series to watch. */
const STUDY_STATES: readonly StudyState[] = ['running', 'completed', 'stopped', 'failed'];

export interface MetricsSources {
  store: Store;
  events: ChangeSource;
  /** Local trainer processes of this daemon (NATS workers elsewhere are not counted). */
  workers: number;
  sseClients: () => number;
}

/**
 * The daemon's numbers in the Prometheus text format, through prom-client (its own registry, so
 * two daemons in one process do not share series). Counters and the latency histogram are kept
 * from engine events; trials and studies by state are read from the Store at scrape time, so they
 * are right after a restart too.
 */
export class DaemonMetrics {
  private readonly registry = new Registry();
  private readonly trials = new Gauge({
    name: 'sweepd_trials',
    help: 'Trials by state, over every study in the store.',
    labelNames: ['state'],
    registers: [this.registry],
  });
  private readonly studies = new Gauge({
    name: 'sweepd_studies',
    help: 'Studies by state.',
    labelNames: ['state'],
    registers: [this.registry],
  });
  private readonly queueDepth = new Gauge({
    name: 'sweepd_queue_depth',
    help: 'Trials dispatched and waiting for a worker.',
    registers: [this.registry],
  });
  private readonly epochs = new Counter({
    name: 'sweepd_epochs_ingested_total',
    help: 'Epoch reports ingested since the daemon started (an epoch reported again, by a redelivered trial, counts again).',
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: 'sweepd_dispatch_latency_seconds',
    help: 'Time from a trial being created to a worker starting it.',
    buckets: DISPATCH_BUCKETS,
    registers: [this.registry],
  });
  private readonly http = new Counter({
    name: 'sweepd_http_responses_total',
    help: 'HTTP responses by status class.',
    labelNames: ['code'],
    registers: [this.registry],
  });
  private readonly created = new Map<string, number>();
  private readonly onChange = (e: EngineEvent) => this.observe(e);

  constructor(private readonly sources: MetricsSources) {
    new Gauge({ name: 'sweepd_workers', help: 'Local trainer processes of this daemon.', registers: [this.registry] }).set(sources.workers);
    new Gauge({
      name: 'sweepd_sse_clients',
      help: 'Open live leaderboard streams.',
      registers: [this.registry],
      collect() {
        this.set(sources.sseClients());
      },
    });
    sources.events.on('change', this.onChange);
  }

  close(): void {
    this.sources.events.off('change', this.onChange);
  }

  countResponse(status: number): void {
    this.http.inc({ code: `${Math.floor(status / 100)}xx` });
  }

  async render(): Promise<string> {
    // One read of the store per scrape serves both gauges.
    const trials = Object.fromEntries(TRIAL_STATES.map((s) => [s, 0])) as Record<TrialState, number>;
    const studies = Object.fromEntries(STUDY_STATES.map((s) => [s, 0])) as Record<StudyState, number>;
    for (const s of await this.sources.store.listStudies()) {
      for (const state of TRIAL_STATES) trials[state] += s.counts[state] ?? 0;
      studies[s.state]++;
    }
    for (const state of TRIAL_STATES) this.trials.set({ state }, trials[state]);
    for (const state of STUDY_STATES) this.studies.set({ state }, studies[state]);
    this.queueDepth.set(trials.queued);
    return this.registry.metrics();
  }

  private observe(e: EngineEvent): void {
    const key = `${e.studyId}:${e.trialNumber}`;
    if (e.type === 'epoch') this.epochs.inc();
    else if (e.type === 'trial-created') this.created.set(key, performance.now());
    else if (e.type === 'trial-started') {
      const t0 = this.created.get(key);
      this.created.delete(key);
      // Re-dispatched after a restart: its creation time is unknown.
      if (t0 !== undefined) this.latency.observe((performance.now() - t0) / 1000);
    } else if (e.type === 'trial-finished') this.created.delete(key);
  }
}
