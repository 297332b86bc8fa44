export * from './contract.ts';
export * from './local.ts';
