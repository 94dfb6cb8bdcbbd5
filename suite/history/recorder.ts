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

/** Collects a history: call `begin` when a client sends a request and `end` when it gets the reply. */
export class HistoryRecorder<I, O> {
  private readonly slots: Array<Slot<I, O>> = [];
  private readonly clock: () => number;

  /** `clock` (default `performance.now()`, read at each call) gives the times. */
  constructor(clock: () => number = () => performance.now()) {
    this.clock = clock;
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
      throw new Error(`HistoryRecorder.end: operation #${handle.index} (client ${slot.op.clientId}) already ended`);
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
    return this.slots.map((s) => ({ ...s.op }));
  }

  /** Forgets everything recorded so far. */
  clear(): void {
    this.slots.length = 0;
  }
}
