import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, beforeAll, expect } from 'vitest';
import { deleteStreams } from '../../packages/core/src/bus/nats/test-env.ts';
import {
  type DaemonProcess,
  parseJsonLines,
  startDaemonProcess,
  startWorkerProcess,
  type WorkerProcess,
} from '../support/daemon-process.ts';
import { createTempDatabase } from '../support/postgres-db.ts';

/**
 * What the distributed and fault tests share: a small simulate-runner study, submitting it, waiting
 * for its end by reading PostgreSQL directly (the daemon may be down at the time), and the final
 * accounting: every trial exactly once, every epoch row exactly once, the exported best config
 * recomputed from the rows.
 */

export const SHARED_NATS_URL = process.env.SWEEPD_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

/** A NATS subject/stream prefix no other test uses. */
export function uniqueNatsPrefix(label: string): string {
  return `${label}_${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

export interface StudyShape {
  name: string;
  trials: number;
  epochs: number;
  parallelism: number;
  /** Simulated seconds per epoch, in ms: long enough for a fault to land mid-trial. */
  epochDelayMs: number;
  seed: number;
  /** Stopping rules (spec `stopping`); with them, trials may end 'stopped' after fewer epochs. */
  stopping?: ReadonlyArray<{ name: string; options?: Record<string, unknown> }>;
}

/** A stopping rule that stops some trials of these studies part-way, so stops cross the faults too. */
export const MEDIAN = [{ name: 'median', options: { warmup_epochs: 2, min_trials: 3 } }] as const;

export const FIXED = { batch_size: 32, weight_decay: 4e-5 } as const;

export function studySpec(shape: StudyShape): Record<string, unknown> {
  return {
    name: shape.name,
    objective: { metric: 'val_auc_macro', direction: 'maximize' },
    space: {
      learning_rate: { type: 'float', low: 1e-5, high: 1e-1, log: true },
      optimizer: { type: 'categorical', choices: ['sgd', 'momentum', 'rmsprop', 'adam'] },
      frozen_layers: { type: 'int', low: 0, high: 8 },
    },
    fixed: FIXED,
    strategy: { name: 'random', options: { seed: shape.seed } },
    budget: { max_trials: shape.trials, max_epochs: shape.epochs, parallelism: shape.parallelism },
    trainer: { runner: 'simulate', options: { curve: 'lr_auc', epoch_delay_ms: shape.epochDelayMs } },
    ...(shape.stopping ? { stopping: shape.stopping } : {}),
  };
}

export async function submitStudy(apiUrl: string, spec: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${apiUrl}/v1/studies`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(spec),
  });
  const body = await res.text();
  if (res.status !== 201) throw new Error(`submitting the study failed: HTTP ${res.status} ${body}`);
  return (JSON.parse(body) as { id: string }).id;
}

export type Sql = postgres.Sql;

/** A small client for reading the study's rows directly. */
export function openSql(url: string): Sql {
  return postgres(url, { max: 2, onnotice: () => {}, connect_timeout: 5, idle_timeout: 5 });
}

/**
 * Polls `check` until it returns a value; errors (a server down on purpose) count as "not yet".
 * Throws naming `what` and the last error on timeout.
 */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface TrialRow {
  id: string;
  number: number;
  state: string;
  value: number | null;
  worker: string | null;
  reason: string | null;
  params: Record<string, unknown>;
  /** The job delivery its epochs come from; null before any started. */
  attempt: number | null;
}

export async function trialRows(sql: Sql, studyId: string): Promise<TrialRow[]> {
  const rows = await sql<TrialRow[]>`
    select id, number, state, value, worker, reason, params, attempt from trials where study_id = ${studyId} order by number`;
  return rows.map((r) => ({ ...r }));
}

/** Epoch rows stored so far for the study. */
export async function epochCount(sql: Sql, studyId: string): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from epochs e join trials t on t.id = e.trial_id where t.study_id = ${studyId}`;
  return row?.n ?? 0;
}

/** Waits until the study is mid-way: at least two trials ended and at least two running (with epochs still to come). */
export async function waitUntilUnderWay(sql: Sql, studyId: string, context: () => string): Promise<void> {
  await eventually(
    async () => {
      const trials = await trialRows(sql, studyId);
      const ended = trials.filter((t) => t.state === 'completed' || t.state === 'stopped').length;
      const running = trials.filter((t) => t.state === 'running').length;
      return ended >= 2 && running >= 2 ? true : undefined;
    },
    30_000,
    `the study to be under way\n${context()}`,
    100,
  );
}

/** Waits until the study row says it ended, and returns its state. */
export async function waitForStudyEnd(sql: Sql, studyId: string, timeoutMs: number, context: () => string): Promise<string> {
  try {
    return await eventually(
      async () => {
        const [row] = await sql<{ state: string }[]>`select state from studies where id = ${studyId}`;
        return row && row.state !== 'running' ? row.state : undefined;
      },
      timeoutMs,
      `study ${studyId} to end`,
      300,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- context ---\n${context()}`);
  }
}

