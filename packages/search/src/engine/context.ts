import { type Bus, type Logger, type PluginRegistry, SpecError, type Store } from '@sweepd/core';
import type { ActiveStudy } from './active-study.ts';

/** Emitted on every change a watcher may want to see (leaderboards, SSE). */
export interface EngineEvent {
  studyId: string;
  type: 'study' | 'trial-created' | 'trial-started' | 'trial-requeued' | 'epoch' | 'trial-stopping' | 'trial-finished';
  trialNumber?: number;
}

/**
 * What the engine's parts (submission, dispatch, ingestion, stopping, finishing) share: the Store
 * and the Bus, and the running studies as the engine holds them in memory.
 */
export interface EngineContext {
  readonly store: Store;
  readonly bus: Bus;
  readonly registry: PluginRegistry;
  readonly log: Logger;
  /** Where relative plugin paths in specs are resolved from. */
  readonly baseDir: string;
  /** The only directories a spec's plugins may be loaded from (see plugin-paths.ts); none: no plugins. */
  readonly pluginDirs?: readonly string[];
  /** Whether the workers see this process's files, so paths in specs can be checked at submit. */
  readonly workersShareFiles: boolean;
  readonly servedPools?: readonly string[];
  /** Running studies by id; a study leaves once its end is stored. */
  readonly active: Map<string, ActiveStudy>;
  /** The last studies to leave `active`, kept for epochs that come after their trials ended (late-epochs.ts). */
  readonly recentlyEnded: Map<string, ActiveStudy>;
  /** The study of each unfinished trial, by trial id: where its reports go. */
  readonly trialToStudy: Map<string, ActiveStudy>;
  /** Ended trials whose job was stopped for training on after the end (ingestion.ts). */
  readonly endedTrialsStopped: Set<string>;
  /** Set by stopDispatching (the first half of close): no trial is dispatched any more; reports are still ingested. */
  closing: boolean;
  /** Set by close: reports are no longer ingested, and no study is finished but by close itself. */
  closed: boolean;
  /**
   * Set while a starting engine reads the reports that came in while it was down: no study sends a
   * job out until then, so a trial that finished meanwhile is not run again.
   */
  catchingUp: boolean;
  emit(event: EngineEvent): void;
}

export function errorText(err: unknown): string {
  if (err instanceof SpecError) return err.problems.map((p) => `${p.path}: ${p.message}`).join('; ');
  return err instanceof Error ? err.message : String(err);
}

/**
 * `work`'s value if it settles within `ms`, else undefined (it goes on, unawaited: its own errors
 * are its own). For what a caller should not wait on for long while the bus or store is away.
 */
export async function within<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  work.catch(() => {}); // a failure after the wait is not the caller's
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
    timer.unref();
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
