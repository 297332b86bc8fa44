/**
 * The one drizzle schema shared by the PGlite and postgres-js drivers. The SQL migrations in
 * packages/core/drizzle are generated from this file with drizzle-kit; keep to PostgreSQL 15
 * features (PGlite reports 18, the production server may be 15).
 */
import { sql } from 'drizzle-orm';
import {
  boolean,
  check,
  doublePrecision,
  foreignKey,
  index,
  integer,
  json,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
} from 'drizzle-orm/pg-core';

const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const studies = pgTable(
  'studies',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    // json, not jsonb: jsonb reorders keys (by length, then bytes), and strategies draw by the order
    // of the space, so a resumed study read back from jsonb drew other trials than it would have.
    spec: json('spec').notNull(),
    specText: text('spec_text').notNull(),
    state: text('state').notNull(),
    reason: text('reason'),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
    finishedAt: timestamptz('finished_at'),
  },
  (t) => [
    check('studies_state_check', sql`${t.state} in ('running', 'completed', 'stopped', 'failed')`),
    index('studies_state_idx').on(t.state),
  ],
);

export const trials = pgTable(
  'trials',
  {
    id: text('id').primaryKey(),
    studyId: text('study_id')
      .notNull()
      .references(() => studies.id, { onDelete: 'cascade' }),
    number: integer('number').notNull(),
    params: jsonb('params').notNull(),
    tags: jsonb('tags'),
    state: text('state').notNull(),
    /** Best finite objective over the trial's epochs, in the study's direction. */
    value: doublePrecision('value'),
    reason: text('reason'),
    worker: text('worker'),
    /** The job delivery whose run the stored epochs come from (1 = the first); null until one starts. */
    attempt: integer('attempt'),
    notes: jsonb('notes'),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
    startedAt: timestamptz('started_at'),
    finishedAt: timestamptz('finished_at'),
  },
  (t) => [
    unique('trials_study_number_unique').on(t.studyId, t.number),
    index('trials_study_state_idx').on(t.studyId, t.state),
    // The leaderboard's order (best value first, then number): its first page is read from the index
    // instead of sorting a 100,000-trial study; minimize reads it backwards (ties re-sorted by number).
    index('trials_study_value_idx').on(t.studyId, t.value.desc(), t.number),
    check('trials_state_check', sql`${t.state} in ('queued', 'running', 'completed', 'stopped', 'failed')`),
  ],
);

export const epochs = pgTable(
  'epochs',
  {
    trialId: text('trial_id')
      .notNull()
      .references(() => trials.id, { onDelete: 'cascade' }),
    epoch: integer('epoch').notNull(),
    /** Metric values; non-finite numbers are stored as the strings "NaN", "Infinity", "-Infinity". */
    metrics: jsonb('metrics').notNull(),
    notes: jsonb('notes'),
    recordedAt: timestamptz('recorded_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ name: 'epochs_pk', columns: [t.trialId, t.epoch] })],
);

export const layerStats = pgTable(
  'layer_stats',
  {
    trialId: text('trial_id').notNull(),
    epoch: integer('epoch').notNull(),
    layer: text('layer').notNull(),
    /** Index of the layer in the epoch's report, so layers come back in model order. */
    position: integer('position').notNull(),
    trainable: boolean('trainable').notNull(),
    kernelMovement: doublePrecision('kernel_movement'),
    biasMovement: doublePrecision('bias_movement'),
    updateRatio: doublePrecision('update_ratio'),
    mean: doublePrecision('mean'),
    std: doublePrecision('std'),
    fractionNegative: doublePrecision('fraction_negative'),
    quantiles: doublePrecision('quantiles').array(),
    sparsity: doublePrecision('sparsity'),
    deadFraction: doublePrecision('dead_fraction'),
  },
  (t) => [
    primaryKey({ name: 'layer_stats_pk', columns: [t.trialId, t.epoch, t.layer] }),
    // A layer row belongs to an epoch row; deleting the epoch (or its trial) removes it.
    foreignKey({ name: 'layer_stats_epoch_fk', columns: [t.trialId, t.epoch], foreignColumns: [epochs.trialId, epochs.epoch] }).onDelete(
      'cascade',
    ),
  ],
);
