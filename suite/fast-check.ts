/** fast-check for the model-based tests and grammars, loaded at its first use: the grader's own process never loads it. */
import type * as FastCheck from 'fast-check';

let loaded: typeof FastCheck | undefined;

/**
 * Loads fast-check now. It registers global symbols (`Symbol.for`) as it loads and runs, and the sandbox closes that
 * registry to new keys once the code under test loads: grader/symbol-registry.ts keeps fast-check's keys open, so it
 * may load at any time, and a test process whose tests use none of it never loads it (15-30 ms).
 */
export function loadFastCheck(): typeof FastCheck {
  loaded ??= require('fast-check') as typeof FastCheck;
  return loaded;
}

/**
 * fast-check's functions (`fc.oneof`, `fc.commands` ...) and types (`fc.Arbitrary`, `fc.AsyncCommand`). The package
 * takes 15-30 ms to load: the grader's process loads each lab's suite only to list its tests, and pays nothing now.
 */
export const fc: typeof FastCheck = new Proxy({} as typeof FastCheck, {
  get: (_target, name) => Reflect.get(loadFastCheck(), name),
});

/** The fast-check types the suites name. */
// eslint-disable-next-line @typescript-eslint/no-namespace -- types only, merged with the value above: fc.Arbitrary reads as before
export declare namespace fc {
  /** A generator of values of type T. */
  export type Arbitrary<T> = FastCheck.Arbitrary<T>;
  /** A step of a model-based run: checked against the model, run against the real system. */
  export type AsyncCommand<Model extends object, Real, CheckAsync extends boolean = false> = FastCheck.AsyncCommand<
    Model,
    Real,
    CheckAsync
  >;
}
