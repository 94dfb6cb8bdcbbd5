/** Messages between the grader and its sandboxed test process, and how a verdict is signed. */
import type { CrashKind } from '../suite/types';

/** The test process reads the grader's messages on this descriptor (the first line: SandboxInit). */
export const CHANNEL_IN_FD = 3;
/** The test process writes its messages on this descriptor, one JSON line each. */
export const CHANNEL_OUT_FD = 4;

/** What a test process is started with. */
export interface WorkerConfig {
  /** Absolute path of labN/test/suite.ts. */
  readonly suitePath: string;
  /** Folder holding the implementation files to grade. */
  readonly implDir: string;
  /** False only to measure what the compartment costs (`npm run bench`): the code under test loads with node's loader, unlocked. */
  readonly compartment?: boolean;
  /**
   * False for a test process that runs only `codeElsewhere` tests: it never loads the code under test (ctx.impl is
   * its folder alone), and refuses any other test.
   */
  readonly loadCode?: boolean;
}

/** The first line the grader sends: read before any student code loads, never in the environment or argv. */
export interface SandboxInit {
  /** Key of the verdicts' MACs (hex). */
  readonly secret: string;
  readonly config: WorkerConfig;
}

/** One run of one test with one seed. */
export interface Job {
  /** Position in the run's job list (messages about a job carry it). */
  readonly index: number;
  readonly test: string;
  readonly seed: number;
  /**
   * Time allowed, ms (passed to the world's watchdog too): real time for a real-time test; for a simulated one
   * (`cpuBound`) the CPU time its process spends, within STARVED_FACTOR times as much real time.
   */
  readonly realLimitMs: number;
  /** A simulated test: a machine too busy to give it CPU does not use up its limit (where the OS shows CPU time). */
  readonly cpuBound?: boolean;
  /** Replay with recording on: the outcome carries the run's trace (a failing simulated test's second run). */
  readonly record?: boolean;
  /** Note the network's faults in the outcome, allowing only `allowed` (by key) when given: minimization's replays. */
  readonly faults?: { readonly allowed?: readonly string[] };
}

/** Grader → test process. */
export type ToWorker =
  /** Run this job; its verdict must carry `nonce` in its MAC. */
  | { readonly type: 'run'; readonly job: Job; readonly nonce: string }
  /** Output of a process the grader started for the test (base64). */
  | { readonly type: 'spawn-output'; readonly id: number; readonly stream: 'stdout' | 'stderr'; readonly data: string }
  /** That process ended. */
  | {
      readonly type: 'spawn-exit';
      readonly id: number;
      readonly code: number | null;
      readonly signal: NodeJS.Signals | null;
    }
  /** That process's weight as /proc shows it, for the `spawn-weigh` numbered `ask` (null where /proc cannot tell). */
  | {
      readonly type: 'spawn-weight';
      readonly id: number;
      readonly ask: number;
      readonly rssBytes: number | null;
      readonly fds: number | null;
    };

/** Counters of the simulated world at the moment something went wrong. */
export interface WorldSnapshot {
  readonly virtualMs: number;
  readonly rpcs: number;
  readonly ops: number;
  readonly traceHash: string;
}

/**
 * Test process → grader. `index` is the job it concerns, or -1 when no job was running. Only `done` can make
 * a test pass, and only with a valid MAC; every other message can at most fail the test or show text.
 */
export type FromWorker =
  /** The suite and (unless `loadCode` is false) the implementation loaded; the process waits for jobs. */
  | { readonly type: 'ready' }
  /** Loading failed: every remaining test fails with this message. */
  | { readonly type: 'boot-failed'; readonly message: string }
  /** Text the code under test printed. */
  | { readonly type: 'output'; readonly index: number; readonly text: string }
  /** process.exit was called (the process ends right after). */
  | {
      readonly type: 'exit-called';
      readonly index: number;
      readonly code: number;
      readonly where: string;
      readonly world?: WorldSnapshot;
    }
  /** An uncaught exception or unhandled rejection: the job fails and the process is replaced. */
  | {
      readonly type: 'crash';
      readonly index: number;
      readonly crash: CrashKind;
      readonly message: string;
      readonly world?: WorldSnapshot;
    }
  /** A job finished (passed or failed): `body` is the TestOutcome as JSON, `mac` its signature. */
  | { readonly type: 'done'; readonly index: number; readonly body: string; readonly mac: string }
  /** Start a kit script for the running test (lab 5's server process); the grader checks the script. */
  | { readonly type: 'spawn'; readonly id: number; readonly script: string; readonly args: readonly string[] }
  /** Send a signal to a process started with `spawn`. */
  | { readonly type: 'spawn-kill'; readonly id: number; readonly signal: NodeJS.Signals }
  /** Weigh a process started with `spawn` from outside (it runs code under test: only the grader reads its /proc). */
  | { readonly type: 'spawn-weigh'; readonly id: number; readonly ask: number };

/** The MAC of a verdict: job index, the grader's nonce for that job, and the outcome's exact JSON. */
export function signVerdict(
  hmacSha256: HmacSha256,
  key: Uint8Array,
  index: number,
  nonce: string,
  body: string,
): string {
  return hmacSha256(key, `${index}\n${nonce}\n${body}`);
}

/** HMAC-SHA256 of `data` (as UTF-8) under `key`, in hex: node's crypto in the grader, a pure-JavaScript one in the sandbox. */
export type HmacSha256 = (key: Uint8Array, data: string) => string;
