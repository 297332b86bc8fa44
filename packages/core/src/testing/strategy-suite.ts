// Filled in by the strategy work; exported from @sweepd/core/testing.
export {};