export interface Accounting {
  trials: TrialRow[];
  /** Best objective per trial, recomputed from the epoch rows. */
  bestByTrial: Map<number, number>;
  bestTrial: number;
}

/**
 * The end-of-study checks every fault test makes, against the rows in PostgreSQL:
 * trials 0..max_trials-1 each exactly once and finished (completed, or stopped with a reason when
 * the study has stopping rules), no duplicated (trial, epoch) row, every completed trial with
 * epochs 1..max_epochs and every stopped one with epochs 1..k (k ≥ 1), each trial's
 * stored value equal to the best of its epoch rows, and the export endpoint naming the trial with
 * the best recomputed value and its full config.
 */
export async function expectStudyAccountedFor(
  sql: Sql,
  apiUrl: string,
  studyId: string,
  shape: StudyShape,
  context: () => string = () => '',
): Promise<Accounting> {
  const [study] = await sql<{ state: string; reason: string | null }[]>`select state, reason from studies where id = ${studyId}`;
  expect(study, `study ${studyId} row`).toBeDefined();
  expect(study?.state, `study state (reason: ${study?.reason})\n${context()}`).toBe('completed');

  const trials = await trialRows(sql, studyId);
  expect(
    trials.map((t) => t.number),
    'trial numbers',
  ).toEqual(Array.from({ length: shape.trials }, (_, i) => i));
  const endStates = shape.stopping ? ['completed', 'stopped'] : ['completed'];
  for (const t of trials) {
    expect(endStates, `trial ${t.number} state ${t.state} (${t.reason})\n${context()}`).toContain(t.state);
    if (t.state === 'stopped') expect(t.reason, `reason of stopped trial ${t.number}`).toMatch(/\S/);
  }

  const duplicated = await sql`
    select e.trial_id, e.epoch, count(*)::int as n
    from epochs e join trials t on t.id = e.trial_id
    where t.study_id = ${studyId}
    group by e.trial_id, e.epoch
    having count(*) > 1`;
  expect([...duplicated], 'duplicated epoch rows').toEqual([]);

  const epochRows = await sql<{ number: number; epoch: number; value: string | null }[]>`
    select t.number, e.epoch, e.metrics->>'val_auc_macro' as value
    from epochs e join trials t on t.id = e.trial_id
    where t.study_id = ${studyId}
    order by t.number, e.epoch`;
  const epochsByTrial = new Map<number, number[]>();
  const bestByTrial = new Map<number, number>();
  for (const row of epochRows) {
    epochsByTrial.set(row.number, [...(epochsByTrial.get(row.number) ?? []), row.epoch]);
    const value = row.value === null ? Number.NaN : Number(row.value);
    if (Number.isFinite(value) && !(value <= (bestByTrial.get(row.number) ?? Number.NEGATIVE_INFINITY))) bestByTrial.set(row.number, value);
  }
  const allEpochs = Array.from({ length: shape.epochs }, (_, i) => i + 1);
  for (const t of trials) {
    const stored = epochsByTrial.get(t.number) ?? [];
    if (t.state === 'completed')
      expect(stored, `epochs of trial ${t.number} (${t.id}, attempt ${t.attempt})\n${context()}`).toEqual(allEpochs);
    else
      expect(stored.length > 0 && stored, `epochs of stopped trial ${t.number} (${t.id}, attempt ${t.attempt})\n${context()}`).toEqual(
        allEpochs.slice(0, stored.length),
      );
    expect(t.value, `stored value of trial ${t.number}`).toBe(bestByTrial.get(t.number));
  }

  let bestTrial = -1;
  let bestValue = Number.NEGATIVE_INFINITY;
  for (const [number, value] of [...bestByTrial].sort((a, b) => a[0] - b[0])) {
    if (value > bestValue) {
      bestTrial = number;
      bestValue = value;
    }
  }
  const res = await fetch(`${apiUrl}/v1/studies/${studyId}/export?format=json`);
  expect(res.status, 'export status').toBe(200);
  const exported = (await res.json()) as { trial: number; objective: { value: number }; config: Record<string, unknown> };
  expect(exported.trial, 'exported trial').toBe(bestTrial);
  expect(exported.objective.value).toBe(bestValue);
  expect(exported.config).toEqual({ ...FIXED, ...trials[bestTrial]?.params });
  if (process.env.SWEEPD_FAULT_VERBOSE) {
    const count = (state: string) => trials.filter((t) => t.state === state).length;
    console.log(`${shape.name}: ${count('completed')} completed, ${count('stopped')} stopped; best trial ${bestTrial} = ${bestValue}`);
  }
  return { trials, bestByTrial, bestTrial };
}

