/** Messages between the grader's main thread and the worker that runs a suite's tests. */
import type { CrashKind, TestOutcome } from '../tester/suite/types';

/** What a worker is started with. */
export interface WorkerConfig {
  /** Absolute path of labN/test/suite.ts. */
  readonly suitePath: string;
  /** Folder holding the implementation files to grade. */
  readonly implDir: string;
}

/** One run of one test with one seed. */
export interface Job {
  /** Position in the run's job list (messages about a job carry it). */
  readonly index: number;
  readonly test: string;
  readonly seed: number;
  /** Real time allowed, ms (passed to the world's watchdog too). */
  readonly realLimitMs: number;
}

/** Main thread → worker. */
export type ToWorker = { readonly type: 'run'; readonly job: Job };

/** Counters of the simulated world at the moment something went wrong. */
export interface WorldSnapshot {
  readonly virtualMs: number;
  readonly rpcs: number;
  readonly ops: number;
  readonly traceHash: string;
}

/** Worker → main thread. `index` is the job it concerns, or -1 when no job was running. */
export type FromWorker =
  /** The suite and the implementation loaded; the worker waits for jobs. */
  | { readonly type: 'ready' }
  /** Loading failed: every remaining test fails with this message. */
  | { readonly type: 'boot-failed'; readonly message: string }
  /** Text the code under test printed. */
  | { readonly type: 'output'; readonly index: number; readonly text: string }
  /** process.exit was called (the worker ends right after). */
  | { readonly type: 'exit-called'; readonly index: number; readonly code: number; readonly where: string; readonly world?: WorldSnapshot }
  /** An uncaught exception or unhandled rejection: the job fails and the worker is replaced. */
  | { readonly type: 'crash'; readonly index: number; readonly crash: CrashKind; readonly message: string; readonly world?: WorldSnapshot }
  /** A job finished normally (passed or failed). */
  | { readonly type: 'done'; readonly index: number; readonly outcome: TestOutcome };
