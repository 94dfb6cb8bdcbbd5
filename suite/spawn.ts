/**
 * Starts a kit script (a .ts file of the kit, such as lab 5's child-server.ts) in its own Node process for a
 * test. Under mocha it is a plain child process; under the grader, whose test process may not start processes,
 * the grader starts it (sandboxed like the test, and stopped when the test ends) and this returns a stand-in.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { weighProcess } from './proc-weigh';

/** A process's weight as the operating system sees it: resident memory (bytes) and open file descriptors. */
export interface ProcessWeight {
  readonly rssBytes: number;
  readonly fds: number;
}

/** What a test may do with such a process. */
export interface KitProcess {
  readonly stdout: { on(event: 'data', cb: (d: Buffer) => void): unknown } | null;
  readonly stderr: { on(event: 'data', cb: (d: Buffer) => void): unknown } | null;
  readonly exitCode: number | null;
  readonly signalCode: NodeJS.Signals | null;
  once(event: 'exit', cb: (code: number | null, signal: NodeJS.Signals | null) => void): unknown;
  kill(signal?: NodeJS.Signals): unknown;
  /** Its weight from outside (/proc), read where the test may not read it by the grader; undefined if unknown. */
  weigh(): Promise<ProcessWeight | undefined>;
}

/** Starts `script` (absolute path) with `args`. */
export type KitSpawner = (script: string, args: readonly string[]) => KitProcess;

const REPO_ROOT = path.join(__dirname, '..');

/**
 * Outside the grader: node in the repository, stdin a pipe (closing it tells the script to end), loading
 * TypeScript through the grader's own compile cache (grader/register.js) rather than ts-node: a warm start takes
 * about 0.25 s instead of about 2 s, and lab 5's kit test starts a script for nearly every test it runs.
 */
const direct: KitSpawner = (script, args) => {
  const child = spawn(process.execPath, ['-r', path.join(REPO_ROOT, 'grader', 'register.js'), script, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    cwd: REPO_ROOT,
  });
  const weigh = (): Promise<ProcessWeight | undefined> =>
    Promise.resolve(child.pid === undefined ? undefined : weighProcess(child.pid));
  return Object.assign(child, { weigh });
};

let spawner: KitSpawner = direct;
let replaced = false;

/** Starts a kit script for the running test. */
export function spawnKitScript(script: string, args: readonly string[]): KitProcess {
  return spawner(script, args);
}

/** The grader's test process routes kit scripts through the grader; once set, it cannot be changed again. */
export function useSpawner(s: KitSpawner): void {
  if (replaced) throw new Error('The kit-script spawner is already set.');
  replaced = true;
  spawner = s;
}
