export * from './auc.ts';
export * from './weights.ts';
