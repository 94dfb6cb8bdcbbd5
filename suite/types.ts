/**
 * The contract between a lab's named tests, the code that runs them, and the grader.
 * A lab exports one LabSuite; the grader picks the implementation (student or solution) and runs tests by name.
 */
import type { AppliedFault, TraceData, World } from '../world';
import type { Transcript } from './transcript';

/** Everything a named test receives. */
export interface TestContext<Impl> {
  /** The implementation under test: the student's files or the reference solution. */
  readonly impl: Impl;
  /** The seed of this run (the world is seeded with it). */
  readonly seed: number;
  /** The simulated world of this run; undefined for real-time tests (`realTime: true`). */
  readonly world: World | undefined;
  /** Adds a line to the test's log (shown with a failure). */
  log(message: string): void;
  /** Counts client operations, for the report's #Ops column. */
  countOps(n?: number): void;
  /** Real-time tests only: where the harness's clients record each command and its reply (the failing run's trace page). */
  readonly transcript: Transcript | undefined;
  /** Registers what to say about the work still in progress (one line each) if the run stops on a time limit or a deadlock. */
  onStuck(describe: () => readonly string[]): void;
}

/** A named test as written: what it checks and how (`scored` adds what it is worth). */
export interface TestDefinition<Impl> {
  /** The name students see and select with --test, e.g. "TestReliablePut". */
  readonly name: string;
  /** One line saying what it checks. */
  readonly description: string;
  /** The test body: resolves to pass, throws (ideally a TestFailure) to fail. */
  run(ctx: TestContext<Impl>): Promise<void>;
  /** Virtual time allowed (simulated tests); default 120 s as in MIT's tester. */
  readonly virtualLimitMs?: number;
  /** True for tests on real processes and sockets: no simulated world, real time. */
  readonly realTime?: boolean;
  /**
   * Whether the grader runs it with no other test beside it. Default: real-time tests do (another test's CPU would
   * change their timing); one whose limits are seconds above what it needs can say false and share the cores.
   */
  readonly alone?: boolean;
  /**
   * True for a test that must load the code under test in the process that judges it (lab 5's tests whose spies
   * watch the server's own files, sockets or heap): the grader runs it in a test process started for it and ended
   * after it, so no other test shares a process with what that code may have changed.
   */
  readonly ownProcess?: boolean;
  /**
   * True for a test that runs the code under test only in processes of its own (real-time servers, lab 5's student
   * host) and reads nothing of ctx.impl but `dir`: the grader judges it in a test process that never loads that code.
   */
  readonly codeElsewhere?: boolean;
  /**
   * True for a generic attacker: random workloads under random fault schedules, judged only by what the lab
   * promises (`npm run attack` measures these alone against the lab's mutants).
   */
  readonly generic?: boolean;
  /**
   * The budgets the runner's monitors hold a simulated test to (live timers, retry pacing, re-sends): the lab's one
   * declaration in its suite.ts, attached to each of its tests by `monitored` (suite/monitors). Real-time tests
   * ignore it.
   */
  readonly monitors?: Monitors;
}

/**
 * What the runner watches in every simulated test of a lab, besides the test's own checks: each a rule of the
 * handout, declared once in the lab's suite.ts (suite/monitors says how each is judged).
 */
export interface Monitors {
  /** How many timers may still be live when a test ends: a bound that does not grow with the operations. */
  readonly timers: TimerBudget;
  /** How soon a sender may try again after a call failed, where the handout says. */
  readonly pacing?: readonly RetryPacing[];
  /** Calls the handout says must be sent again after they fail, until they get through. */
  readonly resend?: ResendPromise;
}

/** The live timers a test may end with: so many per server started and per call still in flight, plus the tester's. */
export interface TimerBudget {
  /** Timers each server start may leave running (its loops: heartbeats, election timers, retries). */
  readonly perServer: number;
  /** Timers each RPC still in flight may hold (a write waiting for its quorum, a submit's leadership check). */
  readonly perCall: number;
  /**
   * The handout makes a killed server stop all its timers (lab 6's kill()): the per-server allowance counts only the
   * servers still running, not those the tester killed.
   */
  readonly killClearsTimers?: boolean;
  /** The lab's likely causes of timers that pile up, in its handout's terms (one sentence each, `;`-separated). */
  readonly causes: string;
}

