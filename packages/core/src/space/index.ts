export * from './random.ts';
export * from './space.ts';
