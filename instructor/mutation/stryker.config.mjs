// StrykerJS configuration for `npm run mutation -- labN` (instructor/mutation.ts sets the KVLABS_MUTATION_* variables).
const lab = process.env.KVLABS_MUTATION_LAB;
if (!lab) throw new Error('KVLABS_MUTATION_LAB is not set: run `npm run mutation -- labN`, not stryker directly.');
const files = process.env.KVLABS_MUTATION_FILES;
const mutate = files
  ? files.split(',').map((f) => `solutions/${lab}/${f}`)
  : [`solutions/${lab}/*.ts`, `!solutions/${lab}/mutants.ts`];
const out = `reports/mutation/${lab}`;

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate,
  testRunner: 'mocha',
  mochaOptions: {
    'no-config': true,
    'no-package': true,
    spec: ['instructor/mutation/spec.ts'],
    require: ['ts-node/register/transpile-only'],
    extension: ['ts'],
  },
  // The memory tests call global.gc.
  testRunnerNodeArgs: ['--expose-gc'],
  // Each test records which mutants it reaches; a mutant runs only the tests that reach it, in a worker that
  // switches mutants without reloading (the instrumented solution holds every mutant at once).
  coverageAnalysis: 'perTest',
  concurrency: Number(process.env.KVLABS_MUTATION_CONCURRENCY ?? 2),
  // A mutant's run may take 1.5x the tests' own time plus 10 s (real-time lab 5 tests wait on real sockets).
  timeoutFactor: 1.5,
  timeoutMS: 10_000,
  ignorePatterns: ['reports', 'coverage', 'solutions/.mutant-*', '.stryker-tmp'],
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  reporters: ['progress', 'html', 'json'],
  htmlReporter: { fileName: `${out}/index.html` },
  jsonReporter: { fileName: `${out}/mutation.json` },
  thresholds: { high: 90, low: 75, break: null },
  disableTypeChecks: true,
};
