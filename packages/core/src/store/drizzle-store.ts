/**
 * The Store over drizzle, shared by both drivers (PGlite and postgres-js): only opening, migrating
 * and closing differ, and those live in pglite.ts and postgres.ts.
 */
import { and, asc, eq, inArray, or, sql } from 'drizzle-orm';
import type { SearchSpec } from '../spec/schema.ts';
import type { EpochRecord, LayerStats, Params, ParamValue, StudyState, TrialState, TrialView } from '../types.ts';
import type { EpochWrite, NewTrial, Store, StudyRecord, StudySummary, TrialOutcomeWrite, TrialRecord } from './contract.ts';
import { insertRows } from './bulk-upsert.ts';
import type { StoreDatabase } from './database.ts';
import { epochWriteProblem } from './epoch-write-problem.ts';
import { StoreError, wrapFailure } from './errors.ts';
import { newId } from './ids.ts';
import { decodeMetrics, encodeMetrics, encodeNotes } from './json-numbers.ts';
import { epochs, layerStats, studies, trials } from './schema.ts';

export type { StoreDatabase } from './database.ts';

/** PostgreSQL allows 65,535 bind parameters per statement: id lists in IN (...) are cut below it. */
const IDS_PER_STATEMENT = 50_000;
const TRIAL_STATES: readonly TrialState[] = ['queued', 'running', 'completed', 'stopped', 'failed'];
const FINISHED_STATES = ['completed', 'stopped', 'failed'] as const;
const UNFINISHED_STATES = ['queued', 'running'] as const;
const STUDY_STATES: readonly StudyState[] = ['running', 'completed', 'stopped', 'failed'];
/** A trial's value is a number: not NaN or ±Infinity (PostgreSQL sorts NaN above every number, and max() answers it). */
const finiteValue = sql`${trials.value} NOT IN ('NaN'::float8, 'Infinity'::float8, '-Infinity'::float8)`;

type StudyRow = typeof studies.$inferSelect;
type TrialRow = typeof trials.$inferSelect;
type EpochRow = Pick<typeof epochs.$inferSelect, 'trialId' | 'epoch' | 'metrics' | 'notes'>;
type LayerRow = typeof layerStats.$inferSelect;

function idChunks(ids: readonly string[]): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < ids.length; i += IDS_PER_STATEMENT) out.push(ids.slice(i, i + IDS_PER_STATEMENT));
  return out;
}

function toStudy(row: StudyRow): StudyRecord {
  const study: StudyRecord = {
    id: row.id,
    name: row.name,
    spec: row.spec as SearchSpec,
    specText: row.specText,
    state: row.state as StudyState,
    createdAt: row.createdAt,
  };
  if (row.reason !== null) study.reason = row.reason;
  if (row.finishedAt !== null) study.finishedAt = row.finishedAt;
  return study;
}

