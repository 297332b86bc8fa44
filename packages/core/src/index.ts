export * from './bus/index.ts';
export * from './file-lock.ts';
export * from './log.ts';
export * from './metrics/index.ts';
export * from './plugins/index.ts';
export * from './space/index.ts';
export * from './spec/index.ts';
export type { EpochWrite, NewTrial, Store, StudyRecord, StudySummary, TrialRecord } from './store/contract.ts';
export * from './types.ts';
