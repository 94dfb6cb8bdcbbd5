/**
 * Records client operations with their call and return times, for the consistency checkers.
 *
 * Times come from `performance.now()`, which the simulated world replaces with its virtual clock, so a
 * recorded history uses virtual milliseconds inside a world and real ones outside.
 */
import type { Operation } from '../../checker/types';
import { World, recordedValue } from '../../world';

/**
 * The name of client `clientId` on a trace page (its lane) and in messages: "client 4". Harnesses give it as the
 * owner of the client's ends (Network.makeEnd), so that a lost message names the client as the page does.
 */
export function clientLane(clientId: number): string {
  return `client ${clientId}`;
}

/** A handle to an operation in progress, returned by `begin` and passed to `end`. */
export interface OpHandle {
  /** The operation's index in the history. */
  readonly index: number;
}

/** An operation being recorded; `done` becomes true at `end`. */
interface Slot<I, O> {
  op: Operation<I, O>;
  done: boolean;
  /** The operation's id in the world's trace, when recording. */
  traceId?: number;
}

/** What a history keeps: every operation, or only those still running (see HistoryRecorder's constructor). */
export type HistoryKeeps = 'all' | 'unfinished';

/** The slot an operation leaves behind in a history that keeps only unfinished operations. */
const FINISHED: Slot<never, never> = Object.freeze({ op: undefined as never, done: true });

/** Collects a history: call `begin` when a client sends a request and `end` when it gets the reply. */
export class HistoryRecorder<I, O> {
  private readonly slots: Array<Slot<I, O>> = [];
  private readonly clock: () => number;
  private readonly keeps: HistoryKeeps;

  /**
   * `clock` (default `performance.now()`, read at each call) gives the times. `keeps` 'unfinished' forgets each
   * operation as it ends, for a test that judges every answer itself and checks no history: what is still running
   * is kept for a stuck test's report, and `operations()` is refused. (Lab 1's appends return the value before them,
   * so a history of 75,000 of them kept every version of each key: 600 MB, the collector most of the test's time.)
   */
  constructor(clock: () => number = () => performance.now(), keeps: HistoryKeeps = 'all') {
    this.clock = clock;
    this.keeps = keeps;
  }

  /** Notes that `clientId` starts an operation with `input` now. Do not mutate `input` afterwards. */
  begin(clientId: number, input: I): OpHandle {
    const index = this.slots.length;
    const op: Operation<I, O> = { clientId, input, output: undefined, call: this.clock(), return: Infinity };
    const slot: Slot<I, O> = { op, done: false };
    this.slots.push(slot);
    const world = World.maybeCurrent();
    const rec = world?.recorder;
    if (world && rec) {
      // The clerk's calls from here on (and the timers it sets) are this client's.
      const lane = clientLane(clientId);
      world.enterLane(lane);
      slot.traceId = rec.id();
      rec.add({ k: 'op', t: op.call, id: slot.traceId, lane, input: recordedValue(input) });
    }
    return { index };
  }

  /** Notes that the operation of `handle` returned `output` now. Ending it twice is an error. */
  end(handle: OpHandle, output: O): void {
    const slot = this.slots[handle.index];
    if (!slot) throw new Error(`HistoryRecorder.end: no operation #${handle.index} was begun here`);
    if (slot.done)
      throw new Error(
        `HistoryRecorder.end: operation #${handle.index}${slot === FINISHED ? '' : ` (client ${slot.op.clientId})`} already ended`,
      );
    slot.done = true;
    slot.op.output = output;
    slot.op.return = Math.max(slot.op.call, this.clock());
    if (slot.traceId !== undefined)
      World.maybeCurrent()?.recorder?.add({
        k: 'ret',
        t: slot.op.return,
        id: slot.traceId,
        output: recordedValue(output),
      });
    if (this.keeps === 'unfinished') this.slots[handle.index] = FINISHED;
  }

  /** How many operations were begun (finished or not). */
  get count(): number {
    return this.slots.length;
  }

  /** How many operations have not ended (yet). */
  get pending(): number {
    return this.slots.reduce((n, s) => n + (s.done ? 0 : 1), 0);
  }

  /** The operations that have not ended, oldest first: who called, with what, and when. */
  inFlight(): Array<{ clientId: number; input: I; call: number }> {
    return this.slots
      .filter((s) => !s.done)
      .map((s) => ({ clientId: s.op.clientId, input: s.op.input, call: s.op.call }));
  }

  /** A snapshot of the history; operations that have not ended are pending (return = Infinity). */
  operations(): Operation<I, O>[] {
    if (this.keeps === 'unfinished')
      throw new Error(
        'HistoryRecorder.operations: this history keeps only unfinished operations (keeps: "unfinished")',
      );
    return this.slots.map((s) => ({ ...s.op }));
  }

  /** Forgets everything recorded so far. */
  clear(): void {
    this.slots.length = 0;
  }
}
