/**
 * Types shared by the consistency checkers, their models, the parsers and the history viewer.
 *
 * A history is an array of `Operation`s. Operation ids everywhere in results are indices into that array.
 */
import type { ShapeView } from './shapes';

/** One client operation as observed from outside: what was asked, what came back, and when. */
export interface Operation<I, O> {
  /** Which client issued it; one client's operations never overlap in time in a well-formed history. */
  clientId: number;
  /** What the client asked for. */
  input: I;
  /**
   * What came back. `undefined` means the result is not known (the client gave up or crashed); the model
   * must then accept any result. Outputs that are known must therefore never be `undefined` (use `null`).
   */
  output: O | undefined;
  /** When the client sent the request (any monotonic clock, e.g. virtual milliseconds or an event index). */
  call: number;
  /**
   * When the client received the reply. `Infinity` marks a pending operation (it never returned): it may or
   * may not have taken effect, at any moment after its call, and its `output` is ignored.
   */
  return: number;
}

/**
 * A sequential specification of an object. States are immutable values; `undefined` is reserved to mean
 * "this step is not allowed", so a state itself is never `undefined`.
 */
export interface Model<S extends {} | null, I, O> {
  /** A short name used in reports, e.g. "kv". */
  readonly name: string;
  /** The state before any operation. */
  init(): S;
  /**
   * Applies one operation: returns the state after it, or `undefined` if `output` is impossible from `state`.
   * `output === undefined` means the result is unknown: any result is acceptable, only the effect matters.
   * Must not mutate `state`; may return the same object when nothing changes.
   */
  step(state: S, input: I, output: O | undefined): S | undefined;
  /** State equality (defaults to `===`). Must agree with `hash`: equal states have equal hashes. */
  equal?(a: S, b: S): boolean;
  /** A 32-bit hash of a state; a good one makes the search's cache fast. */
  hash(state: S): number;
  /**
   * When present, operations with different keys never affect each other and `S` describes one key only:
   * the linearizability checker checks each key on its own (which is sound because linearizability is local).
   */
  partitionKey?(input: I): string;
  /**
   * Optional: true when this operation, with this output, never changes the state wherever it is legal (a
   * read; a write that failed). The search then places such an operation as soon as it is legal, without
   * trying alternatives, which makes read-heavy histories, and the failing ones above all, much faster.
   */
  readOnly?(input: I, output: O | undefined): boolean;
  /**
   * Optional: true when this operation, with this output, is legal in `state` and leaves it unchanged, and so in
   * every state that can follow it (a versioned put whose version has passed: versions only grow). The search places
   * such an operation as soon as it meets it, as it does a read-only one: a put that may have happened (ErrMaybe)
   * need not be tried at every later moment once it can no longer take effect.
   */
  inert?(state: S, input: I, output: O | undefined): boolean;
  /** Human-readable text for one operation, e.g. `get("a") → "xy"`. `output` undefined = unknown result. */
  describeOperation(input: I, output: O | undefined): string;
  /** Human-readable text for a state, e.g. `"xy"`. */
  describeState(state: S): string;
  /**
   * Optional: how operations read and write string values, so that a failure's explanation can name its shape
   * (a write applied twice, a value no write produced, a stale read, a lost acknowledged write).
   */
  shapes?: ShapeView<I, O>;
}

/** The answer of a check. `unknown` means the time budget ran out before an answer was found. */
export type Verdict = 'ok' | 'illegal' | 'unknown';

/** Which consistency condition was checked. */
export type CheckMode = 'linearizable' | 'sequential';

/** How one group of operations (one key, or the whole history) fared. */
export interface PartitionResult {
  /** The partition key, or `null` when the history was checked as a whole. */
  key: string | null;
  verdict: Verdict;
  /** Indices of this partition's operations in the checked history, in call order. */
  ops: number[];
  /**
   * A legal order of operations. When `ok`: every completed operation plus the pending ones that took effect
   * (a pending operation left out is one that never took effect). Otherwise: the longest legal prefix found.
   */
  linearization: number[];
  /** When not `ok`: the operation(s) that could not be placed next after `linearization`. */
  unplaced: number[];
  /**
   * Why an `unknown` partition has no answer: the time budget ran out (`timeout`), its search used up its step
   * budget (`steps`), or the check stopped early because another partition was already illegal (`stopped`).
   */
  unfinished?: Unfinished;
  /** Search steps this partition's check took (the same on every machine for the same history and options). */
  steps: number;
}

/** Why a partition was left undecided (see PartitionResult.unfinished). */
export type Unfinished = 'timeout' | 'steps' | 'stopped';

/** The result of checking a history. */
export interface CheckResult {
  /** `illegal` if any partition is illegal, else `unknown` if any ran out of time or steps, else `ok`. */
  verdict: Verdict;
  mode: CheckMode;
  /** One entry per partition (a single entry with key `null` when the history is not partitioned). */
  partitions: PartitionResult[];
  /** All operations that could not be placed, over the illegal partitions (the culprits to show). */
  unplaced: number[];
  /** Real time spent, in milliseconds. */
  elapsedMs: number;
  /** Search steps taken over every partition: a measure of the history's difficulty that no machine changes. */
  steps: number;
}

/** Options of a check. */
export interface CheckOptions {
  /** Real-time budget for the whole check in milliseconds (default 10 000); on expiry the verdict is `unknown`. */
  timeoutMs?: number;
  /**
   * Most search steps any one partition may take (default: no limit); past it that partition is `unknown`
   * (`unfinished: 'steps'`). Unlike the time budget, it gives the same verdict on every machine and at any load.
   */
  stepBudget?: number;
  /** Which condition to check (default `linearizable`). */
  mode?: CheckMode;
  /**
   * Keep checking the other partitions after one is found illegal (default false: stop, since the verdict
   * is settled and a hard partition could use up the whole budget).
   */
  allPartitions?: boolean;
}