/** A retry pacing the handout states: how long a sender waits after a call of its failed before trying again. */
export interface RetryPacing {
  /** The handout's words, quoted when the rule is broken. */
  readonly rule: string;
  /** The RPCs the rule is about ("KVServer.Put"); every RPC but `exceptMethods` when absent (a lab whose servers name their own). */
  readonly methods?: readonly string[];
  /** RPCs the rule is not about (the clients' calls, when `methods` is absent). */
  readonly exceptMethods?: readonly string[];
  /** What the calls are, for messages, when `methods` is absent: "server-to-server" unless said. */
  readonly callsAre?: string;
  /**
   * Every call carries arguments of its own (a message with a sequence number), so calls in flight side by side are
   * told apart by their arguments and judged too; otherwise a sender with several calls to one receiver in flight is
   * not judged (its calls could be taken for each other's retries).
   */
  readonly distinctCalls?: boolean;
  /** Only the calls of those whose arguments `args` accepts, `what` they are ("an empty KVNode.Replicate, a heartbeat"). */
  readonly only?: { readonly what: string; readonly args: (args: unknown) => boolean };
  /** Reply errors (the reply's `err`) that refuse a call the way a lost message does: a wait is due after them too. */
  readonly refusals?: readonly string[];
  /**
   * True when the wait is due only after one of `refusals`, not after a lost call: the handout's pause follows an
   * answer (lab 7's ErrWrongGroup), and a lost call is re-sent by a rule of its own.
   */
  readonly refusalsOnly?: boolean;
  /**
   * `each`: the same call sent again to the receiver it failed at waits after that failure. `round`: after the same
   * call failed at every receiver its sender calls, one after another, the next try waits. `answer`: the same call
   * sent again to a receiver that answered it (a heartbeat, a poll) waits after that answer.
   */
  readonly after: 'each' | 'round' | 'answer';
  /**
   * For an `each` rule: who a wait belongs to, from the sender's name, when a sender is one lane of someone who sends
   * through several (lab 7's clerk has an end of its own to each group): the same call sent again by them, to any
   * receiver, is the retry. Absent: the sender, and the retry goes to the receiver that failed.
   */
  readonly by?: (sender: string) => string;
  /** Every such retry waits at least this long after the failure (virtual ms) ... */
  readonly minWaitMs?: number;
  /** ... or, on average over a sender's retries to one receiver, at least this long (once there are `samples`). */
  readonly meanWaitMs?: number;
  /**
   * ... and, as the median of a sender's retries, at most this long (once there are `samples`): the handout's "a
   * little" pause, where a longer one only slows the service down (the median: a retry that comes back much later,
   * after the call went elsewhere, is no pause).
   */
  readonly maxMedianWaitMs?: number;
  /** Likely causes when the median wait is over `maxMedianWaitMs`, for a student. */
  readonly slowCauses?: string;
  /** How many retries of one sender to one receiver the mean needs before it is judged (default 20). */
  readonly samples?: number;
  /** Likely causes when it is broken, for a student. */
  readonly causes: string;
}

/** Calls that must be sent again after they fail: the same call to the same receiver, within a time. */
export interface ResendPromise {
  /** The handout's words, quoted when the rule is broken. */
  readonly rule: string;
  /** The RPCs the rule is about; every RPC but `exceptMethods` when absent (a lab whose servers name their own). */
  readonly methods?: readonly string[];
  /** RPCs the rule is not about (the clients' calls, when `methods` is absent). */
  readonly exceptMethods?: readonly string[];
  /** A failed call must be sent again (the same arguments, to the same receiver) within this many virtual ms. */
  readonly withinMs: number;
  /** Likely causes when it is broken, for a student. */
  readonly causes: string;
}

