/** What a lab's kit script that runs code under test in a process of its own does first: read its arguments, report what the code lets escape, isolate it when the grader started it. */
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import type { NodeModuleName } from './types';

/**
 * A fresh word the test gives a kit script as its last argument, for the line that says the script listens: the code
 * under test prints to the same output, first if it likes, but cannot read the script's arguments, so a line that
 * names another port cannot carry this word.
 */
export function readyNonce(): string {
  return randomBytes(12).toString('hex');
}

/** The line a kit script prints once it listens on `port`: `prefix`, the test's word, the port. */
export function readyLine(prefix: string, nonce: string, port: number): string {
  return `${prefix}${nonce} ${port}\n`;
}

/** The port of the first line in `out` that `readyLine(prefix, nonce, ...)` printed, if there is one yet. */
export function readyPort(out: string, prefix: string, nonce: string): number | undefined {
  const at = out.indexOf(`${prefix}${nonce} `);
  if (at < 0) return undefined;
  const m = /^(\d+)\n/.exec(out.slice(at + prefix.length + nonce.length + 1));
  return m ? Number(m[1]) : undefined;
}

/** Prints what went wrong (the parent shows it, trimmed to the code's own frames) and ends the process. */
export function die(what: string, err: unknown): never {
  process.stderr.write(`${what}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
}

/**
 * Reads `<impl dir> compartment|node '<settings JSON>' <ready word>`, makes an exception or a rejection the code under test lets
 * escape end the process with a line naming `who(settings)` (in `lab`'s code), and, when the grader started the
 * script ("compartment"), isolates the code as the grader's test process does. `labDir` is the lab's folder;
 * `nodeModules`, the node modules the lab's code may import (its suite's).
 */
export function startKitScript<S>(
  lab: string,
  labDir: string,
  who: (settings: S) => string,
  nodeModules: readonly NodeModuleName[] = [],
): { dir: string; settings: S; nonce: string } {
  const [dirArg, mode, json, nonce = ''] = process.argv.slice(2);
  const dir = path.resolve(dirArg);
  const settings = JSON.parse(json) as S;
  const name = who(settings);
  process.on('uncaughtException', (e) => die(`Uncaught exception in your ${lab} code (${name})`, e));
  process.on('unhandledRejection', (e) => die(`Unhandled promise rejection in your ${lab} code (${name})`, e));
  if (mode === 'compartment') {
    const { isolateCodeUnderTest } = require('../grader/isolate') as typeof import('../grader/isolate');
    isolateCodeUnderTest({ implDir: dir, labDir, nodeModules });
  }
  return { dir, settings, nonce };
}
