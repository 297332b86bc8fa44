export * from './engine.ts';
export type { LiveTrial } from './active-study.ts';
export * from './idempotency.ts';
