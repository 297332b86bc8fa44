export * from './contracts.ts';
export * from './registry.ts';
