export * from './errors.ts';
export * from './issues.ts';
export * from './parse.ts';
export * from './schema.ts';
export * from './nesting.ts';
export { keysAt, nearestName } from './did-you-mean.ts';
export { budgetWarnings } from './warnings.ts';
