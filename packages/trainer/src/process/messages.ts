import type { EpochRecord, TrialJob, TrialOutcome } from '@sweepd/core';

/** Parent → trainer process. */
export type ToChild = { type: 'run'; job: TrialJob } | { type: 'abort'; reason: string };

/** Trainer process → parent. */
export type FromChild =
  | { type: 'ready'; pid: number }
  | { type: 'epoch'; epoch: EpochRecord }
  | { type: 'log'; message: string }
  | { type: 'done'; outcome: TrialOutcome }
  | { type: 'error'; message: string };