/** What a named test is worth and when a student meets it: its rubric entry, kept beside the test. */
export interface Scoring {
  /** Points awarded when the test passes. */
  readonly points: number;
  /** The handout's part after which a correct solution first passes the test (1-based); the kit checks the handout lists it there. */
  readonly part: number;
  /** Real time allowed for one run, seconds (default: the suite's defaultTimeoutSec, else the grader's 120). */
  readonly timeoutSec?: number;
}

/** One named test of a suite: its definition and its scoring. */
export type NamedTest<Impl> = TestDefinition<Impl> & Scoring;

/** A node module a lab's code may import when the grader runs it (`crypto` gives only `createHash`). */
export type NodeModuleName = 'net' | 'fs' | 'path' | 'crypto';

/** A lab's whole test suite. */
export interface LabSuite<Impl> {
  /** The lab's folder name, e.g. "lab2". */
  readonly lab: string;
  /** A human title, e.g. "Lab 2: versioned key/value server and lock". */
  readonly title: string;
  /** The files a student fills in (relative to the lab folder), which the solution folder also provides. */
  readonly implFiles: readonly string[];
  /** Loads the implementation from a folder holding `implFiles` (labN/ or solutions/labN/). */
  load(dir: string): Impl;
  /** Node modules the code under test may import in the grader's sandbox (lab 5: net, fs, path, crypto); none by default. */
  readonly nodeModules?: readonly NodeModuleName[];
  /** The named tests with their points, in the order they run; their points add up to the lab's total. */
  readonly tests: ReadonlyArray<NamedTest<Impl>>;
  /** Real time allowed per test when its scoring gives none, seconds (default: the grader's 120). */
  readonly defaultTimeoutSec?: number;
  /**
   * Earlier labs whose code this lab's code imports and runs (lab 7 runs on lab 6's Raft and lab 2's server): each
   * lab's folder beside the graded one (lab6/ beside lab7/, solutions/lab6/ beside solutions/lab7/) and the files
   * of it that are code under test. The grader loads those files as the student's code, like the lab's own.
   */
  readonly buildsOn?: ReadonlyArray<{ readonly lab: string; readonly files: readonly string[] }>;
  /** Points of handout parts whose tests are not written yet: the tests' points and these add up to 100. */
  readonly pointsToCome?: number;
}

/** How one test run ended. */
export type TestStatus = 'passed' | 'failed';

/**
 * Why a failed test failed, when the cause was the process rather than an assertion. `budget`: the grader's
 * --budget for the whole run was used up before the test could start or finish.
 */
export type CrashKind =
  | 'assertion'
  | 'error'
  | 'timeout'
  | 'exit'
  | 'uncaught'
  | 'unhandled-rejection'
  | 'out-of-memory'
  | 'out-of-disk'
  | 'virtual-time-limit'
  | 'deadlock'
  | 'budget';

/** The result of running one named test once. */
export interface TestOutcome {
  readonly name: string;
  readonly status: TestStatus;
  readonly seed: number;
  /** Real time spent, ms. */
  readonly realMs: number;
  /** Virtual time simulated, ms (0 for real-time tests). */
  readonly virtualMs: number;
  /** RPCs sent through labrpc. */
  readonly rpcs: number;
  /** Client operations performed. */
  readonly ops: number;
  /** Hash of the run's trace: two runs with the same seed have the same hash. */
  readonly traceHash: string;
  /** Failure message (empty when passed). */
  readonly message: string;
  /** What kind of failure. */
  readonly crash?: CrashKind;
  /** Log lines from the test. */
  readonly log: readonly string[];
  /** A self-contained HTML page showing the history that broke, if the test produced one. */
  readonly historyHtml?: string;
  /** What a run with recording on saw (a failing test's replay; see RunOptions.record). */
  readonly trace?: TraceData;
  /** The network's faults in a run with fault noting on (RunOptions.faults), in the order they happened. */
  readonly faults?: readonly AppliedFault[];
}
