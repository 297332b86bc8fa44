// Contract suites: run them against every implementation (built-in or third-party).
export * from './bus-suite.ts';
export * from './stopping-suite.ts';
export * from './store-suite.ts';
export * from './strategy-suite.ts';
