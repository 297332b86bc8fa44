import type { Logger, Store, StudyRecord, TrialView } from '@sweepd/core';
import { FINISHED_TRIAL_STATES, silentLogger } from '@sweepd/core';
import type { EngineEvent } from '@sweepd/search';
import { type LeaderboardRow, leaderboard, paramColumns } from '../views/leaderboard.ts';
import { SettledTrials } from '../views/settled-trials.ts';
import { countTrials, plannedTrials, studyHeader } from '../views/study.ts';
import { ClientQueue, type LiveEvent } from './client-queue.ts';

export interface ChangeSource {
  on(event: 'change', listener: (e: EngineEvent) => void): unknown;
  off(event: 'change', listener: (e: EngineEvent) => void): unknown;
}

/** Running studies as held in memory (the engine); their tables need no Store read. */
export interface LiveSource {
  view(studyId: string): { record: StudyRecord; trials: readonly TrialView[] } | undefined;
}

export interface HubOptions {
  store: Store;
  events: ChangeSource;
  live?: LiveSource;
  /** Changes within this window go out as one event. */
  coalesceMs?: number;
  /** Where an ended study's trials are read (kept once settled); one of its own over `store` when not given. */
  settled?: SettledTrials;
  /** Events a client may fall behind before it is switched to a snapshot. */
  queueLimit?: number;
  log?: Logger;
}

/** One coalesced change as listed in an event's `changes`. */
export interface LiveChange {
  type: EngineEvent['type'];
  trial?: number;
}

interface Channel {
  clients: Set<ClientQueue>;
  pending: LiveChange[];
  timer: NodeJS.Timeout | undefined;
  building: boolean;
  latest: LiveEvent | undefined;
}

/**
 * The live leaderboards. Engine changes are collected per study and, at most once per
 * `coalesceMs`, the table is taken from the engine's memory (or, for a study that has ended, read from the Store) once, serialized once and handed to every
 * watcher's bounded queue. Each event is a complete table (plus the list of changes it
 * covers), so a client that missed events needs only the latest one: that is how resuming with
 * Last-Event-ID and recovering from an overflowed queue both work.
 *
 * Event ids come from one counter for the whole hub, started at the clock in milliseconds, so
 * they increase per study across channels and across daemon restarts.
 */
export class LeaderboardHub {
  private readonly channels = new Map<string, Channel>();
  private readonly store: Store;
  private readonly events: ChangeSource;
  private readonly live: LiveSource | undefined;
  private readonly coalesceMs: number;
  private readonly queueLimit: number;
  private readonly log: Logger;
  private readonly settled: SettledTrials;
  private seq = Date.now();
  private closed = false;
  private readonly onChange = (e: EngineEvent) => this.changed(e);

  constructor(options: HubOptions) {
    this.store = options.store;
    this.events = options.events;
    this.live = options.live;
    this.coalesceMs = options.coalesceMs ?? 150;
    this.queueLimit = options.queueLimit ?? 16;
    this.log = options.log ?? silentLogger;
    this.settled = options.settled ?? new SettledTrials(options.store);
    this.events.on('change', this.onChange);
  }

  get clientCount(): number {
    let n = 0;
    for (const c of this.channels.values()) n += c.clients.size;
    return n;
  }

  /** Registers a watcher. Call `unsubscribe` when its stream ends. */
  subscribe(studyId: string): ClientQueue {
    const queue = new ClientQueue(this.queueLimit);
    if (this.closed) {
      queue.close();
      return queue;
    }
    let channel = this.channels.get(studyId);
    if (!channel) {
      channel = { clients: new Set(), pending: [], timer: undefined, building: false, latest: undefined };
      this.channels.set(studyId, channel);
    }
    channel.clients.add(queue);
    return queue;
  }

  unsubscribe(studyId: string, queue: ClientQueue): void {
    queue.close();
    const channel = this.channels.get(studyId);
    if (!channel) return;
    channel.clients.delete(queue);
    if (channel.clients.size === 0) {
      clearTimeout(channel.timer);
      this.channels.delete(studyId);
    }
  }

  /** The id of the last event sent for the study, if any in this daemon's lifetime. */
  latestId(studyId: string): number | undefined {
    return this.channels.get(studyId)?.latest?.id;
  }

  /**
   * The current table as an event. It reuses the last event when nothing changed since, and
   * otherwise reads the Store and stamps the table with a new id.
   */
  async snapshot(studyId: string): Promise<LiveEvent | undefined> {
    const channel = this.channels.get(studyId);
    if (channel?.latest && channel.pending.length === 0 && !channel.building) return channel.latest;
    return this.build(studyId, []);
  }

