export * from './engine.ts';
export { describeFailures } from './failures.ts';
export type { LiveTrial } from './active-study.ts';
export * from './idempotency.ts';
