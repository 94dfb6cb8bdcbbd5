/** What a test process that never loads the code under test gives its tests (`codeElsewhere`): the code's folder alone, and a loader that refuses. */
import type { CodeLoader } from '../suite/loader';

/** The start of every error here: a test that touches the code breaks the kit's promise, not the student's. */
const KIT_BUG =
  'Kit bug: this test is marked codeElsewhere (it runs the code under test in processes of its own), so the grader ' +
  'judges it in a process that never loads that code';

/**
 * The `impl` of a codeElsewhere test: `dir` is the code's folder, and reading anything else throws a kit-bug error
 * naming what was read (symbols read undefined, so that printing it does not throw).
 */
export function folderOnly(dir: string): unknown {
  return new Proxy(Object.freeze({ dir }), {
    get(target, key) {
      if (key === 'dir') return target.dir;
      if (typeof key === 'symbol') return undefined;
      throw new Error(
        `${KIT_BUG}; yet it read ctx.impl.${key}. Such a test may read only ctx.impl.dir (to give its processes); ` +
          'one that needs the code itself must not be marked codeElsewhere.',
      );
    },
  });
}

/** The loader of a codeElsewhere test process: loading any file of the code under test throws a kit-bug error. */
export function refusingLoader(): CodeLoader {
  const refuse = (what: string): never => {
    throw new Error(`${KIT_BUG}; yet it asked to load ${what}.`);
  };
  return { require: (file) => refuse(file), fresh: (folder) => refuse(`the files of ${folder}`) };
}
