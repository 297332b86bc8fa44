import type { EpochReport, EpochWrite } from '@sweepd/core';
import type { ActiveStudy, LiveTrial } from './active-study.ts';
import type { EngineContext } from './context.ts';

/** What an epoch report asks the store to keep. */
export function epochWriteOf(r: EpochReport): EpochWrite {
  const write: EpochWrite = { trialId: r.trialId, epoch: r.epoch, metrics: r.metrics, layers: r.layers };
  if (r.notes) write.notes = r.notes;
  return write;
}

/** Puts an epoch the store kept into its trial's curve in memory (in place of one of the same number), and says so. */
export function takeStoredEpoch(ctx: EngineContext, study: ActiveStudy, write: EpochWrite): LiveTrial {
  const trial = study.trials.get(write.trialId) as LiveTrial;
  trial.epochs = [...trial.epochs.filter((e) => e.epoch !== write.epoch), write].sort((a, b) => a.epoch - b.epoch);
  study.refreshValue(trial);
  ctx.emit({ studyId: study.id, type: 'epoch', trialNumber: trial.number });
  return trial;
}

/** An epoch the database refuses for what it holds, with why. */
export interface UnstorableEpoch {
  study: ActiveStudy;
  write: EpochWrite;
  problem: string;
}

/**
 * Stores a study's epochs and returns those stored. When the database refuses the batch for what
 * it holds (a data error: a value or name it cannot take, a row past one of its limits), each epoch
 * is tried alone and those refused again are added to `unstorable`; any other failure (the database
 * away) is thrown, and the bus delivers the batch again.
 */
export async function storeEpochs(
  ctx: EngineContext,
  study: ActiveStudy,
  writes: EpochWrite[],
  unstorable: UnstorableEpoch[],
): Promise<EpochWrite[]> {
  try {
    await ctx.store.recordEpochs(writes, study.spec.objective);
    return writes;
  } catch (err) {
    if (!refusedForItsData(err)) throw err;
    if (writes.length === 1) {
      unstorable.push({ study, write: writes[0] as EpochWrite, problem: errorText(err) });
      return [];
    }
  }
  const stored: EpochWrite[] = [];
  for (const write of writes) stored.push(...(await storeEpochs(ctx, study, [write], unstorable)));
  return stored;
}

/**
 * A refusal that asking again cannot change: PostgreSQL's data exceptions (SQLSTATE class 22, e.g.
 * invalid JSON text), a value a NOT NULL column lacks (23502), and its program limits (class 54,
 * e.g. an index row too large). Not a lost connection, a lock, or a server going down.
 */
function refusedForItsData(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('54') || code === '23502');
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
