// Filled in by the store work; exported from @sweepd/core/testing.
export {};