function toLayer(row: LayerRow): LayerStats {
  const layer: LayerStats = { layer: row.layer, trainable: row.trainable };
  if (row.kernelMovement !== null) layer.kernelMovement = row.kernelMovement;
  if (row.biasMovement !== null) layer.biasMovement = row.biasMovement;
  if (row.updateRatio !== null) layer.updateRatio = row.updateRatio;
  if (row.mean !== null) layer.mean = row.mean;
  if (row.std !== null) layer.std = row.std;
  if (row.fractionNegative !== null) layer.fractionNegative = row.fractionNegative;
  if (row.quantiles !== null) layer.quantiles = row.quantiles;
  if (row.sparsity !== null) layer.sparsity = row.sparsity;
  if (row.deadFraction !== null) layer.deadFraction = row.deadFraction;
  return layer;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function epochKey(trialId: string, epoch: number): string {
  return `${trialId}\u0000${epoch}`;
}

/** Joins trial, epoch and layer rows (epochs and layers already in order) into records. */
function assemble(trialRows: readonly TrialRow[], epochRows: readonly EpochRow[], layerRows: readonly LayerRow[]): TrialRecord[] {
  const layersByEpoch = new Map<string, LayerStats[]>();
  for (const row of layerRows) {
    push(layersByEpoch, epochKey(row.trialId, row.epoch), toLayer(row));
  }
  const epochsByTrial = new Map<string, EpochRecord[]>();
  for (const row of epochRows) {
    const record: { -readonly [K in keyof EpochRecord]: EpochRecord[K] } = {
      epoch: row.epoch,
      metrics: decodeMetrics(row.metrics),
      layers: layersByEpoch.get(epochKey(row.trialId, row.epoch)) ?? [],
    };
    if (row.notes !== null) record.notes = row.notes as Record<string, unknown>;
    push(epochsByTrial, row.trialId, record);
  }
  return trialRows.map((row) => {
    const trial: TrialRecord = {
      id: row.id,
      studyId: row.studyId,
      number: row.number,
      params: row.params as Params,
      state: row.state as TrialState,
      epochs: epochsByTrial.get(row.id) ?? [],
      createdAt: row.createdAt,
    };
    if (row.value !== null) trial.value = row.value;
    if (row.reason !== null) trial.reason = row.reason;
    if (row.tags !== null) trial.tags = row.tags as Record<string, ParamValue>;
    if (row.worker !== null) trial.worker = row.worker;
    if (row.attempt !== null) trial.attempt = row.attempt;
    if (row.startedAt !== null) trial.startedAt = row.startedAt;
    if (row.finishedAt !== null) trial.finishedAt = row.finishedAt;
    if (row.notes !== null) trial.notes = row.notes as Record<string, unknown>;
    return trial;
  });
}

function checkParamValues(values: Readonly<Record<string, unknown>>, where: string): void {
  for (const [key, v] of Object.entries(values)) {
    const ok = typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
    if (!ok) throw new StoreError(`${where}.${key} must be a finite number, a string or a boolean, got ${String(v)}`);
  }
}

function checkEpoch(e: EpochWrite, index: number): void {
  const problem = epochWriteProblem(e);
  if (problem) throw new StoreError(`recordEpochs: epochs[${index}] (trial ${e.trialId}): ${problem}`);
}

export class DrizzleStore implements Store {
  constructor(
    readonly kind: 'pglite' | 'postgres',
    protected readonly db: StoreDatabase,
    private readonly closeDriver: () => Promise<void>,
  ) {}

  private closed = false;

  async createStudy(input: { spec: SearchSpec; specText: string; id?: string }): Promise<StudyRecord> {
    const id = input.id ?? newId('st');
    if (typeof id !== 'string' || id === '' || id.length > 128)
      throw new StoreError(`createStudy: id must be 1 to 128 characters, got ${JSON.stringify(id)}`);
    try {
      const [row] = await this.db
        .insert(studies)
        .values({ id, name: input.spec.name, spec: input.spec, specText: input.specText, state: 'running' })
        .onConflictDoNothing({ target: studies.id })
        .returning();
      if (row) return toStudy(row);
    } catch (err) {
      wrapFailure(`createStudy(${id})`, err);
    }
    // Repeating a creation with the same id and text returns the study; anything else is a clash.
    const existing = await this.getStudy(id);
    if (existing && existing.specText === input.specText) return existing;
    throw new StoreError(`createStudy: a different study with id ${id} already exists`, { code: '23505' });
  }

  async getStudy(id: string): Promise<StudyRecord | undefined> {
    try {
      const [row] = await this.db.select().from(studies).where(eq(studies.id, id));
      return row ? toStudy(row) : undefined;
    } catch (err) {
      wrapFailure(`getStudy(${id})`, err);
    }
  }

  async countStudies(): Promise<number> {
    try {
      const [row] = await this.db.select({ n: sql<number>`count(*)`.mapWith(Number) }).from(studies);
      return row?.n ?? 0;
    } catch (err) {
      wrapFailure('countStudies', err);
    }
  }

  async listStudies(page: { limit?: number; offset?: number } = {}): Promise<StudySummary[]> {
    try {
      // Two queries whatever the number of studies: the studies, then per (study, state) counts and extremes.
      const ordered = this.db.select().from(studies).orderBy(asc(studies.createdAt), asc(studies.id)).$dynamic();
      if (page.limit !== undefined) ordered.limit(page.limit);
      if (page.offset) ordered.offset(page.offset);
      const rows = await ordered;
      const paged = page.limit !== undefined || (page.offset ?? 0) > 0;
      if (paged && rows.length === 0) return [];
      const stats = await this.db
        .select({
          studyId: trials.studyId,
          state: trials.state,
          count: sql<number>`count(*)`.mapWith(Number),
          // Finite values only: PostgreSQL's max() would answer NaN over any NaN.
          max: sql<number | null>`max(${trials.value}) FILTER (WHERE ${finiteValue})`.mapWith(Number),
          min: sql<number | null>`min(${trials.value}) FILTER (WHERE ${finiteValue})`.mapWith(Number),
        })
        .from(trials)
        .where(
          paged
            ? inArray(
                trials.studyId,
                rows.map((r) => r.id),
              )
            : undefined,
        )
        .groupBy(trials.studyId, trials.state);
      const byStudy = new Map<string, typeof stats>();
      for (const s of stats) push(byStudy, s.studyId, s);
      return rows.map((row) => {
        const study = toStudy(row);
        const counts = Object.fromEntries(TRIAL_STATES.map((s) => [s, 0])) as Record<TrialState, number>;
        const maximize = study.spec.objective?.direction !== 'minimize';
        let best: number | undefined;
        for (const s of byStudy.get(row.id) ?? []) {
          counts[s.state as TrialState] = s.count;
          // A failed trial's value is not the study's best (the leaderboard does not rank it either).
          if (s.state === 'failed') continue;
          const v = maximize ? s.max : s.min;
          if (v !== null && Number.isFinite(v) && (best === undefined || (maximize ? v > best : v < best))) best = v;
        }
        const summary: StudySummary = { ...study, counts };
        if (best !== undefined) summary.best = best;
        return summary;
      });
    } catch (err) {
      wrapFailure('listStudies', err);
    }
  }

  async runningStudies(): Promise<StudyRecord[]> {
    try {
      const rows = await this.db
        .select()
        .from(studies)
        .where(eq(studies.state, 'running'))
        .orderBy(asc(studies.createdAt), asc(studies.id));
      return rows.map(toStudy);
    } catch (err) {
      wrapFailure('runningStudies', err);
    }
  }

  async setStudyState(id: string, state: StudyState, reason?: string): Promise<void> {
    if (!STUDY_STATES.includes(state))
      throw new StoreError(`setStudyState(${id}): state must be one of ${STUDY_STATES.join(', ')}, got ${state}`);
    let changed: { id: string }[];
    try {
      changed = await this.db
        .update(studies)
        .set({
          state,
          reason: reason ?? sql`${studies.reason}`,
          finishedAt: state === 'running' ? null : sql`coalesce(${studies.finishedAt}, now())`,
        })
        .where(eq(studies.id, id))
        .returning({ id: studies.id });
    } catch (err) {
      wrapFailure(`setStudyState(${id})`, err);
    }
    if (changed.length === 0) throw new StoreError(`setStudyState: unknown study ${id}`);
  }

  async createTrials(studyId: string, newTrials: readonly NewTrial[]): Promise<TrialView[]> {
    newTrials.forEach((t, i) => {
      checkParamValues(t.params, `createTrials(${studyId}): trials[${i}].params`);
      if (t.tags) checkParamValues(t.tags, `createTrials(${studyId}): trials[${i}].tags`);
    });
    if (newTrials.length === 0) return [];
    try {
      return await this.db.transaction(async (tx) => {
        // The row lock on the study serialises concurrent creators, so each reads the numbers the
        // previous one committed (read committed takes a fresh snapshot per statement).
        const [study] = await tx.select({ id: studies.id }).from(studies).where(eq(studies.id, studyId)).for('update');
        if (!study) throw new StoreError(`createTrials: unknown study ${studyId}`);
        const [next] = await tx
          .select({ n: sql<number>`coalesce(max(${trials.number}) + 1, 0)`.mapWith(Number) })
          .from(trials)
          .where(eq(trials.studyId, studyId));
        const first = next?.n ?? 0;
        const rows = newTrials.map((t, i) => ({
          id: newId('tr'),
          studyId,
          number: first + i,
          params: t.params,
          tags: t.tags ?? null,
          state: 'queued' as const,
        }));
        await insertRows(tx, trials, rows, ['id', 'studyId', 'number', 'params', 'tags', 'state']);
        return rows.map((r, i): TrialView => {
          const view: TrialView = { id: r.id, number: r.number, params: r.params, state: 'queued', epochs: [] };
          const tags = newTrials[i]?.tags;
          return tags ? { ...view, tags } : view;
        });
      });
    } catch (err) {
      wrapFailure(`createTrials(${studyId})`, err);
    }
  }

  async listTrials(studyId: string): Promise<TrialRecord[]> {
    try {
      // Three queries for the whole study, read from one snapshot so epochs and layers agree.
      return await this.db.transaction(
        async (tx) => {
          const trialRows = await tx.select().from(trials).where(eq(trials.studyId, studyId)).orderBy(asc(trials.number));
          if (trialRows.length === 0) return [];
          const epochRows = await tx
            .select({ trialId: epochs.trialId, epoch: epochs.epoch, metrics: epochs.metrics, notes: epochs.notes })
            .from(epochs)
            .innerJoin(trials, eq(epochs.trialId, trials.id))
            .where(eq(trials.studyId, studyId))
            .orderBy(asc(epochs.trialId), asc(epochs.epoch));
          const layerRows = await tx
            .select(LAYER_COLUMNS)
            .from(layerStats)
            .innerJoin(trials, eq(layerStats.trialId, trials.id))
            .where(eq(trials.studyId, studyId))
            .orderBy(asc(layerStats.trialId), asc(layerStats.epoch), asc(layerStats.position));
          return assemble(trialRows, epochRows, layerRows);
        },
        { isolationLevel: 'repeatable read', accessMode: 'read only' },
      );
    } catch (err) {
      wrapFailure(`listTrials(${studyId})`, err);
    }
  }

  async leaderboardPage(
    studyId: string,
    direction: 'maximize' | 'minimize',
    page: { limit?: number; offset?: number },
  ): Promise<{ total: number; ranked: number; trials: TrialRecord[] }> {
    try {
      return await this.db.transaction(
        async (tx) => {
          // A finite value ranks, unless its trial failed (a crashed configuration is never the best).
          const rankable = sql`${trials.value} IS NOT NULL AND ${finiteValue} AND ${trials.state} <> 'failed'`;
          const [counts] = await tx
            .select({
              total: sql<number>`count(*)`.mapWith(Number),
              ranked: sql<number>`count(*) FILTER (WHERE ${rankable})`.mapWith(Number),
            })
            .from(trials)
            .where(eq(trials.studyId, studyId));
          const total = counts?.total ?? 0;
          const ranked = counts?.ranked ?? 0;
          const offset = page.offset ?? 0;
          const limit = page.limit ?? total;
          // Ranked rows first (a bounded top-N sort in PostgreSQL), then unranked ones by number.
          const rankedRows =
            offset < ranked
              ? await tx
                  .select()
                  .from(trials)
                  .where(and(eq(trials.studyId, studyId), rankable))
                  .orderBy(
                    // NULLS placed as trials_study_value_idx has them (none pass the filter), so the
                    // index serves the order: forwards to maximize, backwards to minimize.
                    direction === 'maximize' ? sql`${trials.value} DESC NULLS LAST` : sql`${trials.value} ASC NULLS FIRST`,
                    asc(trials.number),
                  )
                  .limit(limit)
                  .offset(offset)
              : [];
          const restLimit = limit - rankedRows.length;
          const restRows =
            restLimit > 0
              ? await tx
                  .select()
                  .from(trials)
                  .where(and(eq(trials.studyId, studyId), sql`NOT (${rankable})`))
                  .orderBy(asc(trials.number))
                  .limit(restLimit)
                  .offset(Math.max(0, offset - ranked))
              : [];
          const pageRows = [...rankedRows, ...restRows];
          if (pageRows.length === 0) return { total, ranked, trials: [] };
          const epochRows = await tx
            .select({ trialId: epochs.trialId, epoch: epochs.epoch, metrics: epochs.metrics, notes: epochs.notes })
            .from(epochs)
            .where(
              inArray(
                epochs.trialId,
                pageRows.map((r) => r.id),
              ),
            )
            .orderBy(asc(epochs.trialId), asc(epochs.epoch));
          return { total, ranked, trials: assemble(pageRows, epochRows, []) };
        },
        { isolationLevel: 'repeatable read', accessMode: 'read only' },
      );
    } catch (err) {
      wrapFailure(`leaderboardPage(${studyId})`, err);
    }
  }

  async getTrial(studyId: string, number: number): Promise<TrialRecord | undefined> {
    if (!Number.isSafeInteger(number)) return undefined;
    try {
      return await this.db.transaction(
        async (tx) => {
          const trialRows = await tx
            .select()
            .from(trials)
            .where(and(eq(trials.studyId, studyId), eq(trials.number, number)));
          const trial = trialRows[0];
          if (!trial) return undefined;
          const epochRows = await tx
            .select({ trialId: epochs.trialId, epoch: epochs.epoch, metrics: epochs.metrics, notes: epochs.notes })
            .from(epochs)
            .where(eq(epochs.trialId, trial.id))
            .orderBy(asc(epochs.epoch));
          const layerRows = await tx
            .select(LAYER_COLUMNS)
            .from(layerStats)
            .where(eq(layerStats.trialId, trial.id))
            .orderBy(asc(layerStats.epoch), asc(layerStats.position));
          return assemble(trialRows, epochRows, layerRows)[0];
        },
        { isolationLevel: 'repeatable read', accessMode: 'read only' },
      );
    } catch (err) {
      wrapFailure(`getTrial(${studyId}, ${number})`, err);
    }
  }

  async markRunning(trialId: string, worker: string): Promise<boolean> {
    if (typeof worker !== 'string' || worker === '') throw new StoreError(`markRunning(${trialId}): worker must be a non-empty string`);
    try {
      const changed = await this.db
        .update(trials)
        .set({ state: 'running', worker, startedAt: sql`coalesce(${trials.startedAt}, now())` })
        .where(
          and(
            eq(trials.id, trialId),
            // queued -> running, or a redelivered job picked up by another worker.
            or(eq(trials.state, 'queued'), and(eq(trials.state, 'running'), sql`${trials.worker} is distinct from ${worker}`)),
          ),
        )
        .returning({ id: trials.id });
      return changed.length > 0;
    } catch (err) {
      wrapFailure(`markRunning(${trialId})`, err);
    }
  }

  async markRunningMany(items: readonly { trialId: string; worker: string }[]): Promise<string[]> {
    if (items.length === 0) return [];
    for (const i of items) {
      if (typeof i.worker !== 'string' || i.worker === '')
        throw new StoreError(`markRunningMany(${i.trialId}): worker must be a non-empty string`);
    }
    const payload = JSON.stringify(items.map((i) => ({ id: i.trialId, worker: i.worker })));
    try {
      const changed = await this.db
        .update(trials)
        .set({ state: 'running', worker: sql`v.worker`, startedAt: sql`coalesce(${trials.startedAt}, now())` })
        .from(sql`jsonb_to_recordset(${payload}::jsonb) as v(id text, worker text)`)
        .where(
          and(
            sql`${trials.id} = v.id`,
            or(eq(trials.state, 'queued'), and(eq(trials.state, 'running'), sql`${trials.worker} is distinct from v.worker`)),
          ),
        )
        .returning({ id: trials.id });
      return changed.map((r) => r.id);
    } catch (err) {
      wrapFailure(`markRunningMany(${items.length} trials)`, err);
    }
  }

  async markQueuedMany(trialIds: readonly string[]): Promise<string[]> {
    if (trialIds.length === 0) return [];
    try {
      const changed = await this.db
        .update(trials)
        .set({ state: 'queued', worker: null })
        .where(and(inArray(trials.id, [...trialIds]), eq(trials.state, 'running')))
        .returning({ id: trials.id });
      return changed.map((r) => r.id);
    } catch (err) {
      wrapFailure(`markQueuedMany(${trialIds.length} trials)`, err);
    }
  }

  async beginAttempts(
    items: readonly { trialId: string; attempt: number }[],
  ): Promise<{ trialId: string; attempt: number; discarded: number }[]> {
    const wanted = new Map<string, number>();
    for (const i of items) {
      if (!Number.isInteger(i.attempt) || i.attempt < 1) {
        throw new StoreError(`beginAttempts(${i.trialId}): attempt must be a positive integer, got ${String(i.attempt)}`);
      }
      wanted.set(i.trialId, Math.max(i.attempt, wanted.get(i.trialId) ?? 0));
    }
    if (wanted.size === 0) return [];
    const payload = JSON.stringify([...wanted].map(([id, attempt]) => ({ id, attempt })));
    try {
      // One statement, no transaction: a transaction pins a connection, and postgres-js crashes the
      // process on a write to a pinned connection the server has just ended (porsager/postgres#1208;
      // the driver is installed patched against it, patches/, and this path does not depend on that).
      // Its parts see one snapshot: `cur` is the trials as they were, `moved` those taking the new
      // attempt, `gone` the epochs (and, by cascade, layer statistics) they lose.
      const result = await this.db.execute(sql`
        with v as (select * from jsonb_to_recordset(${payload}::jsonb) as v(id text, attempt integer)),
        cur as (
          select t.id, t.attempt from ${trials} t join v on v.id = t.id where t.state in ('queued', 'running')
        ),
        moved as (
          update ${trials} t set attempt = v.attempt, value = null, started_at = now()
          from v where t.id = v.id and t.state in ('queued', 'running') and coalesce(t.attempt, 0) < v.attempt
          returning t.id, t.attempt
        ),
        gone as (delete from ${epochs} e using moved where e.trial_id = moved.id returning e.trial_id)
        select c.id, coalesce(m.attempt, c.attempt) as attempt,
          (select count(*) from gone g where g.trial_id = c.id)::int as discarded
        from cur c left join moved m on m.id = c.id
        order by c.id`);
      const rows = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as {
        id: string;
        attempt: number | null;
        discarded: number;
      }[];
      // A delivery's run starts now (started_at above): its duration is not the earlier run's.
      return rows.map((r) => ({ trialId: r.id, attempt: r.attempt ?? 0, discarded: Number(r.discarded) }));
    } catch (err) {
      wrapFailure(`beginAttempts(${wanted.size} trials)`, err);
    }
  }

  async finishTrials(items: readonly ({ trialId: string } & TrialOutcomeWrite)[]): Promise<string[]> {
    if (items.length === 0) return [];
    for (const i of items) {
      if (!(FINISHED_STATES as readonly string[]).includes(i.state)) {
        throw new StoreError(`finishTrials(${i.trialId}): state must be one of ${FINISHED_STATES.join(', ')}, got ${i.state}`);
      }
    }
    // The first outcome given for a trial wins, as with repeated finishTrial calls.
    const seen = new Set<string>();
    const rows = items
      .filter((i) => !seen.has(i.trialId) && seen.add(i.trialId))
      .map((i) => ({
        id: i.trialId,
        state: i.state,
        reason: i.reason ?? null,
        notes: i.notes === undefined ? null : encodeNotes(i.notes),
      }));
    const payload = JSON.stringify(rows);
    try {
      const changed = await this.db
        .update(trials)
        .set({
          state: sql`v.state`,
          finishedAt: sql`now()`,
          // An earlier reason (setTrialReason, e.g. a stopping rule) stays unless a new one is given.
          reason: sql`coalesce(v.reason, ${trials.reason})`,
          notes: sql`coalesce(v.notes, ${trials.notes})`,
        })
        .from(sql`jsonb_to_recordset(${payload}::jsonb) as v(id text, state text, reason text, notes jsonb)`)
        .where(and(sql`${trials.id} = v.id`, inArray(trials.state, [...UNFINISHED_STATES])))
        .returning({ id: trials.id });
      return changed.map((r) => r.id);
    } catch (err) {
      wrapFailure(`finishTrials(${items.length} trials)`, err);
    }
  }

  async recordEpochs(list: readonly EpochWrite[], objective: { metric: string; direction: 'maximize' | 'minimize' }): Promise<void> {
    if (objective.direction !== 'maximize' && objective.direction !== 'minimize') {
      throw new StoreError(`recordEpochs: objective.direction must be maximize or minimize, got ${String(objective.direction)}`);
    }
    list.forEach(checkEpoch);
    if (list.length === 0) return;
    // One statement cannot upsert the same key twice: a later report of the same epoch wins.
    const latest = new Map<string, EpochWrite>();
    for (const e of list) {
      const key = epochKey(e.trialId, e.epoch);
      latest.delete(key);
      latest.set(key, e);
    }
    const epochRows = [...latest.values()].map((e) => ({
      trialId: e.trialId,
      epoch: e.epoch,
      metrics: encodeMetrics(e.metrics),
      notes: e.notes === undefined ? null : encodeNotes(e.notes),
    }));
    const layerRows = [...latest.values()].flatMap((e) =>
      e.layers.map((l, position) => ({
        trialId: e.trialId,
        epoch: e.epoch,
        layer: l.layer,
        position,
        trainable: l.trainable,
        kernelMovement: l.kernelMovement ?? null,
        biasMovement: l.biasMovement ?? null,
        updateRatio: l.updateRatio ?? null,
        mean: l.mean ?? null,
        std: l.std ?? null,
        fractionNegative: l.fractionNegative ?? null,
        quantiles: l.quantiles ?? null,
        sparsity: l.sparsity ?? null,
        deadFraction: l.deadFraction ?? null,
      })),
    );
    const trialIds = [...new Set(epochRows.map((r) => r.trialId))].sort();
    try {
      await this.db.transaction(async (tx) => {
        // Lock the touched trials, in id order so that concurrent writers cannot deadlock: their
        // epochs and best value then change one writer at a time. Missing rows are unknown trials.
        const known = new Set<string>();
        for (const ids of idChunks(trialIds)) {
          const rows = await tx.select({ id: trials.id }).from(trials).where(inArray(trials.id, ids)).orderBy(asc(trials.id)).for('update');
          for (const r of rows) known.add(r.id);
        }
        const unknown = trialIds.filter((id) => !known.has(id));
        if (unknown.length > 0) {
          throw new StoreError(`recordEpochs: unknown trial ${unknown.slice(0, 10).join(', ')}${unknown.length > 10 ? ', ...' : ''}`);
        }

        // The batch's (trial, epoch) keys as one parameter, and which trials it overwrites epochs of.
        const keys = JSON.stringify(epochRows.map((r) => ({ t: r.trialId, e: r.epoch })));
        const batchKeys = sql`(select b.t, b.e from jsonb_to_recordset(${keys}::jsonb) as b(t text, e integer))`;
        const rewritten = await tx
          .selectDistinct({ id: epochs.trialId })
          .from(epochs)
          .where(sql`(${epochs.trialId}, ${epochs.epoch}) in ${batchKeys}`);

        await insertRows(tx, epochs, epochRows, ['trialId', 'epoch', 'metrics', 'notes'], {
          target: ['trialId', 'epoch'],
          refresh: ['recordedAt'],
        });
        // A repeated epoch replaces the earlier report whole: a layer it leaves out must not live on
        // from the first one (the upsert below only overwrites the layers it names).
        if (rewritten.length > 0) await tx.delete(layerStats).where(sql`(${layerStats.trialId}, ${layerStats.epoch}) in ${batchKeys}`);
        await insertRows(tx, layerStats, layerRows, LAYER_KEYS, { target: ['trialId', 'epoch', 'layer'] });

        // Best values, in SQL. Non-finite objectives are stored as JSON strings, so
        // jsonb_typeof = 'number' skips them. New epochs can only improve a trial's value:
        // greatest/least (which ignore NULL) with the batch's best. A trial that had an epoch
        // overwritten may have lost its best, so it is recomputed over all its epochs.
        const maximize = objective.direction === 'maximize';
        const aggregate = sql.raw(maximize ? 'max' : 'min');
        const pick = sql.raw(maximize ? 'greatest' : 'least');
        const metric = objective.metric;
        const objectiveOf = sql`(e.metrics ->> ${metric}::text)::double precision`;
        const hasObjective = sql`jsonb_typeof(e.metrics -> ${metric}::text) = 'number'`;
        await tx.execute(sql`update ${trials} set value = ${pick}(${trials.value}, nb.best)
          from (select e.trial_id, ${aggregate}(${objectiveOf}) as best from ${epochs} e
                where (e.trial_id, e.epoch) in ${batchKeys} and ${hasObjective} group by e.trial_id) nb
          where ${trials.id} = nb.trial_id`);
        for (const ids of idChunks(rewritten.map((r) => r.id))) {
          await tx
            .update(trials)
            .set({ value: sql`(select ${aggregate}(${objectiveOf}) from ${epochs} e where e.trial_id = ${trials.id} and ${hasObjective})` })
            .where(inArray(trials.id, ids));
        }
      });
    } catch (err) {
      wrapFailure(`recordEpochs (${epochRows.length} epochs of ${trialIds.length} trials)`, err);
    }
  }

  async setTrialReason(trialId: string, reason: string): Promise<void> {
    try {
      await this.db
        .update(trials)
        .set({ reason })
        .where(and(eq(trials.id, trialId), inArray(trials.state, [...UNFINISHED_STATES])));
    } catch (err) {
      wrapFailure(`setTrialReason(${trialId})`, err);
    }
  }

  async finishTrial(
    trialId: string,
    outcome: { state: Exclude<TrialState, 'queued' | 'running'>; reason?: string; notes?: Readonly<Record<string, unknown>> },
  ): Promise<boolean> {
    if (!(FINISHED_STATES as readonly string[]).includes(outcome.state)) {
      throw new StoreError(`finishTrial(${trialId}): state must be one of ${FINISHED_STATES.join(', ')}, got ${outcome.state}`);
    }
    const set = {
      state: outcome.state,
      finishedAt: sql`now()`,
      // An earlier reason (setTrialReason, e.g. a stopping rule) stays unless a new one is given.
      reason: outcome.reason ?? sql`${trials.reason}`,
      ...(outcome.notes !== undefined && { notes: encodeNotes(outcome.notes) }),
    };
    try {
      const changed = await this.db
        .update(trials)
        .set(set)
        .where(and(eq(trials.id, trialId), inArray(trials.state, [...UNFINISHED_STATES])))
        .returning({ id: trials.id });
      return changed.length > 0;
    } catch (err) {
      wrapFailure(`finishTrial(${trialId})`, err);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.closeDriver();
  }
}

const LAYER_COLUMNS = {
  trialId: layerStats.trialId,
  epoch: layerStats.epoch,
  layer: layerStats.layer,
  position: layerStats.position,
  trainable: layerStats.trainable,
  kernelMovement: layerStats.kernelMovement,
  biasMovement: layerStats.biasMovement,
  updateRatio: layerStats.updateRatio,
  mean: layerStats.mean,
  std: layerStats.std,
  fractionNegative: layerStats.fractionNegative,
  quantiles: layerStats.quantiles,
  sparsity: layerStats.sparsity,
  deadFraction: layerStats.deadFraction,
};

const LAYER_KEYS = Object.keys(LAYER_COLUMNS) as (keyof typeof LAYER_COLUMNS)[];
