// Filled in by the bus work; exported from @sweepd/core/testing.
export {};
