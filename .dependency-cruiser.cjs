/**
 * Import rules checked by `npm run lint` (dependency-cruiser): no import circles anywhere, and the
 * package layering — core imports nothing of ours, search and trainer import only core, and a
 * package's tests may also use what its package.json declares as devDependencies.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import circle makes load order matter and the modules inseparable.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'core-imports-nothing-of-ours',
      severity: 'error',
      comment: 'core is the vocabulary every package shares; it must not depend on any of them.',
      from: { path: '^packages/core/' },
      to: { path: '^packages/(search|trainer|api)/' },
    },
    {
      name: 'search-imports-only-core',
      severity: 'error',
      comment: 'The search engine knows trials through core’s contracts, never a trainer or the API (its tests and their helpers may run a worker).',
      from: { path: '^packages/search/', pathNot: '\\.test(-helpers)?\\.ts$' },
      to: { path: '^packages/(trainer|api)/' },
    },
    {
      name: 'trainer-imports-only-core',
      severity: 'error',
      comment: 'A worker must not load the search engine or the API.',
      from: { path: '^packages/trainer/' },
      to: { path: '^packages/(search|api)/' },
    },
    {
      name: 'search-tests-import-declared-packages',
      severity: 'error',
      comment: 'search’s tests may drive the simulate runner of trainer (a devDependency of search), never the API.',
      from: { path: '^packages/search/.+\\.test\\.ts$' },
      to: { path: '^packages/api/' },
    },
    {
      name: 'npm-packages-declared',
      severity: 'error',
      comment: 'Every npm package a file imports is declared in its package.json or the root one (tools such as vitest).',
      from: {},
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|\\.sweepd|dist|coverage)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // The root package.json declares the tools every package's tests use (vitest, tsx).
    combinedDependencies: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'default'], extensions: ['.ts', '.js'] },
  },
};