  /** Ends every stream (shutdown). */
  close(): void {
    this.closed = true;
    this.events.off('change', this.onChange);
    for (const [id, channel] of this.channels) {
      clearTimeout(channel.timer);
      for (const q of channel.clients) q.close();
      this.channels.delete(id);
    }
  }

  private changed(e: EngineEvent): void {
    const channel = this.channels.get(e.studyId);
    if (!channel) return; // nobody watches: nothing to do
    channel.pending.push(e.trialNumber === undefined ? { type: e.type } : { type: e.type, trial: e.trialNumber });
    this.schedule(e.studyId, channel);
  }

  private schedule(studyId: string, channel: Channel): void {
    if (channel.timer || channel.building) return;
    channel.timer = setTimeout(() => void this.flush(studyId, channel), this.coalesceMs);
    channel.timer.unref();
  }

  private async flush(studyId: string, channel: Channel): Promise<void> {
    channel.timer = undefined;
    if (this.channels.get(studyId) !== channel) return;
    // One entry per kind of change per trial: a burst of epochs of one trial is one change.
    const changes = [...new Map(channel.pending.map((c) => [`${c.type}:${c.trial}`, c] as const)).values()];
    channel.pending = [];
    channel.building = true;
    try {
      const event = await this.build(studyId, changes);
      if (event) {
        channel.latest = event;
        for (const q of channel.clients) q.push(event);
      }
    } catch (err) {
      this.log.warn({ studyId, err: String(err) }, 'live leaderboard could not be built');
    } finally {
      channel.building = false;
      if (channel.pending.length > 0 && this.channels.get(studyId) === channel) this.schedule(studyId, channel);
    }
  }

  private async build(studyId: string, changes: LiveChange[]): Promise<LiveEvent | undefined> {
    const live = this.live?.view(studyId);
    const study = live?.record ?? (await this.store.getStudy(studyId));
    if (!study) return undefined;
    const trials = live?.trials ?? (await this.settled.of(study));
    const id = ++this.seq;
    const rows = leaderboard(trials, study.spec);
    const { direction } = study.spec.objective;
    const counts = countTrials(trials);
    // A stopped or failed study's running trials still report their last epochs and their end:
    // its table is final only once none is left in flight.
    const final = study.state !== 'running' && counts.queued + counts.running === 0;
    const base = {
      id,
      final,
      study: studyHeader(study, counts),
      total: rows.length,
      columns: paramColumns(study, rows),
      progress: progressOf(rows, study),
      history: bestSoFar(rows, direction),
    };
    const texts = new Map<number, string>();
    const event: LiveEvent = {
      id,
      final,
      text: (limit) => {
        const key = limit === undefined || limit >= rows.length ? -1 : limit;
        let text = texts.get(key);
        if (text === undefined) {
          text = JSON.stringify({ ...base, rows: key < 0 ? rows : rows.slice(0, key), changes });
          texts.set(key, text);
        }
        return text;
      },
    };
    const channel = this.channels.get(studyId);
    if (channel && (!channel.latest || channel.latest.id < id)) channel.latest = event;
    return event;
  }
}

/**
 * Epochs trained of the study's trials (a finished trial counts its whole budget: it will train no
 * more), and the trials the progress is out of: max_trials, or, once the study completed, those it
 * had (its search ran out first, as a grid does).
 */
export function progressOf(
  rows: readonly LeaderboardRow[],
  study: Pick<StudyRecord, 'state' | 'spec'>,
): { finished: number; epochsDone: number; planned: number } {
  let finished = 0;
  let epochsDone = 0;
  for (const r of rows) {
    const done = FINISHED_TRIAL_STATES.has(r.state);
    if (done) finished++;
    epochsDone += done ? r.maxEpochs : r.epochs;
  }
  return { finished, epochsDone, planned: plannedTrials(study.state, study.spec.budget.max_trials, rows.length) };
}

/** The trials that improved on every earlier one, by trial number: the steps of the best-so-far line. */
export function bestSoFar(rows: readonly LeaderboardRow[], direction: 'maximize' | 'minimize'): { number: number; value: number }[] {
  // Ranked rows only: a failed trial's value is not a step of the best so far.
  const scored = rows.filter((r) => r.rank !== null && r.value !== null).sort((a, b) => a.number - b.number);
  const steps: { number: number; value: number }[] = [];
  for (const r of scored) {
    const last = steps.at(-1)?.value;
    const value = r.value as number;
    if (last === undefined || (direction === 'maximize' ? value > last : value < last)) steps.push({ number: r.number, value });
  }
  return steps;
}
