// Filled in by the stopping work; exported from @sweepd/core/testing.
export {};
