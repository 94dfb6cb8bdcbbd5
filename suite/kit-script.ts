/** What a lab's kit script that runs code under test in a process of its own does first: read its arguments, report what the code lets escape, isolate it when the grader started it. */
import * as path from 'node:path';
import type { NodeModuleName } from './types';

/** Prints what went wrong (the parent shows it, trimmed to the code's own frames) and ends the process. */
export function die(what: string, err: unknown): never {
  process.stderr.write(`${what}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
}

/**
 * Reads `<impl dir> compartment|node '<settings JSON>'`, makes an exception or a rejection the code under test lets
 * escape end the process with a line naming `who(settings)` (in `lab`'s code), and, when the grader started the
 * script ("compartment"), isolates the code as the grader's test process does. `labDir` is the lab's folder;
 * `nodeModules`, the node modules the lab's code may import (its suite's).
 */
export function startKitScript<S>(
  lab: string,
  labDir: string,
  who: (settings: S) => string,
  nodeModules: readonly NodeModuleName[] = [],
): { dir: string; settings: S } {
  const [dirArg, mode, json] = process.argv.slice(2);
  const dir = path.resolve(dirArg);
  const settings = JSON.parse(json) as S;
  const name = who(settings);
  process.on('uncaughtException', (e) => die(`Uncaught exception in your ${lab} code (${name})`, e));
  process.on('unhandledRejection', (e) => die(`Unhandled promise rejection in your ${lab} code (${name})`, e));
  if (mode === 'compartment') {
    const { isolateCodeUnderTest } = require('../grader/isolate') as typeof import('../grader/isolate');
    isolateCodeUnderTest({ implDir: dir, labDir, nodeModules });
  }
  return { dir, settings };
}
