import type { Store, TrialState } from '@sweepd/core';
import type { EngineEvent } from '@sweepd/search';
import type { ChangeSource } from '../live/hub.ts';

/** Upper bounds (seconds) of the dispatch latency histogram: from a trial's creation to its first report. */
const DISPATCH_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const TRIAL_STATES: TrialState[] = ['queued', 'running', 'completed', 'stopped', 'failed'];

export interface MetricsSources {
  store: Store;
  events: ChangeSource;
  /** Local trainer processes of this daemon (NATS workers elsewhere are not counted). */
  workers: number;
  sseClients: () => number;
}

/**
 * The daemon's numbers in the Prometheus text format (version 0.0.4). Counters and the latency
 * histogram are kept from engine events; trials by state are read from the Store at scrape time,
 * so they are right after a restart too.
 */
export class DaemonMetrics {
  private epochs = 0;
  private readonly created = new Map<string, number>();
  private readonly bucketCounts = DISPATCH_BUCKETS.map(() => 0);
  private latencyCount = 0;
  private latencySum = 0;
  private readonly httpCodes = new Map<string, number>();
  private readonly onChange = (e: EngineEvent) => this.observe(e);

  constructor(private readonly sources: MetricsSources) {
    sources.events.on('change', this.onChange);
  }

  close(): void {
    this.sources.events.off('change', this.onChange);
  }

  countResponse(status: number): void {
    const code = `${Math.floor(status / 100)}xx`;
    this.httpCodes.set(code, (this.httpCodes.get(code) ?? 0) + 1);
  }

  async render(): Promise<string> {
    const byState = Object.fromEntries(TRIAL_STATES.map((s) => [s, 0])) as Record<TrialState, number>;
    const studies = await this.sources.store.listStudies();
    const studyStates = new Map<string, number>();
    for (const s of studies) {
      for (const state of TRIAL_STATES) byState[state] += s.counts[state] ?? 0;
      studyStates.set(s.state, (studyStates.get(s.state) ?? 0) + 1);
    }
    const lines: string[] = [];
    const metric = (name: string, type: string, help: string, samples: Array<[labels: string, value: number]>) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
    };
    metric(
      'sweepd_trials',
      'gauge',
      'Trials by state, over every study in the store.',
      TRIAL_STATES.map((s) => [`{state="${s}"}`, byState[s]]),
    );
    metric(
      'sweepd_studies',
      'gauge',
      'Studies by state.',
      [...studyStates].map(([s, n]) => [`{state="${s}"}`, n]),
    );
    metric('sweepd_queue_depth', 'gauge', 'Trials dispatched and waiting for a worker.', [['', byState.queued]]);
    metric('sweepd_epochs_ingested_total', 'counter', 'Epoch reports stored since the daemon started.', [['', this.epochs]]);
    metric('sweepd_workers', 'gauge', 'Local trainer processes of this daemon.', [['', this.sources.workers]]);
    metric('sweepd_sse_clients', 'gauge', 'Open live leaderboard streams.', [['', this.sources.sseClients()]]);
    let cumulative = 0;
    const buckets: Array<[string, number]> = DISPATCH_BUCKETS.map((le, i) => {
      cumulative += this.bucketCounts[i] ?? 0;
      return [`{le="${le}"}`, cumulative];
    });
    lines.push(
      '# HELP sweepd_dispatch_latency_seconds Time from a trial being created to a worker starting it.',
      '# TYPE sweepd_dispatch_latency_seconds histogram',
      ...buckets.map(([l, v]) => `sweepd_dispatch_latency_seconds_bucket${l} ${v}`),
      `sweepd_dispatch_latency_seconds_bucket{le="+Inf"} ${this.latencyCount}`,
      `sweepd_dispatch_latency_seconds_sum ${this.latencySum}`,
      `sweepd_dispatch_latency_seconds_count ${this.latencyCount}`,
    );
    metric(
      'sweepd_http_responses_total',
      'counter',
      'HTTP responses by status class.',
      [...this.httpCodes].map(([c, n]) => [`{code="${c}"}`, n]),
    );
    return `${lines.join('\n')}\n`;
  }

  private observe(e: EngineEvent): void {
    const key = `${e.studyId}:${e.trialNumber}`;
    if (e.type === 'epoch') this.epochs++;
    else if (e.type === 'trial-created') this.created.set(key, performance.now());
    else if (e.type === 'trial-started') {
      const t0 = this.created.get(key);
      this.created.delete(key);
      if (t0 === undefined) return; // re-dispatched after a restart: its creation time is unknown
      const seconds = (performance.now() - t0) / 1000;
      this.latencyCount++;
      this.latencySum += seconds;
      const i = DISPATCH_BUCKETS.findIndex((le) => seconds <= le);
      if (i >= 0) this.bucketCounts[i] = (this.bucketCounts[i] ?? 0) + 1;
    } else if (e.type === 'trial-finished') this.created.delete(key);
  }
}
