/** How a lab's `load(dir)` reads the code under test: node's own loader (tests, tools) or the grader's compartment. */
import * as path from 'node:path';
import { requireFresh } from './fresh';

/**
 * What one machine of the code under test (a copy of its modules: lab 5's servers and clients) may reach of the
 * machine it runs on, where the grader gives the code its node modules.
 */
export interface MachineGrants {
  /** Ports its sockets may connect to. */
  readonly connect: readonly number[];
  /** Ports its servers may listen on, besides 0 (any free port). */
  readonly listen: readonly number[];
  /** The folder whose files it may read and write (a server's data folder); none: no file at all. */
  readonly folder?: string;
  /** What it is, for an error that refuses it something: "this server", "this client". */
  readonly what: string;
}

/** Loads the code under test's modules by absolute path. */
export interface CodeLoader {
  /** The exports of `file` (an absolute .ts path of the code under test), loaded once and shared. */
  require(file: string): unknown;
  /**
   * Runs `load` with a `require` that gives every module under `folder` a copy of its own (memory tests, machines);
   * with `grants`, that copy's network and files are only what they name (under the grader; node's loader gives
   * node's own).
   */
  fresh<T>(folder: string, load: (freshRequire: (file: string) => unknown) => T, grants?: MachineGrants): T;
}

/** node's loader: modules share the kit's realm (the kit's own tests, the tools, the demo). */
const nodeLoader: CodeLoader = {
  require: (file) => require(path.resolve(file)) as unknown,
  fresh: (folder, load) => requireFresh(folder, (req) => load((file) => req(file) as unknown)),
};

let current: CodeLoader = nodeLoader;

/** The loader labs use now. */
export function codeLoader(): CodeLoader {
  return current;
}

/** Makes every later `load(dir)` use `loader` (the grader's sandbox, once, before the code under test loads). */
export function useLoader(loader: CodeLoader): void {
  current = loader;
}

/** True once the grader's compartment loader is in use (a lab that loads code elsewhere asks for the same isolation there). */
export function isolatedLoader(): boolean {
  return current !== nodeLoader;
}
