/** The environment variables through which `npm run mutation` tells Stryker's workers what to run. */

/** The lab to test, e.g. "lab2". */
export const LAB_ENV = 'KVLABS_MUTATION_LAB';
/** Seeds for each simulated test, comma-separated (memory and real-time tests use the first only). */
export const SEEDS_ENV = 'KVLABS_MUTATION_SEEDS';
/** Only these named tests, comma-separated (default: all). */
export const TESTS_ENV = 'KVLABS_MUTATION_TESTS';
/** The solution files to mutate, comma-separated, relative to solutions/labN (default: all but mutants.ts and variants.ts). */
export const FILES_ENV = 'KVLABS_MUTATION_FILES';
/** Test runner processes at once. */
export const CONCURRENCY_ENV = 'KVLABS_MUTATION_CONCURRENCY';