export interface TrialStart {
  trialId: string;
  attempt: number;
  worker: string;
}

/** Every 'trial started' line the workers logged: which worker took which trial, on which delivery. */
export function trialStarts(workers: readonly Pick<WorkerProcess, 'logs' | 'name'>[]): TrialStart[] {
  return workers.flatMap((w) =>
    parseJsonLines(w.logs())
      .filter((e) => e.msg === 'trial started')
      .map((e) => ({ trialId: String(e.trialId), attempt: Number(e.attempt), worker: w.name })),
  );
}

/** Trials started more than once, with their starts. */
export function repeatedStarts(starts: readonly TrialStart[]): Record<string, TrialStart[]> {
  const byTrial = new Map<string, TrialStart[]>();
  for (const s of starts) byTrial.set(s.trialId, [...(byTrial.get(s.trialId) ?? []), s]);
  return Object.fromEntries([...byTrial].filter(([, list]) => list.length > 1));
}

/** The tail of some logs, for failure messages. */
export function tails(logs: Record<string, string>, chars = 3_000): string {
  return Object.entries(logs)
    .map(([name, text]) => `--- ${name} ---\n${text.slice(-chars)}`)
    .join('\n');
}

/**
 * The distributed set-up most tests share: a temp PostgreSQL database, `sweepd up` on it and the
 * shared NATS under its own prefix, and `workers` worker processes; started before the file's tests
 * and torn down after them (streams deleted, database dropped).
 */
export function useDistributedCluster(options: { label: string; workers?: number; concurrency?: number; ackWaitMs?: number }) {
  const prefix = uniqueNatsPrefix(options.label);
  const env: Record<string, string> = { SWEEPD_NATS_PREFIX: prefix };
  if (options.ackWaitMs !== undefined) env.SWEEPD_NATS_ACK_WAIT_MS = String(options.ackWaitMs);
  const cluster = {
    prefix,
    env,
    workers: [] as WorkerProcess[],
    sql: undefined as unknown as Sql,
    daemon: undefined as DaemonProcess | undefined,
    db: undefined as Awaited<ReturnType<typeof createTempDatabase>> | undefined,
  };
  beforeAll(async () => {
    cluster.db = await createTempDatabase(`sweepd_${options.label}`);
    cluster.sql = openSql(cluster.db.url);
    cluster.daemon = await startDaemonProcess({ args: ['--database-url', cluster.db.url, '--nats-url', SHARED_NATS_URL], env });
    for (let i = 0; i < (options.workers ?? 2); i++) {
      cluster.workers.push(await startWorkerProcess({ nats: SHARED_NATS_URL, concurrency: options.concurrency ?? 2, env }));
    }
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled(cluster.workers.map((w) => w.stop()));
    await cluster.daemon?.stop();
    await cluster.sql?.end();
    await cluster.db?.drop();
    await deleteStreams(SHARED_NATS_URL, prefix);
  });
  return cluster;
}

/** Waits until `worker` is in the middle of a trial: running, a few epochs stored, more to come. */
export async function waitForWorkerMidTrial(sql: Sql, studyId: string, worker: string, epochs: number, what: string): Promise<void> {
  await eventually(
    async () => {
      const [row] = await sql<{ n: number }[]>`
        select count(*)::int as n from epochs e join trials t on t.id = e.trial_id
        where t.study_id = ${studyId} and t.worker = ${worker} and t.state = 'running'
        group by t.id having count(*) between 2 and ${epochs - 3}
        limit 1`;
      return row;
    },
    30_000,
    what,
    100,
  );
}
